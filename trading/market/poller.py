"""One poll of one venue: the symbols in use, one request where the exchange batches,
results to the cache and to everyone listening. Never raises for an exchange's trouble:
a failed poll is recorded and the next tick tries again (the breaker skips sick venues)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from exchanges.adapters.errors import ExchangeError
from exchanges.resilience import CircuitOpen
from trading.market.events import prices_publish
from trading.market.fetch import fetch_tickers, venue_adapter
from trading.market.redis import async_client, key
from trading.market.venues import Venue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollResult:
    venue: Venue
    polled: bool  # False: another worker polled this venue this tick
    symbols: int = 0
    error: str | None = None
    took_ms: float = 0.0


async def _claim(venue: Venue) -> bool:
    """At most one poll of a venue per tick across every worker."""
    ttl_ms = max(int(settings.MARKET_POLL_INTERVAL * 1000 * 0.9), 100)
    return bool(await async_client().set(key("poll-lock", venue.key), "1", nx=True, px=ttl_ms))


async def poll_venue(venue: Venue, symbols: list[str], *, claim: bool = True) -> PollResult:
    if claim and not await _claim(venue):
        return PollResult(venue, polled=False)
    started = time.perf_counter()
    adapter = await venue_adapter(venue)
    try:
        markets = await adapter.load_markets()
        listed = [s for s in symbols if s in markets]
        tickers = await fetch_tickers(venue, listed, adapter=adapter) if listed else {}
    except CircuitOpen as exc:  # the venue is resting: no request was made
        return PollResult(venue, polled=False, error=str(exc), took_ms=_ms(started))
    except ExchangeError as exc:
        logger.warning("Polling %s failed: %s", venue.key, exc)
        return PollResult(venue, polled=True, error=str(exc), took_ms=_ms(started))
    await prices_publish(venue, tickers, time.time())
    return PollResult(venue, polled=True, symbols=len(tickers), took_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
