"""The candle frame contract every bot, the backtest engine and the runtime share.

A candle frame is a pandas DataFrame with exactly these columns, one row per candle:

    timestamp  int64    candle open time, milliseconds since the epoch, UTC, strictly ascending
    open high low close volume   float64

`candles_frame()` builds one from ccxt-style rows (``[[ts, o, h, l, c, v], ...]``), dicts or a
DataFrame; `read_candles_csv()` from an uploaded CSV. Both validate, sort and drop duplicate
timestamps (the last row for a timestamp wins: an exchange updates the candle that is still forming).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import numpy as np
import pandas as pd

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
VALUE_COLUMNS = (*PRICE_COLUMNS, "volume")

TIMEFRAMES: dict[str, int] = {
    "1m": 60_000,
    "5m": 5 * 60_000,
    "15m": 15 * 60_000,
    "30m": 30 * 60_000,
    "1h": 60 * 60_000,
    "4h": 4 * 60 * 60_000,
    "1d": 24 * 60 * 60_000,
}

# Header names accepted for the time column of a CSV, in order of preference.
_TIME_ALIASES = ("timestamp", "time", "date", "datetime")
# Numeric timestamps below this are taken as seconds (1e11 ms is 1973; 1e11 s is the year 5138).
_SECONDS_THRESHOLD = 1e11


def timeframe_ms(timeframe: str) -> int:
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(f"unknown timeframe {timeframe!r}; known: {', '.join(TIMEFRAMES)}") from None


def empty_candles() -> pd.DataFrame:
    return pd.DataFrame(
        {"timestamp": np.array([], dtype="int64"), **{c: np.array([], dtype="float64") for c in VALUE_COLUMNS}}
    )


def candles_frame(rows: Iterable[Sequence[Any]] | Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """A validated candle frame from ccxt rows ``[ts, o, h, l, c, v]``, dicts with those names, or a DataFrame."""
    if isinstance(rows, pd.DataFrame):
        raw = rows.reset_index(drop=True)
    else:
        rows = list(rows)
        if not rows:
            return empty_candles()
        first = rows[0]
        if isinstance(first, Mapping):
            raw = pd.DataFrame.from_records(rows)
        else:
            for number, row in enumerate(rows, start=1):
                if isinstance(row, Mapping) or len(row) < 6:
                    raise ValueError(f"candle row {number} must be [timestamp, open, high, low, close, volume]")
            # ccxt may append extra fields; only the first six are the candle.
            raw = pd.DataFrame([list(row[:6]) for row in rows], columns=list(COLUMNS), dtype=object)
    # ccxt timestamps are milliseconds: no guessing of seconds here
    return _normalize(raw, source="candles", row_offset=1, seconds_heuristic=False)


def candles_to_rows(frame: pd.DataFrame) -> list[list[float | int]]:
    """The ccxt-style rows of a candle frame: ``[[ts_ms, open, high, low, close, volume], ...]`` (JSON-safe)."""
    timestamps = frame["timestamp"].to_numpy(dtype="int64").tolist()
    values = frame[list(VALUE_COLUMNS)].to_numpy(dtype="float64").tolist()
    return [[ts, *vals] for ts, vals in zip(timestamps, values, strict=True)]


def read_candles_csv(file_or_text: str | os.PathLike | bytes | IO, *, min_rows: int = 2) -> pd.DataFrame:
    """Read a candle CSV with a header row.

    Columns (case-insensitive): ``timestamp`` (ms since the epoch; whole seconds are accepted too and
    recognised by their size) or ``time`` / ``date`` / ``datetime`` (ISO 8601 strings, UTC unless
    they carry an offset, or numbers as for ``timestamp``), then ``open``, ``high``, ``low``, ``close``
    and ``volume`` (volume may be left out: it is then 0). Any other column is ignored.

    Raises ValueError naming the problem: a missing column, a non-numeric value at row N (rows count
    from 1 after the header), a bad date, or fewer than `min_rows` candles.
    """
    if isinstance(file_or_text, bytes):
        handle: Any = io.StringIO(file_or_text.decode("utf-8-sig"))
    elif isinstance(file_or_text, str) and (not file_or_text.strip() or "\n" in file_or_text or "," in file_or_text):
        handle = io.StringIO(file_or_text.lstrip("\ufeff"))
    else:
        handle = file_or_text  # a path or an open file
    try:
        raw = pd.read_csv(handle, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError("the CSV is empty: expected a header row and candles") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"the CSV could not be parsed: {exc}") from None
    except UnicodeDecodeError:
        raise ValueError("the CSV is not UTF-8 text") from None
    raw.columns = [str(c).strip().lower().lstrip("\ufeff") for c in raw.columns]
    if "volume" not in raw.columns:
        raw["volume"] = "0"
    # the data rows start on line 2 of the file: row 1 is the first candle
    frame = _normalize(raw, source="CSV", row_offset=1, seconds_heuristic=True)
    if len(frame) < min_rows:
        raise ValueError(f"the CSV has too few rows: {len(frame)} candle(s), at least {min_rows} needed")
    return frame


def resample_candles(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Aggregate a candle frame into a longer timeframe (UTC-aligned buckets; partial buckets are kept)."""
    step = timeframe_ms(timeframe)
    if frame.empty:
        return empty_candles()
    bucket = (frame["timestamp"].to_numpy(dtype="int64") // step) * step
    grouped = frame.groupby(bucket, sort=True)
    out = pd.DataFrame(
        {
            "timestamp": np.asarray(grouped.size().index, dtype="int64"),
            "open": grouped["open"].first().to_numpy(),
            "high": grouped["high"].max().to_numpy(),
            "low": grouped["low"].min().to_numpy(),
            "close": grouped["close"].last().to_numpy(),
            "volume": grouped["volume"].sum().to_numpy(),
        }
    )
    return out


def _normalize(raw: pd.DataFrame, *, source: str, row_offset: int, seconds_heuristic: bool) -> pd.DataFrame:
    time_column = next((c for c in _TIME_ALIASES if c in raw.columns), None)
    missing = [c for c in VALUE_COLUMNS if c not in raw.columns]
    if time_column is None:
        missing.insert(0, "timestamp (or time/date)")
    if missing:
        found = ", ".join(map(str, raw.columns)) or "none"
        raise ValueError(f"the {source} is missing column(s) {', '.join(missing)} (found: {found})")
    if raw.empty:
        return empty_candles()

    timestamps = _timestamps(
        raw[time_column], column=time_column, source=source, row_offset=row_offset, seconds_heuristic=seconds_heuristic
    )
    out = {"timestamp": timestamps}
    for column in VALUE_COLUMNS:
        out[column] = _numbers(raw[column], column=column, source=source, row_offset=row_offset)
    frame = pd.DataFrame(out)
    negative = (frame[list(PRICE_COLUMNS)] <= 0).any(axis=1) | (frame["volume"] < 0)
    if negative.any():
        row = int(np.flatnonzero(negative.to_numpy())[0]) + row_offset
        raise ValueError(f"the {source} has a non-positive price or negative volume at row {row}")
    # stable sort keeps the file's order among equal timestamps, so "last wins" means last in the input
    frame = frame.sort_values("timestamp", kind="stable")
    frame = frame.drop_duplicates("timestamp", keep="last").reset_index(drop=True)
    return frame


def _numbers(column_values: pd.Series, *, column: str, source: str, row_offset: int) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column_values.dtype) and not pd.api.types.is_bool_dtype(column_values.dtype):
        values = column_values.to_numpy(dtype="float64")
    else:
        text = column_values.map(lambda v: v.strip() if isinstance(v, str) else v)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", copy=True)
        bad_bool = text.map(lambda v: isinstance(v, bool)).to_numpy(dtype=bool)
        values[bad_bool] = np.nan
    bad = ~np.isfinite(values)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        value = column_values.iloc[index]
        empty = value is None or (isinstance(value, str) and not value.strip())
        problem = "an empty value" if empty else f"a non-numeric value {value!r}"
        raise ValueError(f"the {source} has {problem} in column '{column}' at row {index + row_offset}")
    return values


