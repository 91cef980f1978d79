"""The shared market data cache in Redis: JSON values with the TTLs of the settings.

Readers never call the exchange while an entry is fresh; an entry past its TTL is gone,
so "fresh" is simply "present". Each entry carries when it was fetched, for the age shown
to users.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from decimal import Decimal

from django.conf import settings

from exchanges.adapters.types import OrderBook, Ticker
from trading.market.redis import async_client, key, sync_client
from trading.market.venues import Venue


def _ttl_ms(kind: str) -> int:
    return int(settings.MARKET_CACHE_TTL[kind] * 1000)


def _encode(value) -> str:
    return json.dumps(value, default=lambda v: format(v, "f") if isinstance(v, Decimal) else str(v))


def _d(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def ticker_key(venue: Venue, symbol: str) -> str:
    return key("ticker", venue.key, symbol)


def book_key(venue: Venue, symbol: str) -> str:
    return key("book", venue.key, symbol)


def ticker_to_json(ticker: Ticker, fetched_at: float) -> str:
    return _encode(asdict(ticker) | {"fetched_at": fetched_at})


def ticker_from_json(text: str) -> tuple[Ticker, float]:
    data = json.loads(text)
    fetched_at = data.pop("fetched_at")
    ticker = Ticker(
        exchange=data["exchange"],
        symbol=data["symbol"],
        price=_d(data["price"]),
        bid=_d(data["bid"]),
        ask=_d(data["ask"]),
        volume=_d(data["volume"]),
        timestamp=data["timestamp"],
    )
    return ticker, fetched_at


def book_to_json(book: OrderBook, fetched_at: float) -> str:
    return _encode(asdict(book) | {"fetched_at": fetched_at})


def book_from_json(text: str) -> tuple[OrderBook, float]:
    data = json.loads(text)
    levels = {side: tuple((Decimal(p), Decimal(a)) for p, a in data[side]) for side in ("bids", "asks")}
    book = OrderBook(data["exchange"], data["symbol"], levels["bids"], levels["asks"], data["timestamp"])
    return book, data["fetched_at"]


async def tickers_store(venue: Venue, tickers: dict[str, Ticker]) -> None:
    now = time.time()
    async with async_client().pipeline(transaction=False) as pipe:
        for symbol, ticker in tickers.items():
            pipe.set(ticker_key(venue, symbol), ticker_to_json(ticker, now), px=_ttl_ms("ticker"))
        await pipe.execute()


async def tickers_cached(venue: Venue, symbols: list[str]) -> dict[str, tuple[Ticker, float]]:
    """The fresh cached tickers among ``symbols`` (missing ones are absent)."""
    if not symbols:
        return {}
    values = await async_client().mget([ticker_key(venue, s) for s in symbols])
    return {s: ticker_from_json(v) for s, v in zip(symbols, values, strict=True) if v}


def ticker_cached_sync(venue: Venue, symbol: str) -> tuple[Ticker, float] | None:
    value = sync_client().get(ticker_key(venue, symbol))
    return ticker_from_json(value) if value else None


async def book_store(venue: Venue, book: OrderBook) -> None:
    await async_client().set(book_key(venue, book.symbol), book_to_json(book, time.time()), px=_ttl_ms("order_book"))


async def book_cached(venue: Venue, symbol: str) -> tuple[OrderBook, float] | None:
    value = await async_client().get(book_key(venue, symbol))
    return book_from_json(value) if value else None
