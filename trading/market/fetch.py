"""Public market data for a venue: from the cache when fresh, else from the exchange
(and then cached). The only way the platform reads public prices and books."""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from exchanges.adapters.base import ExchangeAdapter
from exchanges.adapters.errors import BadSymbol
from exchanges.adapters.types import Market, OrderBook, Ticker
from exchanges.factory import public_adapter
from trading.market import cache
from trading.market.venues import Venue


async def venue_adapter(venue: Venue) -> ExchangeAdapter:
    if venue.connection_id is not None:
        # Only where market data is signed (Robinhood). Read in a thread of its own: under
        # ASGI, Django's thread-sensitive thread may be the one waiting for us.
        return await sync_to_async(_connection_adapter, thread_sensitive=False)(venue.connection_id)
    return public_adapter(venue.exchange, api_base_url=venue.api_base_url or None, testnet=venue.testnet)


def _connection_adapter(connection_id: int) -> ExchangeAdapter:
    from exchanges.factory import adapter_for_connection
    from exchanges.models import ExchangeConnection

    try:
        return adapter_for_connection(ExchangeConnection.objects.get(pk=connection_id))
    finally:
        close_old_connections()


async def listed_symbol(adapter: ExchangeAdapter, candidates: list[str]) -> tuple[str, Market]:
    """The first of ``candidates`` (e.g. BTC/USDT, BTC/USD, BTC/USDC) the venue lists."""
    markets = await adapter.load_markets()
    for symbol in candidates:
        try:
            unified = adapter.normalize_symbol(symbol, markets=markets)
        except ValueError:
            continue
        if unified in markets:
            return unified, markets[unified]
    what = candidates[0] if len(candidates) == 1 else f"none of {', '.join(candidates)}"
    raise BadSymbol(f"{what} is not listed", exchange=adapter.exchange_id)


async def fetch_tickers(
    venue: Venue, symbols: list[str], *, adapter: ExchangeAdapter | None = None
) -> dict[str, Ticker]:
    """Tickers at the exchange, in one batched call where it has one; then cached."""
    adapter = adapter or await venue_adapter(venue)
    try:
        if len(symbols) > 1 and adapter.capabilities().fetch_tickers:
            tickers = await adapter.fetch_tickers(symbols)
        else:
            tickers = {symbol: await adapter.fetch_ticker(symbol) for symbol in symbols}
    finally:
        await adapter.close()
    await cache.tickers_store(venue, tickers)
    return tickers


async def ticker(venue: Venue, symbol: str) -> tuple[Ticker, float]:
    """(ticker, fetched_at): cached while fresh, else fetched."""
    cached = await cache.tickers_cached(venue, [symbol])
    if symbol in cached:
        return cached[symbol]
    fetched = await fetch_tickers(venue, [symbol])
    return fetched[symbol], time.time()


async def order_book(
    venue: Venue, symbol: str, *, depth: int = 50, adapter: ExchangeAdapter | None = None
) -> tuple[OrderBook, float]:
    cached = await cache.book_cached(venue, symbol)
    if cached is not None and len(cached[0].asks) >= min(depth, 1):
        return cached
    adapter = adapter or await venue_adapter(venue)
    try:
        book = await adapter.fetch_order_book(symbol, limit=depth)
    finally:
        await adapter.close()
    await cache.book_store(venue, book)
    return book, time.time()
