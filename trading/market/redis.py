"""Redis for market data: the platform's shared clients (exchanges.resilience.connection),
on REDIS_URL, with the market key prefix."""

from __future__ import annotations

import redis
import redis.asyncio as aredis
from django.conf import settings

from exchanges.resilience import connection


def sync_client() -> redis.Redis:
    return connection.sync_client(settings.REDIS_URL)


def async_client() -> aredis.Redis:
    return connection.async_client(settings.REDIS_URL)


def key(*parts: str) -> str:
    return ":".join((settings.MARKET_KEY_PREFIX, *parts))
