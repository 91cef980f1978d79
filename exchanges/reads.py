"""Reads at the exchange for one connection (balance, markets, ticker, order book).

They go through the connection's adapter on the process's exchange loop; errors are the
adapter error hierarchy, which the API turns into clean answers.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from exchanges.adapters.types import Balance, Capabilities, Market
from exchanges.factory import adapter_for_connection, call


def _balance_key(connection) -> str:
    return f"exchanges:balance:{connection.pk}"


def connection_balance(*, connection, fresh: bool = False) -> Balance:
    """The balance at the exchange, cached per connection for MARKET_TTL_BALANCE (30 s).

    Private data is never shared: the cache key is the connection. ``fresh`` skips the cache
    (and refreshes it), e.g. right after an order moved the balance.
    """
    key = _balance_key(connection)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    balance = call(adapter_for_connection(connection), "fetch_balance")
    cache.set(key, balance, timeout=settings.MARKET_CACHE_TTL["balance"])
    return balance


def balance_forget(*, connection) -> None:
    cache.delete(_balance_key(connection))


def connection_markets(*, connection) -> dict[str, Market]:
    adapter = adapter_for_connection(connection)
    cached = adapter.cached_markets()  # loaded in this process: no hop to the exchange loop
    return cached if cached is not None else call(adapter, "load_markets")


def connection_capabilities(*, connection) -> tuple[Capabilities, dict[str, Market]]:
    adapter = adapter_for_connection(connection)
    markets = call(adapter, "load_markets")
    return adapter.capabilities(markets), markets
