"""Price and connection events: to the dashboards (Channels groups) and to code in the
platform (Redis pub/sub, read with ``subscribe_to_price_updates`` /
``subscribe_to_connection_events``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from channels.layers import get_channel_layer

from exchanges.adapters.types import Ticker
from exchanges.events import channel_name as connections_channel
from trading.market.cache import ticker_to_json
from trading.market.redis import async_client, key
from trading.market.venues import Venue, price_group

PRICES = "prices"


def _channel(name: str) -> str:
    return key("events", name)


async def prices_publish(venue: Venue, tickers: dict[str, Ticker], fetched_at: float) -> None:
    """One event per symbol to its shared group, and one batch to platform subscribers."""
    layer = get_channel_layer()
    batch = []
    for symbol, ticker in tickers.items():
        data = json.loads(ticker_to_json(ticker, fetched_at)) | {"venue": venue.key}
        batch.append(data)
        await layer.group_send(price_group(venue, symbol), {"type": "dashboard.event", "event": "price", "data": data})
    if batch:
        await async_client().publish(_channel(PRICES), json.dumps({"venue": venue.as_dict(), "tickers": batch}))


async def _subscribe(channel: str) -> AsyncIterator[dict]:
    pubsub = async_client().pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                yield json.loads(message["data"])
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()


def subscribe_to_price_updates() -> AsyncIterator[dict]:
    """``async for update in subscribe_to_price_updates(): ...``: every poll's tickers of a
    venue, as ``{"venue": {...}, "tickers": [{"symbol", "price", "bid", "ask", ...}]}``."""
    return _subscribe(_channel(PRICES))


def subscribe_to_connection_events() -> AsyncIterator[dict]:
    """``async for event in subscribe_to_connection_events(): ...``: every connection test's
    outcome, as ``{"id", "tenant_id", "exchange", "label", "status", "latency_ms", "last_error"}``."""
    return _subscribe(connections_channel())
