"""Connection status changes for code in the platform (Redis pub/sub); dashboards get them
through their tenant's Channels group. Read with
trading.market.events.subscribe_to_connection_events()."""

from __future__ import annotations

import json

from django.conf import settings

from exchanges.resilience.connection import sync_client

CONNECTIONS_CHANNEL = "events:connections"


def channel_name() -> str:
    return f"{settings.MARKET_KEY_PREFIX}:{CONNECTIONS_CHANNEL}"


def connection_event_publish(data: dict) -> None:
    sync_client(settings.REDIS_URL).publish(channel_name(), json.dumps(data, default=str))
