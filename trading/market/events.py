"""Price and connection events: to the dashboards (Channels groups) and to code in the
platform (Redis pub/sub, read with ``subscribe_to_price_updates`` /
``subscribe_to_connection_events``)."""

from __future__ import annotations

import asyncio
import json
import time
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


#: a price group hears an unchanged ticker again after this many seconds (its age moves on)
PRICE_KEEPALIVE_SECONDS = 5.0
#: (venue key, symbol) -> ((price, bid, ask), when last sent to its group), in this process only:
#: another poller process that polls the venue next sends once more, which is harmless
_last_sent: dict[tuple[str, str], tuple[tuple, float]] = {}


def _changed(venue: Venue, symbol: str, ticker: Ticker, now: float) -> bool:
    quote = (ticker.price, ticker.bid, ticker.ask)
    last = _last_sent.get((venue.key, symbol))
    if last is not None and last[0] == quote and now - last[1] < PRICE_KEEPALIVE_SECONDS:
        return False
    _last_sent[(venue.key, symbol)] = (quote, now)
    return True


async def prices_publish(venue: Venue, tickers: dict[str, Ticker], fetched_at: float) -> None:
    """Each changed ticker to its shared group (dashboards), every poll's batch to platform
    subscribers; all sends at once, so a poll waits for one Redis round trip, not one per symbol."""
    layer = get_channel_layer()
    batch, sends = [], []
    now = time.monotonic()
    for symbol, ticker in tickers.items():
        data = json.loads(ticker_to_json(ticker, fetched_at)) | {"venue": venue.key}
        batch.append(data)
        if _changed(venue, symbol, ticker, now):
            message = {"type": "dashboard.event", "event": "price", "data": data}
            sends.append(layer.group_send(price_group(venue, symbol), message))
    if batch:
        sends.append(async_client().publish(_channel(PRICES), json.dumps({"venue": venue.as_dict(), "tickers": batch})))
    await asyncio.gather(*sends)


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
