"""Where is a coin cheapest right now: one row per connection (or public exchange),
fetched concurrently, so the whole comparison takes about as long as the slowest venue."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings

from exchanges.adapters.errors import BadSymbol, ExchangeError
from exchanges.adapters.types import Ticker
from trading.market import fetch
from trading.market.venues import Venue


@dataclass(frozen=True)
class QuoteRow:
    venue: Venue
    symbol: str  # what the venue trades: BTC/USD may stand for BTC/USDT
    status: str  # ok / failed / not_listed / timeout
    connection_id: int | None = None
    label: str = ""
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    volume: Decimal | None = None
    age_ms: float | None = None
    error: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class Comparison:
    symbol: str
    symbols: tuple[str, ...]  # the asked one and its equivalents
    rows: tuple[QuoteRow, ...] = field(default_factory=tuple)
    best_bid: QuoteRow | None = None  # where selling gets the most
    best_ask: QuoteRow | None = None  # where buying costs the least
    took_ms: float = 0.0


@dataclass(frozen=True)
class Target:
    venue: Venue
    connection_id: int | None = None
    label: str = ""


async def _quote(venue: Venue, candidates: list[str]) -> tuple[str, Ticker, float] | QuoteRow:
    adapter = await fetch.venue_adapter(venue)
    try:
        symbol, _ = await fetch.listed_symbol(adapter, candidates)
    except BadSymbol as exc:
        return QuoteRow(venue, candidates[0], "not_listed", error=str(exc), error_code=exc.code)
    finally:
        await adapter.close()
    ticker, fetched_at = await fetch.ticker(venue, symbol)
    return symbol, ticker, fetched_at


async def _venue_row(venue: Venue, candidates: list[str], timeout: float) -> QuoteRow:
    try:
        result = await asyncio.wait_for(_quote(venue, candidates), timeout)
    except TimeoutError:
        return QuoteRow(venue, candidates[0], "timeout", error=f"no answer within {timeout:g} s", error_code="timeout")
    except ExchangeError as exc:
        return QuoteRow(venue, candidates[0], "failed", error=str(exc), error_code=exc.code)
    if isinstance(result, QuoteRow):
        return result
    symbol, ticker, fetched_at = result
    return QuoteRow(
        venue,
        symbol,
        "ok",
        bid=ticker.bid,
        ask=ticker.ask,
        last=ticker.price,
        volume=ticker.volume,
        age_ms=round(max(time.time() - fetched_at, 0) * 1000, 1),
    )


async def compare(targets: list[Target], candidates: list[str], *, timeout: float | None = None) -> Comparison:
    """Every target's quote, each venue asked once and all venues at the same time."""
    started = time.perf_counter()
    timeout = timeout or settings.MARKET_COMPARE_TIMEOUT
    venues = list(dict.fromkeys(t.venue for t in targets))
    results = dict(
        zip(venues, await asyncio.gather(*(_venue_row(v, candidates, timeout) for v in venues)), strict=True)
    )
    rows = tuple(replace(results[t.venue], connection_id=t.connection_id, label=t.label) for t in targets)
    quoted = [r for r in rows if r.status == "ok"]
    best_bid = max((r for r in quoted if r.bid), key=lambda r: (r.bid, -(r.connection_id or 0)), default=None)
    best_ask = min((r for r in quoted if r.ask), key=lambda r: (r.ask, r.connection_id or 0), default=None)
    took = round((time.perf_counter() - started) * 1000, 1)
    return Comparison(candidates[0], tuple(candidates), rows, best_bid, best_ask, took)
