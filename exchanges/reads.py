"""Reads at the exchange for one connection (balance, markets, ticker, order book).

They go through the connection's adapter on the process's exchange loop; errors are the
adapter error hierarchy, which the API turns into clean answers.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from exchanges.adapters.types import Balance, Capabilities, Market
from exchanges.factory import adapter_for_connection, call


def _balance_key(connection) -> str:
    return f"exchanges:balance:v2:{connection.pk}"  # (read at, Balance)


def connection_balance(*, connection, fresh: bool = False, stale_before: float | None = None) -> Balance:
    """The balance at the exchange, cached per connection for MARKET_TTL_BALANCE (30 s).

    Private data is never shared: the cache key is the connection. ``fresh`` skips the cache
    (and refreshes it), e.g. right after an order moved the balance; ``stale_before`` (unix
    time, e.g. the connection's latest fill) skips a cached balance read before that moment.
    """
    key = _balance_key(connection)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            read_at, balance = cached
            if stale_before is None or read_at >= stale_before:
                return balance
    read_at = time.time()  # before the request: a fill during it makes the copy stale
    balance = call(adapter_for_connection(connection), "fetch_balance")
    cache.set(key, (read_at, balance), timeout=settings.MARKET_CACHE_TTL["balance"])
    return balance


def balance_cached(*, connection) -> Balance | None:
    """The cached copy, if any (without asking the exchange)."""
    cached = cache.get(_balance_key(connection))
    return cached[1] if cached is not None else None


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
