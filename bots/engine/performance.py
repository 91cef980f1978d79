"""Performance figures of a trade list and an equity curve: one definition for backtests and for the
live performance of a subscription (whose trades come from real fills via `round_trips`).

The keys of `figures()` are the names the API exposes. Definitions:
  total_pnl            realized PnL of the closed trades, net of fees (an open position is not in it;
                       it is in final_equity and the equity curve)
  total_pnl_percent    total_pnl / initial_capital * 100
  win_rate             winning / total closed trades * 100; a trade at exactly 0 neither wins nor loses
  average_trade_duration  mean of exit_time - entry_time, in seconds
  max_drawdown         largest fall from a running peak of the equity curve, percent of that peak (positive)
  sharpe_ratio         mean / standard deviation (ddof=1) of the curve's per-point returns, times
                       sqrt(periods per year); crypto trades all year, so a year is 365 days. 0 when there are
                       fewer than 2 returns or they do not vary. No risk-free rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MS_PER_YEAR = 365 * 24 * 3600 * 1000
MAX_CURVE_POINTS = 2000
MONEY_DP = 8

FIGURE_KEYS = (
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    "total_pnl",
    "total_pnl_percent",
    "average_trade_duration",
    "max_drawdown",
    "sharpe_ratio",
    "final_equity",
    "equity_curve",
)


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A finished long round trip. Prices are average fill prices; fees are in quote; pnl is net of fees."""

    entry_time: int
    exit_time: int
    amount: float
    entry_price: float
    exit_price: float
    fees: float
    pnl: float
    side: str = "long"

    @property
    def duration_seconds(self) -> float:
        return (self.exit_time - self.entry_time) / 1000.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _money(value: float) -> float:
    return round(float(value), MONEY_DP)


def periods_per_year_from(timestamps: np.ndarray) -> float:
    """Points per year implied by the median spacing of `timestamps` (ms); 0 when it cannot be told."""
    if len(timestamps) < 2:
        return 0.0
    step = float(np.median(np.diff(timestamps)))
    return MS_PER_YEAR / step if step > 0 else 0.0


