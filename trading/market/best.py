"""Best price: fetch every venue's book at once, then let trading.pricing decide."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from exchanges.adapters.errors import ExchangeError
from exchanges.adapters.types import Side
from trading import pricing
from trading.market import fetch
from trading.market.compare import Target
from trading.market.venues import Venue


@dataclass(frozen=True)
class VenueFailure:
    venue: Venue
    error: str
    error_code: str


@dataclass(frozen=True)
class BestPrice:
    symbol: str
    side: Side
    amount: Decimal
    candidates: tuple[pricing.Candidate, ...]  # best first; incomplete ones last
    split: pricing.Split | None
    failures: tuple[VenueFailure, ...]
    targets: dict[str, Target]  # quote key (venue key) -> the connection it stands for

    @property
    def best(self) -> pricing.Candidate | None:
        return self.candidates[0] if self.candidates and self.candidates[0].eligible else None


async def _quote(venue: Venue, candidates: list[str], depth: int) -> pricing.Quote:
    adapter = await fetch.venue_adapter(venue)
    try:
        symbol, market = await fetch.listed_symbol(adapter, candidates)
        book, _ = await fetch.order_book(venue, symbol, depth=depth, adapter=adapter)
    finally:
        await adapter.close()
    return pricing.Quote.from_market(venue.key, book, market)


async def best_price(
    targets: list[Target],
    candidates: list[str],
    *,
    side: Side,
    amount: Decimal,
    equivalents: list[str],
    split: bool = True,
    depth: int = 50,
) -> BestPrice:
    by_key = {}
    for target in targets:  # several connections on one venue: one book, the first connection
        by_key.setdefault(target.venue.key, target)
    timeout = settings.MARKET_COMPARE_TIMEOUT
    results = await asyncio.gather(
        *(asyncio.wait_for(_quote(t.venue, candidates, depth), timeout) for t in by_key.values()),
        return_exceptions=True,
    )
    quotes, failures = [], []
    for target, result in zip(by_key.values(), results, strict=True):
        if isinstance(result, pricing.Quote):
            quotes.append(result)
        elif isinstance(result, ExchangeError):
            failures.append(VenueFailure(target.venue, str(result), result.code))
        elif isinstance(result, TimeoutError):
            failures.append(VenueFailure(target.venue, f"no answer within {timeout:g} s", "timeout"))
        else:
            raise result
    ranked = pricing.rank(quotes, side=side, amount=amount, symbol=candidates[0], equivalents=equivalents)
    proposal = (
        pricing.best_split(quotes, side=side, amount=amount, symbol=candidates[0], equivalents=equivalents)
        if split and len(quotes) > 1
        else None
    )
    return BestPrice(candidates[0], side, amount, tuple(ranked), proposal, tuple(failures), by_key)
