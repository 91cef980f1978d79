"""Adapters for connections: the one place where credentials are decrypted, for the call."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from django.conf import settings

from exchanges import redaction, runtime
from exchanges.adapters.base import ExchangeAdapter
from exchanges.adapters.ccxt_adapter import CcxtAdapter
from exchanges.adapters.ccxt_exchanges import SEED_ADAPTERS
from exchanges.adapters.registry import registered
from exchanges.adapters.types import Credentials


def adapter_class(exchange_id: str) -> type[ExchangeAdapter]:
    """The registered adapter, the seed exchange's subclass, or the generic ccxt adapter."""
    from exchanges.catalog import canonical_id

    exchange_id = canonical_id(exchange_id)
    registration = registered().get(exchange_id)
    if registration is not None:
        return registration.adapter_class
    if exchange_id in SEED_ADAPTERS:
        return SEED_ADAPTERS[exchange_id]
    return type(
        f"{exchange_id.capitalize()}Adapter", (CcxtAdapter,), {"ccxt_id": exchange_id, "exchange_id": exchange_id}
    )


def build_adapter(
    exchange_id: str,
    credentials: Credentials | None = None,
    *,
    api_base_url: str | None = None,
    testnet: bool = False,
    options: dict | None = None,
) -> ExchangeAdapter:
    if credentials is not None:
        redaction.remember(*credentials.values())
    options = {"timeout_ms": settings.EXCHANGE_TIMEOUT_MS, **(options or {})}
    return adapter_class(exchange_id)(credentials, api_base_url=api_base_url or None, testnet=testnet, options=options)


def adapter_for_connection(connection) -> ExchangeAdapter:
    """The adapter of a saved connection, its credentials decrypted for this use only."""
    return build_adapter(
        connection.exchange,
        connection.credentials,
        api_base_url=connection.api_base_url,
        testnet=connection.testnet,
        options={"account_id": connection.pk},
    )


def public_adapter(exchange_id: str, *, api_base_url: str | None = None, testnet: bool = False) -> ExchangeAdapter:
    """An adapter without keys, for public market data shared by every tenant."""
    return build_adapter(exchange_id, None, api_base_url=api_base_url, testnet=testnet)


def call(adapter: ExchangeAdapter, method: str, *args, timeout: float = 60, **kwargs):
    """For sync code (views, tasks): run one adapter method, then release what the adapter
    holds for itself (pooled ccxt instances stay for the next call).

    Network adapters run on the process's exchange loop, where their pooled sessions live.
    An adapter that uses the Django database runs through async_to_sync on the caller's
    thread instead: under ASGI the caller already is Django's thread-sensitive thread, and
    a database call sent there from another loop would wait for it forever.
    """

    async def go():
        try:
            async with asyncio.timeout(timeout):  # in this task: wait_for would start another
                return await getattr(adapter, method)(*args, **kwargs)
        finally:
            await adapter.close()

    if adapter.uses_django_db:
        return async_to_sync(go)()
    return runtime.run(go(), timeout=timeout + 5)
