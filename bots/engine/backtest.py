"""Backtests: run a bot over historical candles, long or flat, with fees and slippage.

Execution model (the same for both paths below):
  * the bot's answer for candle i is acted on at candle i's close;
  * BUY while flat spends `position_size` x cash, fee included: notional = position_size * cash / (1 + fee),
    units = notional / fill price (fractional), fee = notional * fee. Fill price = close * (1 + slippage);
  * SELL while long sells every unit at close * (1 - slippage), fee = proceeds * fee;
  * BUY while long and SELL while flat are ignored;
  * equity at each candle = cash + units * close (marked to market without exit costs). A position
    still open after the last candle is reported in `open_position`, not as a closed trade.

Two ways to get the bot's answers, giving identical trades:
  * vectorized: `bot.signals(candles)` returns the whole +1/-1/0 array at once; the simulation then runs
    on numpy arrays, with Python work only per trade;
  * candle by candle (bots without `signals()`): `analyze_market` is called for every candle from the
    `warmup`-th on, with a window of the last `bot.required_history() + max(100, bot.required_history())`
    candles (index reset to 0..len-1). The margin is twice what the bot says it needs (at least 100
    extra) so a bot that under-states its warmup still sees enough history; the cost per candle stays
    bounded whatever the length of the backtest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bots.sdk.actions import Action
from bots.sdk.base import CustomBot
from bots.sdk.candles import COLUMNS

from .performance import MAX_CURVE_POINTS, ClosedTrade, downsample_curve, figures_from_arrays

PROGRESS_CALLS = 100


@dataclass
class BacktestResult:
    trades: list[ClosedTrade]
    equity_curve: list[tuple[int, float]]  # downsampled to at most MAX_CURVE_POINTS
    figures: dict[str, Any]
    open_position: dict[str, Any] | None
    candles: int
    path: str  # "vectorized" or "candle"
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "figures": self.figures,
            "trades": [t.to_json() for t in self.trades],
            "open_position": self.open_position,
            "candles": self.candles,
            "path": self.path,
            "settings": self.settings,
        }


def candle_window(bot: CustomBot) -> int:
    """Candles handed to `analyze_market` on the candle-by-candle path (see the module docstring)."""
    need = bot.required_history()
    return need + max(100, need)


def run_backtest(
    *,
    bot: CustomBot,
    candles: pd.DataFrame,
    initial_capital: float = 10_000,
    fee: float = 0.001,
    slippage: float = 0.0,
    position_size: float = 1.0,
    progress: Callable[[float], None] | None = None,
    vectorized: bool = True,
) -> BacktestResult:
    """Backtest `bot` over `candles` (the candle frame contract). `vectorized=False` forces the
    candle-by-candle path even for a bot with `signals()` (tests compare the two)."""
    _check_settings(initial_capital=initial_capital, fee=fee, slippage=slippage, position_size=position_size)
    missing = [c for c in COLUMNS if c not in candles.columns]
    if missing:
        raise ValueError(f"candles are missing column(s) {', '.join(missing)}")
    if len(candles) == 0:
        raise ValueError("no candles to backtest")
    report = _Progress(progress)

    signal = None
    path = "candle"
    if vectorized:
        series = bot.signals(candles)
        if series is not None:
            signal = _check_signals(series, len(candles))
            path = "vectorized"
            report(0.5)
    if signal is None:
        signal = _signals_candle_by_candle(bot, candles, lambda f: report(f * 0.95))

    close = candles["close"].to_numpy(dtype="float64")
    timestamps = candles["timestamp"].to_numpy(dtype="int64")
    trades, equity, open_position = _simulate(
        signal=signal,
        close=close,
        timestamps=timestamps,
        initial_capital=float(initial_capital),
        fee=float(fee),
        slippage=float(slippage),
        position_size=float(position_size),
    )
    result_figures = figures_from_arrays(
        trades=trades, timestamps=timestamps, equity=equity, initial_capital=float(initial_capital)
    )
    curve = [(int(ts), float(eq)) for ts, eq in downsample_curve(timestamps, equity, MAX_CURVE_POINTS)]
    report(1.0)
    return BacktestResult(
        trades=trades,
        equity_curve=curve,
        figures=result_figures,
        open_position=open_position,
        candles=len(candles),
        path=path,
        settings={
            "initial_capital": float(initial_capital),
            "fee": float(fee),
            "slippage": float(slippage),
            "position_size": float(position_size),
        },
    )


class _Progress:
    """Calls the callback at most about PROGRESS_CALLS times, with non-decreasing fractions."""

    def __init__(self, callback: Callable[[float], None] | None) -> None:
        self.callback = callback
        self.last = -1.0

    def __call__(self, fraction: float) -> None:
        if self.callback is None:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        due = fraction >= 1.0 or fraction - self.last >= 1.0 / PROGRESS_CALLS
        if due and fraction > self.last:
            self.last = fraction
            self.callback(fraction)


def _check_settings(*, initial_capital: float, fee: float, slippage: float, position_size: float) -> None:
    if not (math.isfinite(initial_capital) and initial_capital > 0):
        raise ValueError("initial_capital must be a positive number")
    if not (0 <= fee < 1):
        raise ValueError("fee must be a fraction in [0, 1), e.g. 0.001 for 0.1 %")
    if not (0 <= slippage < 1):
        raise ValueError("slippage must be a fraction in [0, 1), e.g. 0.0005 for 0.05 %")
    if not (0 < position_size <= 1):
        raise ValueError("position_size must be a fraction of equity in (0, 1]")


def _check_signals(series: pd.Series, n: int) -> np.ndarray:
    values = np.asarray(series)
    if len(values) != n:
        raise ValueError(f"signals() returned {len(values)} values for {n} candles")
    values = np.nan_to_num(values.astype("float64"), nan=0.0)
    if not np.isin(values, (-1.0, 0.0, 1.0)).all():
        raise ValueError("signals() must contain only +1 (BUY), -1 (SELL) and 0 (HOLD)")
    return values.astype("int8")


def _signals_candle_by_candle(bot: CustomBot, candles: pd.DataFrame, progress: Callable[[float], None]) -> np.ndarray:
    n = len(candles)
    window = candle_window(bot)
    first = max(int(bot.warmup), 1) - 1  # before this the bot cannot answer anything but HOLD
    frame = candles[list(COLUMNS)].reset_index(drop=True)
    signal = np.zeros(n, dtype="int8")
    step = max(1, n // PROGRESS_CALLS)
    for i in range(first, n):
        view = frame.iloc[max(0, i - window + 1) : i + 1].reset_index(drop=True)
        action = bot.analyze_market(view)
        if not isinstance(action, Action):
            raise TypeError(f"analyze_market must return an Action, got {type(action).__name__}")
        signal[i] = action.signal
        if i % step == 0:
            progress(i / n)
    return signal


def _simulate(
    *,
    signal: np.ndarray,
    close: np.ndarray,
    timestamps: np.ndarray,
    initial_capital: float,
    fee: float,
    slippage: float,
    position_size: float,
) -> tuple[list[ClosedTrade], np.ndarray, dict[str, Any] | None]:
    n = len(close)
    # long-or-flat state: long after a BUY until the next SELL. The last non-HOLD answer decides it.
    idx = np.where(signal != 0, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    long = np.zeros(n, dtype=bool)
    has = idx >= 0
    long[has] = signal[idx[has]] == 1
    change = np.diff(long.astype("int8"), prepend=np.int8(0))
    entries = np.flatnonzero(change == 1)
    exits = np.flatnonzero(change == -1)

    trades: list[ClosedTrade] = []
    cash = initial_capital
    # cash and units are piecewise constant: one level per event (entry or exit), looked up per candle
    event_index: list[int] = []
    cash_levels: list[float] = [cash]
    unit_levels: list[float] = [0.0]
    open_position = None
    for k, entry in enumerate(entries):
        buy_price = close[entry] * (1.0 + slippage)
        notional = position_size * cash / (1.0 + fee)
        units = notional / buy_price
        entry_fee = notional * fee
        cash -= notional + entry_fee
        event_index.append(int(entry))
        cash_levels.append(cash)
        unit_levels.append(units)
        if k < len(exits):
            exit_ = int(exits[k])
            sell_price = close[exit_] * (1.0 - slippage)
            proceeds = units * sell_price
            exit_fee = proceeds * fee
            cash += proceeds - exit_fee
            event_index.append(exit_)
            cash_levels.append(cash)
            unit_levels.append(0.0)
            trades.append(
                ClosedTrade(
                    entry_time=int(timestamps[entry]),
                    exit_time=int(timestamps[exit_]),
                    amount=float(units),
                    entry_price=float(buy_price),
                    exit_price=float(sell_price),
                    fees=float(entry_fee + exit_fee),
                    pnl=float(proceeds - notional - entry_fee - exit_fee),
                )
            )
        else:
            last = float(close[-1])
            open_position = {
                "side": "long",
                "entry_time": int(timestamps[entry]),
                "amount": float(units),
                "entry_price": float(buy_price),
                "fees": float(entry_fee),
                "mark_price": last,
                "unrealized_pnl": float(units * (last - buy_price) - entry_fee),
            }
    level = np.searchsorted(np.asarray(event_index, dtype=np.int64), np.arange(n), side="right")
    equity = np.asarray(cash_levels)[level] + np.asarray(unit_levels)[level] * close
    return trades, equity, open_position
