"""ccxt exchange instances, reused per event loop, and their markets, shared per exchange.

Building a ccxt instance and loading its markets costs time and requests; a platform
that did it per call would hammer the exchanges. An instance is bound to the event loop
its HTTP session lives on, so the pool is per loop (the exchanges.runtime loop in web and
worker processes). Markets are shared between instances of the same exchange and base URL
(different keys, same market list) and reloaded after MARKETS_TTL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import weakref
from collections.abc import Callable

import ccxt.async_support as ccxt_async

MARKETS_TTL = 3600.0

_instances: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {key: exchange}
_markets: dict[tuple, tuple[float, object]] = {}  # (ccxt id, base url, testnet) -> (loaded at, exchange)
_HOST = re.compile(r"^https?://[^/]+")


def rewrite_urls(urls, base_url: str):
    """Every REST URL with its scheme and host replaced by ``base_url``; paths kept."""
    base = base_url.rstrip("/")
    if isinstance(urls, str):
        return _HOST.sub(base, urls) if _HOST.match(urls) else urls
    if isinstance(urls, dict):
        return {key: rewrite_urls(value, base_url) for key, value in urls.items()}
    return urls


def _key(ccxt_id: str, config: dict, api_base_url: str | None, testnet: bool) -> tuple:
    fingerprint = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return (ccxt_id, api_base_url or "", testnet, fingerprint)


def get_exchange(
    ccxt_id: str, *, config: dict, api_base_url: str | None, testnet: bool, prepare: Callable | None = None
):
    """The pooled instance for these settings on the running loop (built on first use)."""
    loop = asyncio.get_running_loop()
    pool = _instances.setdefault(loop, {})
    key = _key(ccxt_id, config, api_base_url, testnet)
    exchange = pool.get(key)
    if exchange is None:
        exchange = getattr(ccxt_async, ccxt_id)({"enableRateLimit": True, **config})
        if testnet:
            exchange.set_sandbox_mode(True)
        if api_base_url:
            exchange.urls["api"] = rewrite_urls(exchange.urls["api"], api_base_url)
        if prepare:
            prepare(exchange)
        _share_budget(exchange, ccxt_id, config=config, api_base_url=api_base_url, testnet=testnet)
        pool[key] = exchange
    return exchange


def _share_budget(exchange, ccxt_id: str, *, config: dict, api_base_url: str | None, testnet: bool) -> None:
    """Every request this instance makes pays ccxt's endpoint cost from a budget in Redis that
    every worker and process shares: the exchange's for public calls, the API key's for signed
    ones. Replaces ccxt's per-instance limiter, which knows nothing of the other workers."""
    from django.conf import settings

    from exchanges.resilience import api_key_key, budget_from_ccxt, install_on_ccxt, venue_key

    # A little under the exchange's published rate: requests sent evenly still arrive
    # bunched by the network, and an exchange counts what arrives.
    rate_limit_ms = float(settings.EXCHANGE_RATE_LIMIT_MS.get(ccxt_id, exchange.rateLimit))
    rate = budget_from_ccxt(rate_limit_ms)[0] * settings.RATE_LIMIT_HEADROOM
    capacity = rate * settings.RATE_LIMIT_CAPACITY_SECONDS  # may be under one request: no burst at all
    api_key = config.get("apiKey")
    install_on_ccxt(
        exchange,
        public_key=venue_key(ccxt_id, api_base_url=api_base_url, testnet=testnet),
        private_key=api_key_key(ccxt_id, api_key) if api_key else None,
        rate=rate,
        capacity=capacity,
        signed_pays_public=ccxt_id in settings.RATE_LIMIT_IP_WEIGHTED_EXCHANGES,
    )


async def load_markets(exchange, *, api_base_url: str | None, testnet: bool, reload: bool = False) -> dict:
    """Markets of ``exchange``, copied from a sibling instance that loaded them recently."""
    shared_key = (exchange.id, api_base_url or "", testnet)
    entry = _markets.get(shared_key)
    fresh = entry is not None and time.monotonic() - entry[0] < MARKETS_TTL
    if fresh and not reload:
        if not exchange.markets and entry[1] is not exchange:
            exchange.set_markets_from_exchange(entry[1])
        if exchange.markets:
            return exchange.markets
    markets = await exchange.load_markets(reload=bool(exchange.markets))
    _markets[shared_key] = (time.monotonic(), exchange)
    return markets


def markets_fresh(ccxt_id: str, *, api_base_url: str | None, testnet: bool) -> bool:
    entry = _markets.get((ccxt_id, api_base_url or "", testnet))
    return entry is not None and time.monotonic() - entry[0] < MARKETS_TTL


def fresh_markets_holder(ccxt_id: str, *, api_base_url: str | None, testnet: bool):
    """The instance (of any loop) holding fresh markets for these settings, else None.
    Only its ``markets`` may be read from another thread; nothing is sent with it."""
    entry = _markets.get((ccxt_id, api_base_url or "", testnet))
    if entry is None or time.monotonic() - entry[0] >= MARKETS_TTL or not entry[1].markets:
        return None
    return entry[1]


async def close_all() -> None:
    """Close every pooled instance of the running loop (at shutdown, in tests)."""
    pool = _instances.pop(asyncio.get_running_loop(), {})
    for exchange in pool.values():
        await exchange.close()
    for key, (_, exchange) in list(_markets.items()):
        if exchange in pool.values():
            del _markets[key]


def forget_markets() -> None:
    _markets.clear()


def _register_with_runtime() -> None:
    from exchanges import runtime

    runtime.register_closer(close_all)


_register_with_runtime()
