"""A real exchange's public prices: the paper account trades against its live book.

The followed exchange's adapter comes from ``exchanges.factory.public_adapter`` (public
data only, no keys), created on first use; tests pass an adapter-like object instead.
Only the present is known here, so a resting order is matched against the book at the
moment the account is looked at, not against what happened in between.
"""

from __future__ import annotations

import inspect
from dataclasses import replace

from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.adapters.types import Candle, OrderBook, Ticker
from exchanges.paper.markets import EXCHANGE_ID, PaperMarket
from exchanges.paper.pricing import PriceSource, TrailPoint


class FollowPrices(PriceSource):
    name = "follow"

    def __init__(self, *, exchange_id: str, adapter=None, api_base_url: str | None = None):
        self.exchange_id = exchange_id
        self.api_base_url = api_base_url
        self._adapter = adapter
        self._owns_adapter = adapter is None

    async def adapter(self):
        if self._adapter is None:
            if not self.exchange_id:
                raise ExchangeUnavailable("no exchange to follow is configured", exchange=EXCHANGE_ID)
            from exchanges.factory import public_adapter  # the factory imports the adapters: import late

            adapter = public_adapter(self.exchange_id, api_base_url=self.api_base_url)
            self._adapter = await adapter if inspect.isawaitable(adapter) else adapter
        return self._adapter

    async def ticker(self, listing: PaperMarket, now: float) -> Ticker:
        ticker = await (await self.adapter()).fetch_ticker(listing.market.symbol)
        return replace(ticker, exchange=EXCHANGE_ID, symbol=listing.market.symbol)

    async def order_book(self, listing: PaperMarket, now: float, *, limit: int = 20) -> OrderBook:
        book = await (await self.adapter()).fetch_order_book(listing.market.symbol, limit=limit)
        return replace(book, exchange=EXCHANGE_ID, symbol=listing.market.symbol)

    async def ohlcv(
        self, listing: PaperMarket, now: float, *, timeframe: str = "1m", since: int | None = None, limit: int = 100
    ) -> list[Candle]:
        adapter = await self.adapter()
        return await adapter.fetch_ohlcv(listing.market.symbol, timeframe=timeframe, since=since, limit=limit)

    async def trail(self, listing: PaperMarket, since: float, now: float) -> list[TrailPoint]:
        ticker = await self.ticker(listing, now)
        last = ticker.price or ticker.bid or ticker.ask
        if last is None:
            raise ExchangeUnavailable(
                f"{self.exchange_id} has no price for {listing.market.symbol}", exchange=EXCHANGE_ID
            )
        return [TrailPoint(int(now), ticker.bid or last, ticker.ask or last, last)]

    async def close(self) -> None:
        if self._owns_adapter and self._adapter is not None:
            await self._adapter.close()
            self._adapter = None
