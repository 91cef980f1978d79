"""One exchange call under the breakers, with its outcome recorded.

    async with guarded(venue_key("binance"), connection_key(42)) as g:
        balance = await adapter.fetch_balance()

Before: every key's breaker is asked (CircuitOpen while one is open; a probe won for one
key is given back if another is open). After: breakers and health are told the outcome.
Each is one Redis round trip for all the keys of the call (a script before, a pipeline
after), not one per key and kind. A success resets the breakers at once only where the
check found a record (failures counted, a probe): elsewhere there is nothing to reset, and
its health record goes with the loop's next batch (health.HealthBatch), so the usual
success costs no round trip after the call. With ``check_on_first_request`` (ccxt adapters,
whose every request pays the shared budget first: ccxt_budget) the check is made by the
call's first request, in the same script as that request's budget: one round trip fewer
per call, and a call that makes no request neither asks nor records anything.
Errors are blamed where they belong:

- no answer, maintenance, 5xx, timeout (ExchangeConnectionError, ExchangeUnavailable):
  the exchange, so every key;
- rate limit, clock skew, authentication, unknown exchange errors: the caller's own key
  (the connection for a private call, the exchange for a public one); the exchange
  itself answered, which counts as its success;
- a refused request (insufficient funds, invalid order, not found, bad symbol, not
  supported): nobody; the exchange and the connection both work.

A RateLimited also penalizes ``budget_key`` (default: ``public_key`` on public calls) with
its ``retry_after``. Other exceptions are bugs: they pass through, nothing is recorded.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from exchanges.adapters.errors import (
    BadSymbol,
    ExchangeConnectionError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    RateLimited,
)
from exchanges.resilience.breaker import CircuitBreaker, CircuitOpen
from exchanges.resilience.breaker import breaker as default_breaker
from exchanges.resilience.connection import async_client, run_batch
from exchanges.resilience.health import Health
from exchanges.resilience.health import health as default_health
from exchanges.resilience.ratelimit import RateLimiter
from exchanges.resilience.ratelimit import limiter as default_limiter

T = TypeVar("T")

VENUE_ERRORS = (ExchangeConnectionError, ExchangeUnavailable)
ANSWERS = (InsufficientFunds, InvalidOrder, OrderNotFound, BadSymbol, NotSupported)


@dataclass
class Guard:
    keys: list[str]
    probes: list[str] = field(default_factory=list)  # keys whose half-open probe this call is
    dirty: list[str] = field(default_factory=list)  # keys whose breaker has a record to reset
    latency_ms: float | None = None  # set when the call is over
    breaker: CircuitBreaker | None = None  # set while the check waits for the call's first request
    check: asyncio.Future | None = None  # that check, once a request started it

    @property
    def sent(self) -> bool:
        """Whether the call may have reached the exchange (a deferred check that never ran:
        it made no request, so it has no outcome to record)."""
        return self.breaker is None or self.check is not None

    async def check_with(self, combined: Callable[[], Awaitable[object]]) -> bool:
        """Before a request of this call: the deferred breaker check. The first request runs
        ``combined`` (the check and its own budget in one round trip; it fills ``probes``)
        and gets True: its budget is paid. Requests made meanwhile wait for that verdict,
        later ones have it; both get False and pay their budget as usual."""
        if self.check is not None:
            await asyncio.shield(self.check)  # CircuitOpen for every request of a refused call
            return False
        self.check = asyncio.get_running_loop().create_future()
        try:
            await combined()
        except BaseException as exc:
            self.check.set_exception(exc)
            self.check.exception()  # retrieved: its own request raises it
            raise
        self.check.set_result(None)
        return True


_deferred: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("guard_deferred_check", default=None)


def deferred_guard() -> Guard | None:
    """The running call's guard when its breaker check waits for the first request."""
    return _deferred.get()