def _timestamps(
    column_values: pd.Series, *, column: str, source: str, row_offset: int, seconds_heuristic: bool
) -> np.ndarray:
    text = column_values.map(lambda v: v.strip() if isinstance(v, str) else v)
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        values = numeric.to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise ValueError(f"the {source} has a non-finite timestamp in column '{column}'")
        if seconds_heuristic and np.abs(values).max() < _SECONDS_THRESHOLD:
            values = values * 1000.0
        return np.round(values).astype("int64")
    if numeric.notna().any() and column == "timestamp":
        # a mix of numbers and text in a numeric column: point at the first non-number
        index = int(np.flatnonzero(numeric.isna().to_numpy())[0])
        raise ValueError(
            f"the {source} has a non-numeric value {column_values.iloc[index]!r} in column '{column}' "
            f"at row {index + row_offset}"
        )
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        index = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ValueError(
            f"the {source} has an unreadable date {column_values.iloc[index]!r} in column '{column}' "
            f"at row {index + row_offset} (expected ISO 8601, e.g. 2024-01-31T13:00:00Z, or milliseconds)"
        )
    epoch = pd.Timestamp(0, tz="UTC")
    # unit-independent (pandas 3 may keep second or microsecond resolution)
    return ((parsed - epoch) // pd.Timedelta(milliseconds=1)).to_numpy(dtype="int64")
