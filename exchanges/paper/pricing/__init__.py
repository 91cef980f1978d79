"""Where the paper exchange's prices come from.

A price source answers, for a market and a moment (seconds since the epoch): the
ticker, the order book, candles, and the *trail* of bid/ask/last since a past moment,
which resting orders are matched against. Sources:

- ``simulated``: a seeded random process, the same in every process at the same time;
- ``candles``: replayed 1-minute candles shipped in ``exchanges/paper/data/``;
- ``follow``: a real exchange's public prices, through its adapter;
- ``FixedPrices``: prices set by hand (tests, demos).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from exchanges.adapters.errors import NotSupported
from exchanges.adapters.types import Candle, OrderBook, Ticker
from exchanges.paper.markets import EXCHANGE_ID, PaperMarket

TIMEFRAMES = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "12h": 43200,
    "1d": 86400,
}


def timeframe_seconds(timeframe: str) -> int:
    if timeframe not in TIMEFRAMES:
        raise NotSupported(f"timeframe {timeframe} is not offered ({', '.join(TIMEFRAMES)})", exchange=EXCHANGE_ID)
    return TIMEFRAMES[timeframe]


@dataclass(frozen=True)
class TrailPoint:
    """The market at one second: what a resting order could have met then."""

    t: int
    bid: Decimal
    ask: Decimal
    last: Decimal


class PriceSource(ABC):
    name: str = ""

    @abstractmethod
    async def ticker(self, listing: PaperMarket, now: float) -> Ticker: ...

    @abstractmethod
    async def order_book(self, listing: PaperMarket, now: float, *, limit: int) -> OrderBook: ...

    @abstractmethod
    async def ohlcv(
        self, listing: PaperMarket, now: float, *, timeframe: str, since: int | None, limit: int
    ) -> list[Candle]: ...

    @abstractmethod
    async def trail(self, listing: PaperMarket, since: float, now: float) -> list[TrailPoint]:
        """The market from ``since`` to ``now``, oldest first; the last point is ``now``."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release what the source holds (a followed exchange's session)."""


def source_named(
    name: str,
    *,
    seed: int | None = None,
    follow_exchange: str = "",
    follow_adapter=None,
    fixed_prices: dict | None = None,
) -> PriceSource:
    """The source an account (or the adapter's options) asks for by name."""
    from exchanges.paper.pricing.candles import CandlePrices
    from exchanges.paper.pricing.fixed import FixedPrices
    from exchanges.paper.pricing.follow import FollowPrices
    from exchanges.paper.pricing.simulated import DEFAULT_SEED, SimulatedPrices

    seed = DEFAULT_SEED if seed is None else seed
    if name == "simulated":
        return SimulatedPrices(seed=seed)
    if name == "candles":
        return CandlePrices(seed=seed)
    if name == "fixed":
        return FixedPrices(fixed_prices or {})
    if name == "follow":
        return FollowPrices(exchange_id=follow_exchange, adapter=follow_adapter)
    raise NotSupported(f"unknown paper price source {name!r}", exchange=EXCHANGE_ID)
