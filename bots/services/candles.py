"""Closed candles of one exchange, symbol and timeframe: fetched once per evaluation round
for every subscription that reads them, and shared through Redis by every worker."""

from __future__ import annotations

import json
import time

import pandas as pd
from django.conf import settings
from django.core.cache import cache

from exchanges import runtime
from exchanges.adapters.errors import ExchangeError
from trading.market import fetch
from trading.market.venues import Venue

TIMEFRAME_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
                "4h": 14_400_000, "1d": 86_400_000}  # fmt: skip


class CandlesUnavailable(Exception):
    """User-facing: the exchange gave no candles (not listed, no OHLCV, down)."""


def last_closed_open(timeframe: str, *, now_ms: int | None = None) -> int:
    """Open time of the newest candle that has closed."""
    step = TIMEFRAME_MS[timeframe]
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return (now_ms // step) * step - step


def _key(venue: Venue, symbol: str, timeframe: str, closed_open: int, limit: int) -> str:
    return f"bots:candles:{venue.key}:{symbol}:{timeframe}:{closed_open}:{limit}"


def candles_fetch(*, venue: Venue, symbol: str, timeframe: str, limit: int | None = None,
                  now_ms: int | None = None) -> pd.DataFrame:  # fmt: skip
    """The newest ``limit`` closed candles, oldest first. Cached until the next candle closes."""
    from bots.sdk.candles import candles_frame

    limit = limit or settings.BOTS_CANDLES_LIMIT
    closed_open = last_closed_open(timeframe, now_ms=now_ms)
    key = _key(venue, symbol, timeframe, closed_open, limit)
    cached = cache.get(key)
    if cached is not None:
        return candles_frame(json.loads(cached))

    async def go():
        adapter = await fetch.venue_adapter(venue)
        try:
            listed, _ = await fetch.listed_symbol(adapter, [symbol])
            return await adapter.fetch_ohlcv(listed, timeframe=timeframe, limit=limit + 1)
        finally:
            await adapter.close()

    try:
        candles = runtime.run(go(), timeout=30)
    except ExchangeError as exc:
        raise CandlesUnavailable(f"{venue.exchange} gave no {timeframe} candles for {symbol}: {exc}") from None
    rows = [[c.timestamp, float(c.open), float(c.high), float(c.low), float(c.close), float(c.volume)]
            for c in candles if c.timestamp <= closed_open]  # fmt: skip
    if not rows:
        raise CandlesUnavailable(f"{venue.exchange} has no closed {timeframe} candles for {symbol} yet.")
    cache.set(key, json.dumps(rows), timeout=max(TIMEFRAME_MS[timeframe] // 1000, 30))
    return candles_frame(rows[-limit:])


def candles_history(*, venue: Venue, symbol: str, timeframe: str, start_ms: int, end_ms: int,
                    progress=None, page: int = 500) -> pd.DataFrame:  # fmt: skip
    """Every candle in [start, end] for a backtest, fetched page by page."""
    from bots.sdk.candles import candles_frame

    step = TIMEFRAME_MS[timeframe]
    if end_ms <= start_ms:
        raise CandlesUnavailable("The end must be after the start.")
    expected = (end_ms - start_ms) // step + 1
    if expected > settings.BOTS_BACKTEST_MAX_CANDLES:
        raise CandlesUnavailable(
            f"That range is {expected:,} {timeframe} candles; at most {settings.BOTS_BACKTEST_MAX_CANDLES:,}."
        )

    # Page by page from sync code, so that ``progress`` may write to the database between pages.
    rows: list[list] = []
    try:
        adapter = runtime.run(fetch.venue_adapter(venue), timeout=30)
        try:
            listed, _ = runtime.run(fetch.listed_symbol(adapter, [symbol]), timeout=30)
            since = start_ms
            while since <= end_ms:
                batch = runtime.run(
                    adapter.fetch_ohlcv(listed, timeframe=timeframe, since=since, limit=page), timeout=30
                )
                batch = [c for c in batch if start_ms <= c.timestamp <= end_ms]
                if not batch:
                    break
                rows.extend([c.timestamp, float(c.open), float(c.high), float(c.low), float(c.close),
                             float(c.volume)] for c in batch)  # fmt: skip
                since = batch[-1].timestamp + step
                if progress:
                    progress(min((since - start_ms) / max(end_ms - start_ms, 1), 1.0))
        finally:
            runtime.run(adapter.close(), timeout=10)
    except ExchangeError as exc:
        raise CandlesUnavailable(f"{venue.exchange} gave no {timeframe} candles for {symbol}: {exc}") from None
    if not rows:
        raise CandlesUnavailable(f"{venue.exchange} has no {timeframe} candles for {symbol} in that range.")
    return candles_frame(rows)
