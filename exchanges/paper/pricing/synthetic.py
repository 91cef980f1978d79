"""What every source that computes its own prices shares: a mid price per second
becomes a ticker with a spread, a book with depth, candles and a trail.

Everything here is a pure function of (seed, market, time), so every web process and
worker computes the same numbers without sharing any state.
"""

from __future__ import annotations

import hashlib
import math
from abc import abstractmethod
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from exchanges.adapters.types import Candle, OrderBook, Ticker
from exchanges.paper.markets import ASSETS, EXCHANGE_ID, PaperMarket, to_tick, truncate
from exchanges.paper.pricing import PriceSource, TrailPoint, timeframe_seconds

#: at most this many points in a trail (long windows are sampled coarser)
MAX_TRAIL_POINTS = 2048
#: at most this many samples inside one candle
MAX_CANDLE_SAMPLES = 128
MAX_CANDLES = 1000
#: what share of the base asset's volume trades against each quote
QUOTE_SHARE = {"USDT": 1.0, "USD": 0.25, "USDC": 0.2, "BTC": 0.05}


def hashed_unit(*parts: object) -> float:
    """A uniform number in [0, 1) that depends only on ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def hashed_normal(*parts: object) -> float:
    """A standard normal number that depends only on ``parts`` (Box-Muller on a hash)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    u1 = (int.from_bytes(digest[:8], "big") + 1) / 2**64  # (0, 1]: log is defined
    u2 = int.from_bytes(digest[8:], "big") / 2**64
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


class SyntheticSource(PriceSource):
    def __init__(self, *, seed: int = 0):
        self.seed = seed

    # --- what a source defines ------------------------------------------------------------
    @abstractmethod
    def mids(self, listing: PaperMarket, times: list[int]) -> list[float]:
        """The mid price at each of ``times`` (sorted seconds)."""

    @abstractmethod
    def volume(self, listing: PaperMarket, start: int, end: int) -> float:
        """Base units traded in [start, end)."""

    def spread_bps(self, listing: PaperMarket) -> Decimal:
        return listing.spread_bps

    def trail_times(self, listing: PaperMarket, since: int, now: int) -> list[int]:
        step = 1
        while (now - since) / step > MAX_TRAIL_POINTS:
            step *= 2
        first = -(-since // step) * step
        return sorted({since, now, *range(first, now, step)})

    # --- derived ----------------------------------------------------------------------------
    def quote(self, listing: PaperMarket, mid: float) -> tuple[Decimal, Decimal, Decimal]:
        """(bid, ask, last) around ``mid``, on the market's tick."""
        tick = listing.market.price_precision
        half = self.spread_bps(listing) / 20_000
        exact = _decimal(mid)  # in decimals: 60000 * 1.00005 is 60003, not 60003.00000000001
        bid = to_tick(exact * (1 - half), tick, rounding=ROUND_FLOOR)
        ask = to_tick(exact * (1 + half), tick, rounding=ROUND_CEILING)
        if ask <= bid:
            ask = bid + tick
        return bid, ask, to_tick(exact, tick, rounding=ROUND_HALF_EVEN)

    async def ticker(self, listing: PaperMarket, now: float) -> Ticker:
        t = int(now)
        bid, ask, last = self.quote(listing, self.mids(listing, [t])[0])
        volume = truncate(_decimal(self.volume(listing, t - 86_400, t)), listing.market.amount_precision)
        return Ticker(
            exchange=EXCHANGE_ID,
            symbol=listing.market.symbol,
            price=last,
            bid=bid,
            ask=ask,
            volume=volume,
            timestamp=t * 1000,
        )

    async def order_book(self, listing: PaperMarket, now: float, *, limit: int = 20) -> OrderBook:
        t = int(now)
        mid = self.mids(listing, [t])[0]
        bid, ask, _ = self.quote(listing, mid)
        market = listing.market
        tick = market.price_precision
        gap = max(tick, to_tick(mid * float(listing.level_gap_bps) / 10_000, tick, rounding=ROUND_HALF_EVEN))
        profile = ASSETS.get(market.base)
        size = profile.level_size if profile else Decimal("1")

        def level_amount(side: str, i: int) -> Decimal:
            noise = _decimal(0.4 + 1.2 * hashed_unit(self.seed, market.symbol, t, side, i))
            amount = truncate(size * noise * (1 + Decimal("0.15") * i), market.amount_precision)
            return max(amount, market.min_amount or amount)

        bids = tuple((bid - gap * i, level_amount("b", i)) for i in range(limit) if bid - gap * i > 0)
        asks = tuple((ask + gap * i, level_amount("a", i)) for i in range(limit))
        return OrderBook(exchange=EXCHANGE_ID, symbol=market.symbol, bids=bids, asks=asks, timestamp=t * 1000)

    async def ohlcv(
        self, listing: PaperMarket, now: float, *, timeframe: str = "1m", since: int | None = None, limit: int = 100
    ) -> list[Candle]:
        tf = timeframe_seconds(timeframe)
        t_now = int(now)
        limit = max(0, min(limit, MAX_CANDLES))
        last_start = t_now // tf * tf
        first = last_start - (limit - 1) * tf if since is None else -(-since // (tf * 1000)) * tf
        starts = list(range(first, last_start + 1, tf))[:limit]
        if not starts:
            return []
        # A candle covers the seconds [start, end); the one still forming ends after now.
        spans = [(start, min(start + tf, t_now + 1)) for start in starts]
        tick = listing.market.price_precision
        candles = []
        for (start, end), (o, h, lo, c) in zip(spans, self.ohlc(listing, spans), strict=True):
            o, h, lo, c = (to_tick(v, tick, rounding=ROUND_HALF_EVEN) for v in (o, h, lo, c))
            volume = truncate(_decimal(self.volume(listing, start, end)), listing.market.amount_precision)
            candles.append(Candle(timestamp=start * 1000, open=o, high=h, low=lo, close=c, volume=volume))
        return candles

    def ohlc(self, listing: PaperMarket, spans: list[tuple[int, int]]) -> list[tuple[float, float, float, float]]:
        """Open, high, low, close of each span of seconds [start, end), sampled from ``mids``."""
        step = 1
        while (spans[0][1] - spans[0][0]) / step > MAX_CANDLE_SAMPLES:
            step *= 2

        def samples(start: int, end: int) -> list[int]:
            return sorted({*range(start, end, step), end - 1})

        times = sorted({t for start, end in spans for t in samples(start, end)})
        price_at = dict(zip(times, self.mids(listing, times), strict=True))
        result = []
        for start, end in spans:
            values = [price_at[t] for t in samples(start, end)]
            result.append((values[0], max(values), min(values), values[-1]))
        return result

    async def trail(self, listing: PaperMarket, since: float, now: float) -> list[TrailPoint]:
        t_now = int(now)
        times = self.trail_times(listing, min(int(since), t_now), t_now)
        return [
            TrailPoint(t, *self.quote(listing, mid)) for t, mid in zip(times, self.mids(listing, times), strict=True)
        ]


class UsdRatioSource(SyntheticSource):
    """Prices of every market from one USD price per asset: BTC/USDT, BTC/USD and ETH/BTC agree."""

    @abstractmethod
    def usd(self, asset: str, times: list[int]) -> list[float]: ...

    def mids(self, listing: PaperMarket, times: list[int]) -> list[float]:
        base = self.usd(listing.market.base, times)
        quote = self.usd(listing.market.quote, times)
        return [b / q for b, q in zip(base, quote, strict=True)]
