"""Names for the things budgets, breakers and health are kept for.

Any string works as a key; these helpers make the platform's keys uniform:

- ``venue:<exchange_id>:<where>``: one exchange at one address, shared by every tenant
  (public budget, exchange breaker, exchange health). ``<where>`` is ``live``, ``testnet``
  or the first 8 hex digits of sha1(api_base_url) for a proxy, testnet URL or simulator.
- ``conn:<connection id>``: one saved connection (private breaker, connection health).
- ``apikey:<exchange_id>:<sha256(api key)[:16]>``: the budget of one API key, shared by
  every connection that uses that key. The key itself never reaches Redis.
"""

from __future__ import annotations

import hashlib


def venue_key(exchange_id: str, *, api_base_url: str | None = None, testnet: bool = False) -> str:
    if api_base_url:
        where = hashlib.sha1(api_base_url.rstrip("/").encode(), usedforsecurity=False).hexdigest()[:8]
    else:
        where = "testnet" if testnet else "live"
    return f"venue:{exchange_id}:{where}"


def connection_key(connection_id: object) -> str:
    return f"conn:{connection_id}"


def api_key_key(exchange_id: str, api_key: str) -> str:
    return f"apikey:{exchange_id}:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"


#: the adapter methods that use the account (the rest is public market data)
PRIVATE_METHODS = frozenset(
    {
        "fetch_balance",
        "create_order",
        "fetch_order",
        "cancel_order",
        "fetch_open_orders",
        "fetch_closed_orders",
        "fetch_my_trades",
        "fetch_positions",
        "set_leverage",
        "test_connection",
    }
)


def adapter_keys(adapter, method: str) -> dict[str, str | None]:
    """The guard's keys for one call of an adapter method (``guarded(**adapter_keys(...))``).

    The connection id comes from ``adapter.options["account_id"]`` (set by
    exchanges.factory.adapter_for_connection); the API key is only hashed.
    """
    public = venue_key(adapter.exchange_id, api_base_url=adapter.api_base_url, testnet=adapter.testnet)
    account_id = (adapter.options or {}).get("account_id")
    if method not in PRIVATE_METHODS or account_id is None:
        return {"public_key": public, "private_key": None, "budget_key": None}
    api_key = adapter.credentials.as_ccxt().get("apiKey") if adapter.credentials else None
    return {
        "public_key": public,
        "private_key": connection_key(account_id),
        "budget_key": api_key_key(adapter.exchange_id, api_key) if api_key else None,
    }
