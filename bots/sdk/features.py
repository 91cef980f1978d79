"""Indicator and feature helpers on pandas Series / candle frames.

Every helper is causal: the value at row i uses rows 0..i only, and computing over a prefix of a
series gives exactly the values of the full series on that prefix. That is what lets a bot's
vectorized `signals()` agree with `analyze_market()` on `candles.iloc[:i + 1]`.

Rows without enough history are NaN (never dropped), so results stay aligned with the candles.
Conventions (stated because libraries differ):
  * `ema` is seeded with the simple mean of its first `span` values (as TA-Lib), then
    ``ema = alpha * x + (1 - alpha) * ema_prev`` with ``alpha = 2 / (span + 1)``.
  * `rsi` and `atr` use Wilder's smoothing (alpha = 1 / period), seeded the same way.
  * `bollinger` and `zscore` use the population standard deviation (ddof=0), as Bollinger did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_WINDOWS = (5, 10, 20)


def _as_float_series(values: pd.Series | Sequence[float] | np.ndarray) -> pd.Series:
    if isinstance(values, pd.Series):
        # astype costs more than the indicator on a short window: skip it when already float64
        return values if values.dtype == np.float64 else values.astype("float64")
    return pd.Series(np.asarray(values, dtype="float64"))


def _recursive_mean(arr: np.ndarray, alpha: float, seed: int) -> np.ndarray:
    # numpy in, numpy out: on the short windows of a live evaluation pandas' per-call overhead
    # costs more than the arithmetic
    out = np.full(len(arr), np.nan)
    valid = np.flatnonzero(~np.isnan(arr))
    if len(valid) == 0:
        return out
    first = int(valid[0])
    start = first + seed - 1
    if start >= len(arr):
        return out
    work = arr[start:].copy()
    work[0] = arr[first : start + 1].mean()
    out[start:] = pd.Series(work).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def seeded_recursive_mean(values: pd.Series, *, alpha: float, seed: int) -> pd.Series:
    """Exponential smoothing seeded with the mean of the first `seed` valid values.

    Leading NaNs are skipped (so an EMA of an EMA works); the first output is at the
    `seed`-th valid value.
    """
    x = _as_float_series(values)
    return pd.Series(_recursive_mean(x.to_numpy(dtype="float64"), alpha, seed), index=x.index)


def sma(values: pd.Series, window: int) -> pd.Series:
    """Simple moving average over `window` rows."""
    return _as_float_series(values).rolling(window, min_periods=window).mean()


def ema(values: pd.Series, span: int) -> pd.Series:
    """Exponential moving average, alpha = 2 / (span + 1), seeded with the SMA of the first `span` values."""
    return seeded_recursive_mean(values, alpha=2.0 / (span + 1.0), seed=span)


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's RSI (0..100). First value at row `period`. No losses at all gives 100; no moves at all 50."""
    close = _as_float_series(close)
    values = close.to_numpy(dtype="float64")
    delta = np.empty(len(values))
    delta[:1] = np.nan
    delta[1:] = np.diff(values)
    avg_gain = _recursive_mean(np.clip(delta, 0.0, None), 1.0 / period, period)
    avg_loss = _recursive_mean(np.clip(-delta, 0.0, None), 1.0 / period, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    value = np.where(avg_loss == 0.0, np.where(avg_gain == 0.0, 50.0, 100.0), value)
    value = np.where(np.isnan(avg_gain) | np.isnan(avg_loss), np.nan, value)
    return pd.Series(value, index=close.index)


def macd_arrays(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """`macd()`'s (macd line, signal line) as numpy arrays, for hot paths."""
    values = np.asarray(close, dtype="float64")
    line = _recursive_mean(values, 2.0 / (fast + 1.0), fast) - _recursive_mean(values, 2.0 / (slow + 1.0), slow)
    return line, _recursive_mean(line, 2.0 / (signal + 1.0), signal)


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """Columns `macd` (EMA fast - EMA slow), `signal` (EMA of macd) and `hist` (macd - signal).

    `macd` starts at row slow-1, `signal` and `hist` at row slow+signal-2.
    """
    close = _as_float_series(close)
    line, signal_line = macd_arrays(close.to_numpy(dtype="float64"), fast, slow, signal)
    return pd.DataFrame({"macd": line, "signal": signal_line, "hist": line - signal_line}, index=close.index)


def bollinger_arrays(
    close: pd.Series, window: int = 20, num_std: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`bollinger()`'s (mid, upper, lower) as numpy arrays, for hot paths."""
    rolling = _as_float_series(close).rolling(window, min_periods=window)
    mid = rolling.mean().to_numpy()
    std = rolling.std(ddof=0).to_numpy()
    return mid, mid + num_std * std, mid - num_std * std


def bollinger(close: pd.Series, window: int = 20, num_std: float = 2.0) -> pd.DataFrame:
    """Columns `mid` (SMA), `upper` and `lower` (mid +/- num_std population standard deviations)."""
    close = _as_float_series(close)
    mid, upper, lower = bollinger_arrays(close, window, num_std)
    return pd.DataFrame({"mid": mid, "upper": upper, "lower": lower}, index=close.index)


def returns(close: pd.Series, periods: int = 1) -> pd.Series:
    """Simple returns over `periods` rows: close / close.shift(periods) - 1."""
    close = _as_float_series(close)
    return close / close.shift(periods) - 1.0


def log_returns(close: pd.Series, periods: int = 1) -> pd.Series:
    close = _as_float_series(close)
    return np.log(close / close.shift(periods))


def true_range(candles: pd.DataFrame) -> pd.Series:
    """max(high - low, |high - previous close|, |low - previous close|); the first row is high - low."""
    high = candles["high"].astype("float64")
    low = candles["low"].astype("float64")
    prev_close = candles["close"].astype("float64").shift(1)
    ranges = np.fmax(high - low, np.fmax((high - prev_close).abs(), (low - prev_close).abs()))
    return pd.Series(np.asarray(ranges), index=candles.index)


def atr(candles: pd.DataFrame, period: int = 14) -> pd.Series:
    """Average true range with Wilder's smoothing; first value at row period-1."""
    return seeded_recursive_mean(true_range(candles), alpha=1.0 / period, seed=period)


def volatility(close: pd.Series, window: int = 20, periods_per_year: float | None = None) -> pd.Series:
    """Rolling standard deviation (ddof=1) of log returns; annualized when `periods_per_year` is given."""
    vol = log_returns(close).rolling(window, min_periods=window).std()
    if periods_per_year:
        vol = vol * np.sqrt(periods_per_year)
    return vol


def zscore(values: pd.Series, window: int = 20) -> pd.Series:
    """(x - rolling mean) / rolling population std; NaN where the window is flat."""
    values = _as_float_series(values)
    rolling = values.rolling(window, min_periods=window)
    std = rolling.std(ddof=0)
    return (values - rolling.mean()) / std.where(std > 0)


def feature_warmup(windows: Sequence[int] = DEFAULT_WINDOWS) -> int:
    """Rows `feature_matrix(..., windows)` needs before its first row without NaN."""
    # per-window columns need w+1 rows (a w-period return, log returns for the volatility);
    # the fixed columns: RSI14 15 rows, MACD(12,26,9) histogram 34, Bollinger 20, ATR14 14, volume z 20.
    return max([w + 1 for w in windows] + [15, 34, 20, 14, 20])


def feature_matrix(candles: pd.DataFrame, windows: Sequence[int] = DEFAULT_WINDOWS) -> pd.DataFrame:
    """Scale-free features for ML bots, one row per candle, deterministic column order.

    For each window w (in the order given): ``ret_{w}`` (w-candle return), ``sma_gap_{w}`` (close / SMA - 1),
    ``vol_{w}`` (std of 1-candle log returns), ``z_{w}`` (z-score of close); then ``rsi_14`` (scaled to 0..1),
    ``macd_hist`` (/ close), ``bb_pos`` (0 at the lower band, 1 at the upper), ``atr_pct`` (ATR14 / close),
    ``volume_z`` (z-score of volume over 20). The first `feature_warmup(windows)` - 1 rows contain NaN.
    """
    close = candles["close"].astype("float64")
    columns: dict[str, pd.Series] = {}
    log_ret = log_returns(close)
    for w in windows:
        columns[f"ret_{w}"] = returns(close, w)
        columns[f"sma_gap_{w}"] = close / sma(close, w) - 1.0
        columns[f"vol_{w}"] = log_ret.rolling(w, min_periods=w).std()
        columns[f"z_{w}"] = zscore(close, w)
    columns["rsi_14"] = rsi(close, 14) / 100.0
    columns["macd_hist"] = macd(close)["hist"] / close
    bands = bollinger(close)
    width = (bands["upper"] - bands["lower"]).where(lambda s: s > 0)
    columns["bb_pos"] = (close - bands["lower"]) / width
    columns["atr_pct"] = atr(candles, 14) / close
    columns["volume_z"] = zscore(candles["volume"], 20)
    frame = pd.DataFrame(columns, index=candles.index)
    return frame.replace([np.inf, -np.inf], np.nan)
