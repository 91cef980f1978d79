"""Redis clients: one asyncio client per event loop, one plain client per process.

An asyncio connection belongs to the loop it was opened on. The platform runs adapters on
one loop per process (exchanges.runtime) and pytest-asyncio gives each test its own, so the
clients are cached per running loop and dropped with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import weakref

import redis
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from exchanges import runtime
from exchanges.resilience import conf

_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {url: client}
_sync_clients: dict[tuple[int, str], redis.Redis] = {}
_sync_lock = threading.Lock()


def async_client(url: str | None = None) -> aioredis.Redis:
    """The asyncio client of the running loop for ``url`` (default: the configured Redis)."""
    url = url or conf.redis_url()
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = aioredis.Redis.from_url(url, decode_responses=True)
    return client


def sync_client(url: str | None = None) -> redis.Redis:
    """A plain client for sync readers (views, admin); thread-safe, one per process."""
    url = url or conf.redis_url()
    key = (os.getpid(), url)  # a forked worker opens its own connections
    with _sync_lock:
        client = _sync_clients.get(key)
        if client is None:
            client = _sync_clients[key] = redis.Redis.from_url(url, decode_responses=True)
        return client


async def close_async_clients() -> None:
    """Close the running loop's clients (at process exit; at the end of a test)."""
    for client in _async_clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()


class Lua:
    """A Lua script run by its SHA1, sent in full only when the server does not know it."""

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, client: aioredis.Redis, keys: list[str], args: list) -> list:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


async def run_batch(client: aioredis.Redis, calls: list[tuple]) -> list:
    """Several independent commands and scripts in one round trip (a pipeline, not a
    transaction); their results in order.

    ``calls``: ``("command", *args)`` or ``(lua, keys, args)`` with a ``Lua`` script. A
    script the server does not know yet (a restarted Redis) is sent in full afterwards,
    alone, so it runs after the rest: the calls must not depend on one another's order.
    The first error is raised once every call has run (as separate round trips would have).
    """
    async with client.pipeline(transaction=False) as pipe:
        for call in calls:
            if isinstance(call[0], Lua):
                script, keys, args = call
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            else:
                pipe.execute_command(*call)
        results = await pipe.execute(raise_on_error=False)
    for index, (call, result) in enumerate(zip(calls, results, strict=True)):
        if isinstance(result, NoScriptError) and isinstance(call[0], Lua):
            results[index] = await call[0](client, call[1], call[2])
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def fmt(value: float) -> str:
    """Numbers go to Lua as strings; repr keeps every digit."""
    return repr(float(value))


runtime.register_closer(close_async_clients)
