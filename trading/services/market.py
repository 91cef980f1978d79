"""Market services a tenant calls: the watchlist, price comparison and best price."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django.core.exceptions import ValidationError

from exchanges import runtime
from exchanges.adapters.types import OrderBook, Side, Ticker
from exchanges.catalog import supported_exchanges
from exchanges.selectors import connection_list
from exchanges.symbols import InvalidSymbol, normalize
from trading import pricing
from trading.market import fetch
from trading.market.best import BestPrice
from trading.market.best import best_price as market_best_price
from trading.market.compare import Comparison, Target, compare
from trading.market.venues import Venue
from trading.models.market import WatchedSymbol


def symbol_clean(symbol: str) -> str:
    try:
        return normalize(symbol)
    except InvalidSymbol as exc:
        raise ValidationError({"symbol": str(exc)}) from None


def equivalent_symbols(*, tenant, symbol: str) -> list[str]:
    """BTC/USDT and, when the tenant treats USD, USDT and USDC alike, BTC/USD and BTC/USDC."""
    return pricing.equivalent_symbols(symbol, tenant.equivalent_quotes or [])


def watch_add(*, tenant, symbol: str) -> WatchedSymbol:
    watched, _ = WatchedSymbol.objects.get_or_create(tenant=tenant, symbol=symbol_clean(symbol))
    return watched


def watch_remove(*, watched: WatchedSymbol) -> None:
    watched.delete()


def _targets(*, tenant, public: bool) -> list[Target]:
    connections = connection_list(tenant=tenant, enabled=True)
    targets = [Target(Venue.of(c), c.pk, c.label) for c in connections]
    if public:
        seen = {t.venue for t in targets}
        for info in supported_exchanges(tenant.region):
            venue = Venue(info.id)
            if info.seed and venue not in seen:
                targets.append(Target(venue, None, info.name))
    return targets


def compare_prices(*, tenant, symbol: str, public: bool = False) -> Comparison:
    """Bid, ask, last, volume, age and status of the symbol (and its equivalents) on every
    enabled connection of the tenant; with ``public``, on every seed exchange of its region too."""
    candidates = equivalent_symbols(tenant=tenant, symbol=symbol_clean(symbol))
    targets = _targets(tenant=tenant, public=public)
    if not targets:
        return Comparison(candidates[0], tuple(candidates))
    return runtime.run(compare(targets, candidates))


def best_price(*, tenant, symbol: str, side: str, amount, split: bool = True) -> BestPrice:
    """Where the whole amount fills cheapest (walking the books, taker fees included) among
    the tenant's enabled connections, and a split across them when that is cheaper."""
    candidates = equivalent_symbols(tenant=tenant, symbol=symbol_clean(symbol))
    amount = amount_clean(amount)
    targets = _targets(tenant=tenant, public=False)
    return runtime.run(
        market_best_price(
            targets,
            candidates,
            side=Side(side),
            amount=amount,
            equivalents=tenant.equivalent_quotes or [],
            split=split,
        )
    )


def amount_clean(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (ArithmeticError, ValueError):
        raise ValidationError({"amount": "Give the amount as a number, e.g. 0.5."}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    return value


def _connection_read(*, connection, symbol: str, read):
    from exchanges.adapters.errors import BadSymbol

    try:
        normalize(symbol)
    except InvalidSymbol as exc:
        raise BadSymbol(str(exc), exchange=connection.exchange) from None
    venue = Venue.of(connection)

    async def go():
        adapter = await fetch.venue_adapter(venue)
        try:
            listed, _ = await fetch.listed_symbol(adapter, [symbol])
        finally:
            await adapter.close()
        return await read(venue, listed)

    return runtime.run(go())


def connection_ticker(*, connection, symbol: str) -> tuple[Ticker, float]:
    """The connection's exchange's ticker: from the shared cache while fresh, else fetched."""
    return _connection_read(connection=connection, symbol=symbol, read=fetch.ticker)


def connection_order_book(*, connection, symbol: str, limit: int = 20) -> tuple[OrderBook, float]:
    async def read(venue, listed):
        book, fetched_at = await fetch.order_book(venue, listed, depth=limit)
        return replace(book, bids=book.bids[:limit], asks=book.asks[:limit]), fetched_at

    return _connection_read(connection=connection, symbol=symbol, read=read)
