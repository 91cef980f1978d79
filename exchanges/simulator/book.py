"""A synthetic order book around a mid price.

A market maker quotes ``LEVELS`` price levels on each side; the levels refill at once, so
the book has the same shape after every trade. That keeps tests deterministic while a
large market order still walks the book and pays for it (slippage).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchanges.simulator.markets import MarketSpec, ceil_to, floor_to

LEVELS = 25
LEVEL_NOTIONAL = Decimal("50000")  # quote currency quoted at the best level; deeper levels hold more
LEVEL_GAP_BPS = Decimal("2")

Level = tuple[Decimal, Decimal]  # (price, amount)


@dataclass
class Book:
    market: MarketSpec
    market_id: str
    spread_bps: Decimal
    mid: Decimal
    changed_at: int  # ms; synthetic candles end at the mid price from this moment on
    update_id: int = 1
    level_notional: Decimal = LEVEL_NOTIONAL  # depth: quote currency at the best level

    def set_mid(self, price: Decimal, now: int) -> None:
        self.mid = max(floor_to(price, self.market.tick_size), self.market.tick_size)
        self.changed_at = now
        self.update_id += 1

    def best_bid(self) -> Decimal:
        return self.bids(1)[0][0]

    def best_ask(self) -> Decimal:
        return self.asks(1)[0][0]

    def _edges(self) -> tuple[Decimal, Decimal, Decimal]:
        tick = self.market.tick_size
        half = self.mid * self.spread_bps / Decimal(20000)
        bid = max(floor_to(self.mid - half, tick), tick)
        ask = ceil_to(self.mid + half, tick)
        if ask <= bid:
            ask = bid + tick
        gap = max(tick, floor_to(self.mid * LEVEL_GAP_BPS / Decimal(10000), tick))
        return bid, ask, gap

    def _amount(self, index: int) -> Decimal:
        raw = self.level_notional / self.mid * (1 + Decimal(index) / 4)
        return max(floor_to(raw, self.market.step_size), self.market.step_size)

    def bids(self, depth: int = LEVELS) -> list[Level]:
        bid, _, gap = self._edges()
        levels = [(bid - gap * i, self._amount(i)) for i in range(min(depth, LEVELS))]
        return [(price, amount) for price, amount in levels if price > 0]

    def asks(self, depth: int = LEVELS) -> list[Level]:
        _, ask, gap = self._edges()
        return [(ask + gap * i, self._amount(i)) for i in range(min(depth, LEVELS))]

    def walk(
        self,
        side: str,
        *,
        amount: Decimal | None = None,
        quote_amount: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> list[Level]:
        """The fills a taker order would get: by base ``amount`` or by ``quote_amount`` to spend.

        ``limit_price`` stops the walk at levels worse than the limit (a crossing limit order).
        """
        levels = self.asks() if side == "buy" else self.bids()
        step = self.market.step_size
        fills: list[Level] = []
        left_amount, left_quote = amount, quote_amount
        for price, available in levels:
            if limit_price is not None and (price > limit_price if side == "buy" else price < limit_price):
                break
            if left_amount is not None:
                take = min(available, left_amount)
                left_amount -= take
            else:
                take = min(available, floor_to(left_quote / price, step))
                left_quote -= take * price
            if take <= 0:
                break
            fills.append((price, take))
            if left_amount is not None and left_amount <= 0:
                break
        return fills
