"""Every HTTP request of a ccxt instance paid from the shared budget in Redis.

ccxt throttles in ``fetch2``: ``cost = calculate_rate_limiter_cost(api, method, path,
params, config)`` (the endpoint's weight from the exchange's api definition, in units of
``rateLimit`` milliseconds), then ``await throttle(cost)`` on the instance's own leaky
bucket, then ``sign`` and ``fetch``. Every request goes through ``fetch2`` (load_markets'
several requests too); no exchange overrides it. ``install_on_ccxt`` puts a ``fetch2`` on
the instance that pays the same cost from our bucket (public endpoints from the exchange's
key, signed ones from the API key's) and makes ccxt's own ``throttle`` a no-op, so a
process-local limiter never adds to (or undercuts) the fleet's shared one.

ccxt is not imported here (only exchanges.adapters imports it): the instance is used as it
comes, and ccxt's rate-limit errors are recognised by class name.
"""

from __future__ import annotations

import copy
import email.utils
import time
from collections.abc import Mapping

from exchanges.resilience import conf
from exchanges.resilience.guard import deferred_guard
from exchanges.resilience.ratelimit import RateLimiter, budget_from_ccxt
from exchanges.resilience.ratelimit import limiter as default_limiter

_RATE_LIMIT_ERRORS = {"RateLimitExceeded", "DDoSProtection"}  # ccxt's answers to 429/418
_INSTALLED = "_resilience_budget"


async def _no_throttle(cost=None) -> None:
    """ccxt's own limiter, switched off: the shared budget was paid before."""


def install_on_ccxt(
    exchange,
    *,
    public_key: str,
    private_key: str | None = None,
    limiter: RateLimiter | None = None,
    rate: float | None = None,
    capacity: float | None = None,
    max_wait: float | None = None,
    signed_pays_public: bool = False,
):
    """Make every request of ``exchange`` pay its ccxt cost from the shared budget first.

    With ``signed_pays_public`` a signed request pays from both budgets: for exchanges that
    weigh every request against the caller's IP too (Binance), whatever key signed it.

    ``rate``/``capacity`` (cost units per second / burst) default to the exchange's ccxt
    ``rateLimit`` (see budget_from_ccxt) and RATE_LIMIT_CAPACITY_SECONDS. Signed requests
    pay from ``private_key`` (the API key's budget) when given, everything else from
    ``public_key``. A 429/418 answer
    penalizes the key that paid for the request. Installing again replaces the settings.
    Returns ``exchange``.
    """
    limiter = limiter or default_limiter
    if rate is None:
        seconds = float(conf.get("RATE_LIMIT_CAPACITY_SECONDS"))
        rate, default_capacity = budget_from_ccxt(exchange.rateLimit, capacity_seconds=seconds)
        capacity = default_capacity if capacity is None else capacity
    elif capacity is None:
        capacity = max(1.0, rate)
    original = getattr(exchange, _INSTALLED, {}).get("fetch2") or exchange.fetch2
    signed_endpoints: dict[tuple, bool] = {}

    async def fetch2(path, api=("public",), method="GET", params=None, config=None):
        params = {} if params is None else params
        config = {} if config is None else config
        cost = float(exchange.calculate_rate_limiter_cost(api, method, path, params, config) or 1)
        keys = [public_key]
        if private_key is not None:
            endpoint = (tuple(api) if isinstance(api, list | tuple) else api, method, path)
            if endpoint not in signed_endpoints:
                signed_endpoints[endpoint] = is_signed(exchange, path, api, method, params)
            if signed_endpoints[endpoint]:
                keys = [public_key, private_key] if signed_pays_public else [private_key]
        guard = deferred_guard()  # the call's breaker check, deferred to its first request
        paid = guard is not None and await guard.check_with(
            lambda: limiter.acquire_checked(keys, cost, rate=rate, capacity=capacity, max_wait=max_wait,
                                            breaker=guard.breaker, breaker_keys=guard.keys, probes=guard.probes,
                                            dirty=guard.dirty)
        )  # fmt: skip
        if not paid and len(keys) == 1:
            await limiter.acquire(keys[0], cost, rate=rate, capacity=capacity, max_wait=max_wait)
        elif not paid:  # both budgets, in turn, in one round trip while neither makes it wait
            await limiter.acquire_all(keys, cost, rate=rate, capacity=capacity, max_wait=max_wait)
        try:
            return await original(path, api, method, params, config)
        except Exception as exc:
            if is_rate_limit_error(exc):
                for key in keys:
                    await on_rate_limited(key, headers=exchange.last_response_headers, limiter=limiter)
            raise

    exchange.fetch2 = fetch2
    exchange.throttle = _no_throttle
    setattr(
        exchange,
        _INSTALLED,
        {"fetch2": original, "public_key": public_key, "private_key": private_key, "rate": rate, "capacity": capacity},
    )
    return exchange


def is_signed(exchange, path: str, api, method: str, params: dict) -> bool:
    """Whether ccxt signs this endpoint: it is named private, or signing it puts the API
    key into the request. ``sign`` only builds the request; nothing is sent."""
    names = api if isinstance(api, list | tuple) else [api]
    if any("private" in str(name).lower() for name in names):
        return True
    api_key = getattr(exchange, "apiKey", None)
    if not api_key:
        return False
    try:
        request = exchange.sign(path, api, method, copy.deepcopy(params))
    except Exception:
        return True  # sign refused (say, a credential missing): not something anyone may call
    parts = (request.get("url"), request.get("body"), *(dict(request.get("headers") or {}).values()))
    return any(api_key in str(part) for part in parts if part)


def is_rate_limit_error(exc: BaseException) -> bool:
    """ccxt's RateLimitExceeded / DDoSProtection (429, 418 and the exchanges' own codes)."""
    return any(cls.__name__ in _RATE_LIMIT_ERRORS for cls in type(exc).__mro__)


def retry_after_seconds(headers: Mapping | None) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110)."""
    if not headers:
        return None
    value = next((v for k, v in dict(headers).items() if str(k).lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(str(value)).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def on_rate_limited(
    key: str,
    *,
    retry_after: float | None = None,
    headers: Mapping | None = None,
    limiter: RateLimiter | None = None,
) -> dict:
    """A 429/418 (or the exchange's own rate-limit code) for ``key``: pause every caller of
    that budget for Retry-After (``retry_after`` or the ``headers``) and shrink its rate."""
    if retry_after is None:
        retry_after = retry_after_seconds(headers)
    return await (limiter or default_limiter).penalize(key, retry_after)
