"""The built-in technical bots: SMA crossover, RSI, MACD and Bollinger bands.

Each computes its indicators over the whole frame at once (`signals()`, the vectorized path) and
`analyze_market()` takes the last row of the same computation, so row i of `signals(candles)` is
exactly `analyze_market(candles.iloc[:i + 1])`.

Crossings: "a crosses above b" on candle i means a > b on candle i and a was not above b on candle
i-1 (both candles with valid values). Differences smaller than 1e-9 of the price (or 1e-7 RSI
points) count as "equal": floating-point noise must never decide a trade, and a backtest that
feeds the bot a shorter window than the whole history must reach the same decisions.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import features
from ..actions import Action
from ..base import SCHEMA_DIALECT, CustomBot

RELATIVE_TOLERANCE = 1e-9
RSI_TOLERANCE = 1e-7
# An exponential average forgets its seed by (1 - alpha) per candle; after this much remaining
# influence a window and the whole history agree far inside RELATIVE_TOLERANCE.
_SEED_FORGOTTEN = 1e-15


def ema_memory(alpha: float) -> int:
    """Candles after which an exponential average's seed weighs less than 1e-15."""
    return math.ceil(math.log(_SEED_FORGOTTEN) / math.log(1.0 - alpha))


def crossings(diff: np.ndarray, tolerance: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(crossed_above_zero, crossed_below_zero) per row of `diff` with a dead band of +/- tolerance."""
    above = diff > tolerance
    below = diff < -tolerance
    prev_valid = np.zeros(len(diff), dtype=bool)
    prev_valid[1:] = ~np.isnan(diff[:-1])
    up = np.zeros(len(diff), dtype=bool)
    down = np.zeros(len(diff), dtype=bool)
    up[1:] = above[1:] & ~above[:-1]
    down[1:] = below[1:] & ~below[:-1]
    return up & prev_valid, down & prev_valid


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.6g}"


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA_DIALECT, "type": "object", "properties": properties, "additionalProperties": False}


class TechnicalBot(CustomBot):
    """Shared frame: `_compute` returns the signal array and the indicator columns used in reasons."""

    key: ClassVar[str] = ""
    bot_type: ClassVar[str] = "TECHNICAL"

    def _compute(self, candles: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _reason(self, signal: int, values: dict[str, float]) -> str:
        raise NotImplementedError

    def signals(self, candles: pd.DataFrame) -> pd.Series:
        signal, _ = self._compute(candles)
        # no answer before warmup, whatever the indicator math would allow
        signal[: max(self.warmup - 1, 0)] = 0
        return pd.Series(signal, index=candles.index, dtype="int8")

    def analyze_market(self, candles: pd.DataFrame) -> Action:
        n = len(candles)
        price = float(candles["close"].iloc[-1]) if n else None
        if n < self.warmup:
            return Action.hold(f"not enough candles: {n} of {self.warmup}", price=price)
        signal, columns = self._compute(candles)
        last = int(signal[-1])
        reason = self._reason(last, {name: float(col[-1]) for name, col in columns.items()})
        if last > 0:
            return Action.buy(price, reason)
        if last < 0:
            return Action.sell(price, reason)
        return Action.hold(reason, price=price)


class SmaCrossover(TechnicalBot):
    """BUY on the candle where the fast SMA crosses above the slow one, SELL where it crosses below."""

    key = "sma_crossover"
    name = "SMA crossover"
    description = "Buys when the fast simple moving average crosses above the slow one, sells on the cross below."
    strategy_schema = _schema(
        {
            "fast": {"type": "integer", "minimum": 1, "default": 10, "description": "fast SMA length (candles)"},
            "slow": {"type": "integer", "minimum": 2, "default": 50, "description": "slow SMA length (candles)"},
        }
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        # the slow SMA on this candle and the one before
        self.warmup = self.config["slow"] + 1
        self.lookback = self.warmup

    def check_config(self, config: dict[str, Any]) -> None:
        if config["fast"] >= config["slow"]:
            raise ValueError(f"fast ({config['fast']}) must be shorter than slow ({config['slow']})")

    def _compute(self, candles: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        close = candles["close"]
        fast = features.sma(close, self.config["fast"]).to_numpy()
        slow = features.sma(close, self.config["slow"]).to_numpy()
        up, down = crossings(fast - slow, RELATIVE_TOLERANCE * np.abs(slow))
        signal = np.where(up, 1, np.where(down, -1, 0)).astype("int8")
        return signal, {"fast": fast, "slow": slow}

    def _reason(self, signal: int, values: dict[str, float]) -> str:
        fast = f"SMA{self.config['fast']} {_fmt(values['fast'])}"
        slow = f"SMA{self.config['slow']} {_fmt(values['slow'])}"
        if signal > 0:
            return f"{fast} crossed above {slow}"
        if signal < 0:
            return f"{fast} crossed below {slow}"
        side = "above" if values["fast"] > values["slow"] else "below" if values["fast"] < values["slow"] else "at"
        return f"{fast} {side} {slow}, no cross"


class RsiBot(TechnicalBot):
    """BUY when RSI crosses up through `oversold`, SELL when it crosses down through `overbought`."""

    key = "rsi"
    name = "RSI"
    description = "Buys when Wilder's RSI climbs back out of oversold, sells when it falls back out of overbought."
    strategy_schema = _schema(
        {
            "period": {"type": "integer", "minimum": 2, "default": 14},
            "oversold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "default": 30},
            "overbought": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "default": 70},
        }
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        # RSI starts at row `period`; a cross needs it on this candle and the one before
        self.warmup = self.config["period"] + 2
        self.lookback = self.warmup + ema_memory(1.0 / self.config["period"])

    def check_config(self, config: dict[str, Any]) -> None:
        if config["oversold"] >= config["overbought"]:
            raise ValueError(f"oversold ({config['oversold']}) must be below overbought ({config['overbought']})")

    def _compute(self, candles: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        value = features.rsi(candles["close"], self.config["period"]).to_numpy()
        up, _ = crossings(value - self.config["oversold"], RSI_TOLERANCE)
        _, down = crossings(value - self.config["overbought"], RSI_TOLERANCE)
        signal = np.where(up, 1, np.where(down, -1, 0)).astype("int8")
        return signal, {"rsi": value}

    def _reason(self, signal: int, values: dict[str, float]) -> str:
        rsi = f"RSI{self.config['period']} {values['rsi']:.1f}"
        if signal > 0:
            return f"{rsi} crossed up through {self.config['oversold']:g} (oversold)"
        if signal < 0:
            return f"{rsi} crossed down through {self.config['overbought']:g} (overbought)"
        if values["rsi"] < self.config["oversold"]:
            return f"{rsi} below {self.config['oversold']:g} (oversold), no cross"
        if values["rsi"] > self.config["overbought"]:
            return f"{rsi} above {self.config['overbought']:g} (overbought), no cross"
        return f"{rsi} between {self.config['oversold']:g} and {self.config['overbought']:g}, no cross"


class MacdBot(TechnicalBot):
    """BUY when the MACD line crosses above its signal line, SELL when it crosses below."""

    key = "macd"
    name = "MACD"
    description = "Buys when the MACD line crosses above its signal line, sells when it crosses below."
    strategy_schema = _schema(
        {
            "fast": {"type": "integer", "minimum": 1, "default": 12},
            "slow": {"type": "integer", "minimum": 2, "default": 26},
            "signal": {"type": "integer", "minimum": 1, "default": 9},
        }
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        slow, signal = self.config["slow"], self.config["signal"]
        # the signal line starts at row slow+signal-2; a cross needs it on this candle and the one before
        self.warmup = slow + signal
        self.lookback = self.warmup + ema_memory(2.0 / (slow + 1)) + ema_memory(2.0 / (signal + 1))

    def check_config(self, config: dict[str, Any]) -> None:
        if config["fast"] >= config["slow"]:
            raise ValueError(f"fast ({config['fast']}) must be shorter than slow ({config['slow']})")

    def _compute(self, candles: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        close = candles["close"].to_numpy(dtype="float64")
        line, signal_line = features.macd_arrays(close, self.config["fast"], self.config["slow"], self.config["signal"])
        tolerance = RELATIVE_TOLERANCE * close
        up, down = crossings(line - signal_line, tolerance)
        signal = np.where(up, 1, np.where(down, -1, 0)).astype("int8")
        return signal, {"macd": line, "signal": signal_line}

    def _reason(self, signal: int, values: dict[str, float]) -> str:
        line, sig = _fmt(values["macd"]), _fmt(values["signal"])
        if signal > 0:
            return f"MACD {line} crossed above signal {sig}"
        if signal < 0:
            return f"MACD {line} crossed below signal {sig}"
        return f"MACD {line}, signal {sig}, no cross"


class BollingerBot(TechnicalBot):
    """Mean reversion on Bollinger bands (SMA `window` +/- `num_std` population standard deviations).

    BUY when the close crosses back above the lower band (it was at or below it on the previous candle).
    SELL when the close crosses above the upper band (take the stretch) or falls back below the mid
    band (the rebound failed). If one candle jumps from below the lower band to above the upper band,
    SELL wins: the close is then overbought, not oversold.
    """

    key = "bollinger"
    name = "Bollinger bands"
    description = "Buys a close back above the lower band; sells above the upper band or back below the mid band."
    strategy_schema = _schema(
        {
            "window": {"type": "integer", "minimum": 2, "default": 20},
            "num_std": {"type": "number", "exclusiveMinimum": 0, "default": 2.0},
        }
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.warmup = self.config["window"] + 1
        self.lookback = self.warmup

    def _compute(self, candles: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        close = candles["close"].to_numpy(dtype="float64")
        mid, upper, lower = features.bollinger_arrays(candles["close"], self.config["window"], self.config["num_std"])
        tolerance = RELATIVE_TOLERANCE * close
        back_above_lower, _ = crossings(close - lower, tolerance)
        above_upper, _ = crossings(close - upper, tolerance)
        _, below_mid = crossings(close - mid, tolerance)
        sell = above_upper | below_mid
        signal = np.where(sell, -1, np.where(back_above_lower, 1, 0)).astype("int8")
        return signal, {"close": close, "mid": mid, "upper": upper, "lower": lower, "above_upper": above_upper}

    def _reason(self, signal: int, values: dict[str, float]) -> str:
        close = _fmt(values["close"])
        if signal > 0:
            return f"close {close} crossed back above the lower band {_fmt(values['lower'])}"
        if signal < 0 and values["above_upper"]:
            return f"close {close} crossed above the upper band {_fmt(values['upper'])}"
        if signal < 0:
            return f"close {close} fell back below the mid band {_fmt(values['mid'])}"
        where = (
            "below the lower band"
            if values["close"] < values["lower"]
            else "above the upper band"
            if values["close"] > values["upper"]
            else "within the bands"
        )
        bands = f"{_fmt(values['lower'])} / {_fmt(values['mid'])} / {_fmt(values['upper'])}"
        return f"close {close} {where} {bands}, no cross"
