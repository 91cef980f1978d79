"""Redis clients for market data: a sync one per process, an async one per event loop."""

from __future__ import annotations

import asyncio
import weakref

import redis
import redis.asyncio as aredis
from django.conf import settings

_sync: redis.Redis | None = None
_async: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sync_client() -> redis.Redis:
    global _sync
    if _sync is None:
        _sync = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return _sync


def async_client() -> aredis.Redis:
    loop = asyncio.get_running_loop()
    client = _async.get(loop)
    if client is None:
        client = _async[loop] = aredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return client


def key(*parts: str) -> str:
    return ":".join((settings.MARKET_KEY_PREFIX, *parts))