@asynccontextmanager
async def guarded(
    public_key: str,
    private_key: str | None = None,
    *,
    budget_key: str | None = None,
    breaker: CircuitBreaker | None = None,
    health: Health | None = None,
    limiter: RateLimiter | None = None,
    check_on_first_request: bool = False,
) -> AsyncIterator[Guard]:
    breaker, health = breaker or default_breaker, health or default_health
    guard = Guard(keys=[key for key in (public_key, private_key) if key])
    deferred = None
    if check_on_first_request:
        guard.breaker = breaker
        deferred = _deferred.set(guard)
    else:
        guard.probes, guard.dirty = await breaker.check(guard.keys)  # CircuitOpen gives its probes back
    started = time.perf_counter()
    try:
        yield guard
    except CircuitOpen:  # refused (here, or by a nested guard): this call never reached the exchange
        await _release(breaker, guard.probes)
        raise
    except ExchangeError as exc:
        if not guard.sent:
            raise  # raised before any request: nothing to tell the breakers or health
        guard.latency_ms = (time.perf_counter() - started) * 1000
        blamed = _blamed(exc, public_key, private_key)
        await health.flush()  # this loop's earlier successes go before this outcome
        await asyncio.gather(
            *(_failure(breaker, health, key, exc) for key in blamed),
            *(_success(breaker, health, key, guard.latency_ms) for key in guard.keys if key not in blamed),
        )
        budget = budget_key or (public_key if private_key is None else None)
        if isinstance(exc, RateLimited) and budget:
            await (limiter or default_limiter).penalize(budget, exc.retry_after)
        raise
    except BaseException:
        await _release(breaker, guard.probes)
        raise
    finally:
        if deferred is not None:
            _deferred.reset(deferred)
    guard.latency_ms = (time.perf_counter() - started) * 1000
    if not guard.sent:
        return
    if guard.probes or guard.dirty:  # a breaker to close or reset: at once, with the health records
        await health.flush()
        await _successes(breaker, health, guard.keys, guard.latency_ms)
    else:
        await health.batch().add(guard.keys, guard.latency_ms)


async def guarded_call(
    call: Callable[[], Awaitable[T]],
    *,
    public_key: str,
    private_key: str | None = None,
    budget_key: str | None = None,
    breaker: CircuitBreaker | None = None,
    health: Health | None = None,
    limiter: RateLimiter | None = None,
) -> T:
    """``await guarded_call(lambda: adapter.fetch_ticker("BTC/USDT"), public_key=...)``."""
    async with guarded(public_key, private_key, budget_key=budget_key, breaker=breaker, health=health, limiter=limiter):
        return await call()


def _blamed(exc: ExchangeError, public_key: str, private_key: str | None) -> list[str]:
    if isinstance(exc, VENUE_ERRORS):
        return [key for key in (public_key, private_key) if key]
    if isinstance(exc, ANSWERS):
        return []
    return [private_key or public_key]


async def _success(breaker: CircuitBreaker, health: Health, key: str, latency_ms: float) -> None:
    await breaker.record_success(key)
    await health.record(key, ok=True, latency_ms=latency_ms)


async def _successes(breaker: CircuitBreaker, health: Health, keys: list[str], latency_ms: float) -> None:
    """Every key's breaker reset and health recorded in one round trip (one Redis for both)."""
    if breaker.redis_url != health.redis_url:
        await asyncio.gather(*(_success(breaker, health, key, latency_ms) for key in keys))
        return
    calls = []
    for key in keys:
        calls += [breaker.success_command(key), health.record_call(key, ok=True, latency_ms=latency_ms)]
    await run_batch(async_client(breaker.redis_url), calls)


async def _failure(breaker: CircuitBreaker, health: Health, key: str, exc: ExchangeError) -> None:
    await breaker.record_failure(key, exc)
    await health.record(key, ok=False, error=f"{exc.code}: {exc}", rate_limited=isinstance(exc, RateLimited))


async def _release(breaker: CircuitBreaker, keys: list[str]) -> None:
    for key in keys:
        await breaker.release_probe(key)
