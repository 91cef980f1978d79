"""Prices the pre-trade checks use, read from the shared market cache while it is fresh.

An order is valued at the price it would trade at: a limit or stop order at its own price,
a market order at the average fill of walking the cached book (the side it takes, up to its
amount), else at the cached ticker. Only when neither is cached is the ticker fetched (and
so cached for the next order). Orders are placed from the API: every network call saved
here is latency a trader does not wait for.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges import runtime
from exchanges.adapters.errors import ExchangeError
from exchanges.adapters.types import Market, OrderBook, Side, Ticker
from trading import pricing
from trading.market import cache, fetch
from trading.market.redis import sync_client
from trading.market.venues import Venue
from trading.services.intents import Intent

# Dollar-pegged coins are valued one to one against each other: good enough for limits
# and allocations, which are about exposure, not about the last basis point.
STABLECOINS = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "TUSD", "USDP", "PYUSD"})


def order_price(*, connection, intent: Intent, market: Market) -> Decimal:
    """What one unit of the order is expected to trade at, fee excluded (ExchangeError when
    nothing is cached and the exchange cannot be asked)."""
    if intent.reference_price:
        return intent.reference_price
    venue = Venue.of(connection)
    side = Side(intent.side)
    # the book and the ticker in one round trip: the ticker is the fallback of the book
    book_text, ticker_text = sync_client().mget([cache.book_key(venue, market.symbol),
                                                 cache.ticker_key(venue, market.symbol)])  # fmt: skip
    if book_text:
        book = cache.book_from_json(book_text)[0]
        levels = book.asks if side is Side.BUY else book.bids
        fill = pricing.fill_cost(levels, intent.amount, side=side, taker_fee=taker_fee(market))
        if fill is not None:  # a book shallower than the order: its last level is a fair guess
            return fill.average_price if fill.complete else fill.worst_price
    ticker = cache.ticker_from_json(ticker_text)[0] if ticker_text else ticker_for(venue, market.symbol)
    touch = ticker.ask if side is Side.BUY else ticker.bid
    return touch or ticker.price


def taker_fee(market: Market) -> Decimal:
    return pricing.DEFAULT_TAKER_FEE if market.taker_fee is None else market.taker_fee


def cached_book(venue: Venue, symbol: str) -> OrderBook | None:
    value = sync_client().get(cache.book_key(venue, symbol))
    return cache.book_from_json(value)[0] if value else None


def ticker_for(venue: Venue, symbol: str) -> Ticker:
    """The cached ticker while fresh, else fetched (and cached)."""
    cached = cache.ticker_cached_sync(venue, symbol)
    if cached is not None:
        return cached[0]
    return runtime.run(fetch.ticker(venue, symbol))[0]


def value_in(amount: Decimal, asset: str, quote: str, *, venue: Venue, fetch_missing: bool = True) -> Decimal | None:
    """``amount`` of ``asset`` in ``quote``: one to one between stablecoins, else at the
    venue's price of ASSET/QUOTE (or ASSET/another stablecoin). None when it has none."""
    if not amount or asset == quote or (asset in STABLECOINS and quote in STABLECOINS):
        return amount
    price = asset_price(asset, quote, venue=venue, fetch_missing=fetch_missing)
    return None if price is None else amount * price


def asset_price(asset: str, quote: str, *, venue: Venue, fetch_missing: bool = True) -> Decimal | None:
    quotes = [quote, *sorted(STABLECOINS - {quote})] if quote in STABLECOINS else [quote]
    symbols = [f"{asset}/{q}" for q in quotes]
    for symbol in symbols:
        cached = cache.ticker_cached_sync(venue, symbol)
        if cached is not None and _mid(cached[0]):
            return _mid(cached[0])
    if not fetch_missing:
        return None
    try:
        return _mid(runtime.run(_fetch_listed_ticker(venue, symbols)))
    except ExchangeError:
        return None


async def _fetch_listed_ticker(venue: Venue, symbols: list[str]) -> Ticker:
    adapter = await fetch.venue_adapter(venue)
    try:
        listed, _ = await fetch.listed_symbol(adapter, symbols)
    finally:
        await adapter.close()
    return (await fetch.ticker(venue, listed))[0]


def _mid(ticker: Ticker) -> Decimal | None:
    if ticker.bid and ticker.ask:
        return (ticker.bid + ticker.ask) / 2
    return ticker.price
