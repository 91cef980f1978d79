"""Prices set by hand, each from a moment on: for tests and demos that must know the price.

    prices = FixedPrices({"BTC/USDT": "60000"})
    prices.set("BTC/USDT", "58000", at=clock())  # from then on

Pass it to the adapter as ``options={"price_source": prices}``. Book, spread and
candles are derived exactly as for the simulated process.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from decimal import Decimal

from exchanges.adapters.errors import BadSymbol
from exchanges.paper.markets import ASSETS, EXCHANGE_ID, PaperMarket, normalize_symbol
from exchanges.paper.pricing.synthetic import SyntheticSource


class FixedPrices(SyntheticSource):
    name = "fixed"

    def __init__(
        self,
        prices: dict[str, Decimal | str | float] | None = None,
        *,
        at: float = 0,
        spread_bps: Decimal | str | None = None,
        seed: int = 0,
    ):
        super().__init__(seed=seed)
        self._history: dict[str, list[tuple[int, float]]] = {}
        self._spread = None if spread_bps is None else Decimal(str(spread_bps))
        for symbol, price in (prices or {}).items():
            self.set(symbol, price, at=at)

    def set(self, symbol: str, price: Decimal | str | float, *, at: float = 0) -> None:
        """``symbol`` trades at ``price`` from ``at`` (seconds) on."""
        insort(self._history.setdefault(normalize_symbol(symbol), []), (int(at), float(Decimal(str(price)))))

    def spread_bps(self, listing: PaperMarket) -> Decimal:
        return listing.spread_bps if self._spread is None else self._spread

    def _changes(self, listing: PaperMarket) -> list[tuple[int, float]]:
        changes = self._history.get(listing.market.symbol)
        if not changes:
            raise BadSymbol(f"no fixed price for {listing.market.symbol}", exchange=EXCHANGE_ID)
        return changes

    def mids(self, listing: PaperMarket, times: list[int]) -> list[float]:
        changes = self._changes(listing)
        starts = [t for t, _ in changes]
        return [changes[max(0, bisect_right(starts, t) - 1)][1] for t in times]

    def trail_times(self, listing: PaperMarket, since: int, now: int) -> list[int]:
        # Every change counts, however short-lived: a dip between two looks fills a limit order.
        return sorted({since, now, *(t for t, _ in self._changes(listing) if since < t < now)})

    def volume(self, listing: PaperMarket, start: int, end: int) -> float:
        profile = ASSETS.get(listing.market.base)
        return (profile.volume_24h if profile else 1000.0) * max(0, end - start) / 86_400