def downsample_curve(timestamps: np.ndarray, equity: np.ndarray, max_points: int) -> list[list[float]]:
    """At most `max_points` points of a curve, keeping the first, the last, and the lowest and highest point
    of each of (max_points - 2) / 2 equal slices, so peaks and drawdowns survive on a chart."""
    n = len(equity)
    if n <= max_points:
        keep = np.arange(n)
    else:
        buckets = max(1, (max_points - 2) // 2)
        edges = np.linspace(0, n, buckets + 1).astype(np.int64)
        picks = [0, n - 1]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            if hi > lo:
                part = equity[lo:hi]
                picks.append(lo + int(np.argmin(part)))
                picks.append(lo + int(np.argmax(part)))
        keep = np.unique(np.asarray(picks, dtype=np.int64))
    return [[int(timestamps[i]), _money(equity[i])] for i in keep]


def max_drawdown_percent(equity: np.ndarray) -> float:
    if len(equity) == 0:
        return 0.0
    peaks = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdowns = np.where(peaks > 0, (peaks - equity) / peaks, 0.0)
    return float(drawdowns.max()) * 100.0


def sharpe(equity: np.ndarray, periods_per_year: float) -> float:
    if len(equity) < 3 or periods_per_year <= 0:
        return 0.0
    previous = equity[:-1]
    if (previous <= 0).any():
        # a wiped-out account has no meaningful return series
        return 0.0
    rets = equity[1:] / previous - 1.0
    std = float(rets.std(ddof=1))
    # equal returns can leave rounding noise in the std: treat it as no variance
    if not math.isfinite(std) or std <= 1e-12 * max(1.0, float(np.abs(rets).max())):
        return 0.0
    return float(rets.mean()) / std * math.sqrt(periods_per_year)


def figures(
    *,
    trades: Sequence[ClosedTrade],
    equity_curve: Sequence[tuple[int, float]] | Sequence[Sequence[float]],
    initial_capital: float,
    periods_per_year: float | None = None,
    max_points: int | None = MAX_CURVE_POINTS,
) -> dict[str, Any]:
    """The performance figures (see the module docstring). The curve in the answer is downsampled to
    `max_points` (None: all of it); every figure is computed on the full curve."""
    if equity_curve:
        curve = np.asarray(equity_curve, dtype="float64")
        timestamps, equity = curve[:, 0].astype("int64"), curve[:, 1]
    else:
        timestamps, equity = np.array([], dtype="int64"), np.array([], dtype="float64")
    return figures_from_arrays(
        trades=trades,
        timestamps=timestamps,
        equity=equity,
        initial_capital=initial_capital,
        periods_per_year=periods_per_year,
        max_points=max_points,
    )


def figures_from_arrays(
    *,
    trades: Sequence[ClosedTrade],
    timestamps: np.ndarray,
    equity: np.ndarray,
    initial_capital: float,
    periods_per_year: float | None = None,
    max_points: int | None = MAX_CURVE_POINTS,
) -> dict[str, Any]:
    """`figures()` on numpy arrays, so a million-point backtest curve never becomes Python tuples."""
    if initial_capital <= 0:
        raise ValueError("initial_capital must be positive")
    total = len(trades)
    pnls = np.array([t.pnl for t in trades], dtype="float64")
    winning = int((pnls > 0).sum())
    losing = int((pnls < 0).sum())
    total_pnl = float(pnls.sum()) if total else 0.0
    durations = [t.duration_seconds for t in trades]
    if periods_per_year is None:
        periods_per_year = periods_per_year_from(timestamps)
    final_equity = float(equity[-1]) if len(equity) else initial_capital + total_pnl
    curve = downsample_curve(timestamps, equity, max_points if max_points else len(equity))
    return {
        "total_trades": total,
        "winning_trades": winning,
        "losing_trades": losing,
        "win_rate": round(winning / total * 100.0, 2) if total else 0.0,
        "total_pnl": _money(total_pnl),
        "total_pnl_percent": round(total_pnl / initial_capital * 100.0, 4),
        "average_trade_duration": round(sum(durations) / total, 3) if total else 0.0,
        "max_drawdown": round(max_drawdown_percent(equity), 4),
        "sharpe_ratio": round(sharpe(equity, periods_per_year), 4),
        "final_equity": _money(final_equity),
        "equity_curve": curve,
    }


# -- live fills -> round trips ------------------------------------------------------------------


def _fill_value(fill: Mapping[str, Any], key: str) -> Any:
    try:
        return fill[key]
    except KeyError:
        raise ValueError(f"a fill needs '{key}' (time, side, amount, price, fee): got {sorted(fill)}") from None


def _replay(fills: Iterable[Mapping[str, Any]], dust: float) -> tuple[list[ClosedTrade], dict[str, Any] | None]:
    ordered = sorted(fills, key=lambda f: int(_fill_value(f, "time")))  # stable: equal times keep their order
    trades: list[ClosedTrade] = []
    qty = cost = 0.0  # open quantity and its average-cost basis (quote)
    bought = buy_value = sold = sell_value = cost_sold = fees = 0.0  # totals of the current round trip
    entry_time = 0
    for fill in ordered:
        side = str(_fill_value(fill, "side")).lower()
        amount = float(_fill_value(fill, "amount"))
        price = float(_fill_value(fill, "price"))
        fee = float(fill.get("fee") or 0.0)
        time = int(fill["time"])
        if amount <= 0:
            continue
        if side == "buy":
            if qty == 0.0:
                entry_time = time
                bought = buy_value = sold = sell_value = cost_sold = fees = 0.0
            qty += amount
            cost += amount * price
            bought += amount
            buy_value += amount * price
            fees += fee
        elif side == "sell":
            if qty == 0.0:
                continue  # long-only: selling what was held before the record starts is not a round trip
            part = min(amount, qty)
            basis = cost * (part / qty)  # average cost: the basis leaves in proportion to the quantity
            cost -= basis
            cost_sold += basis
            qty -= part
            sold += part
            sell_value += part * price
            fees += fee * (part / amount)  # the fee of an oversell beyond the position is not ours
            if qty <= dust * bought:
                # back to (dust-)flat: the round trip closes; average prices over all its fills
                entry_price = buy_value / bought
                exit_price = sell_value / sold
                pnl = sell_value - cost_sold - fees
                trades.append(
                    ClosedTrade(
                        entry_time=entry_time,
                        exit_time=time,
                        amount=sold,
                        entry_price=entry_price,
                        exit_price=exit_price,
                        fees=fees,
                        pnl=pnl,
                    )
                )
                qty = cost = 0.0
        else:
            raise ValueError(f"a fill side must be 'buy' or 'sell', got {side!r}")
    open_position = None
    if qty > 0.0:
        open_position = {
            "entry_time": entry_time,
            "amount": qty,
            "entry_price": cost / qty,
            "fees": fees,
            "realized_pnl": sell_value - cost_sold,
        }
    return trades, open_position


def round_trips(fills: Iterable[Mapping[str, Any]], *, dust: float = 1e-6) -> list[ClosedTrade]:
    """Long-only round trips from chronological fills ``{"time": ms, "side": "buy"|"sell", "amount", "price",
    "fee": quote}`` (numbers or Decimals).

    Average-cost matching: buys add to the position at their price, sells (partial ones too) take out
    quantity at the running average cost. A round trip closes when the position is back to zero, or to dust
    (at most `dust` times the quantity bought in the trip: exchanges' amount precision leaves crumbs). Its
    amount is the quantity sold, its prices the average buy and sell prices, its fees all fees of its fills,
    its pnl sells - average cost of what was sold - fees. A sell while flat (coins held before the record) is ignored.
    """
    return _replay(fills, dust)[0]


def open_position_from_fills(fills: Iterable[Mapping[str, Any]], *, dust: float = 1e-6) -> dict[str, Any] | None:
    """The position left open after `fills` (amount, average entry price, fees so far), or None when flat."""
    return _replay(fills, dust)[1]
