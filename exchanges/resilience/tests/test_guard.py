"""One exchange call under the breakers, with health recorded and errors blamed where due."""

from __future__ import annotations

import asyncio

import pytest

from exchanges.adapters.errors import (
    AuthenticationFailed,
    ExchangeConnectionError,
    InvalidOrder,
    RateLimited,
)
from exchanges.resilience import health
from exchanges.resilience.breaker import CircuitBreaker, CircuitOpen
from exchanges.resilience.guard import guarded, guarded_call
from exchanges.resilience.ratelimit import RateLimiter

VENUE, CONN = "venue:binance:live", "conn:42"


@pytest.fixture
def breaker(prefix, settings) -> CircuitBreaker:
    settings.CIRCUIT_BREAKER_FAILURES = 3
    settings.CIRCUIT_BREAKER_OPEN_SECONDS = 0.3
    from exchanges.resilience.breaker import breaker

    return breaker  # the default one, configured by the settings above


class Exchange:
    """Counts the calls that reach it; answers with ``result`` or raises ``error``."""

    def __init__(self, error: BaseException | None = None, result: object = "ok"):
        self.calls, self.error, self.result = 0, error, result

    async def __call__(self):
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.error is not None:
            raise self.error
        return self.result


async def test_a_successful_call_is_recorded_with_its_latency(breaker):
    exchange = Exchange(result={"last": 1})
    async with guarded(VENUE, CONN) as guard:
        assert await exchange() == {"last": 1}
    assert guard.latency_ms >= 10
    for key in (VENUE, CONN):
        summary = await health.summary(key)
        assert summary["status"] == "connected" and summary["samples"] == 1


async def test_maintenance_opens_the_exchange_and_further_calls_are_skipped(breaker):
    exchange = Exchange(error=ExchangeConnectionError("connection refused", exchange="binance"))
    for _ in range(3):
        with pytest.raises(ExchangeConnectionError):
            await guarded_call(exchange, public_key=VENUE, private_key=CONN)
    with pytest.raises(CircuitOpen) as skipped:
        await guarded_call(exchange, public_key=VENUE)
    assert exchange.calls == 3  # the fourth never reached the exchange
    assert skipped.value.retry_after > 0
    assert (await health.summary(VENUE))["status"] == "failed"
    assert (await health.summary(CONN))["last_error"] == "connection: binance: connection refused"

    await asyncio.sleep(0.35)  # half-open: the probe succeeds and closes it
    exchange.error = None
    assert await guarded_call(exchange, public_key=VENUE) == "ok"
    assert (await breaker.state(VENUE))["state"] == "closed"


async def test_a_refused_request_blames_nobody(breaker):
    exchange = Exchange(error=InvalidOrder("below the minimum"))
    for _ in range(5):
        with pytest.raises(InvalidOrder):
            await guarded_call(exchange, public_key=VENUE, private_key=CONN)
    assert (await breaker.state(VENUE))["failures"] == 0
    assert (await health.summary(CONN))["status"] == "connected"


async def test_an_account_problem_blames_the_connection_not_the_exchange(breaker):
    exchange = Exchange(error=AuthenticationFailed("invalid api key"))
    with pytest.raises(AuthenticationFailed):
        await guarded_call(exchange, public_key=VENUE, private_key=CONN)
    assert (await health.summary(CONN))["last_error"] == "authentication: invalid api key"
    assert (await health.summary(VENUE))["status"] == "connected"


async def test_a_rate_limit_pauses_the_budget(prefix, breaker):
    exchange = Exchange(error=RateLimited("429", retry_after=1.5))
    with pytest.raises(RateLimited):
        await guarded_call(exchange, public_key=VENUE)
    state = await RateLimiter(prefix=prefix).state(VENUE)
    assert state["paused_until"] is not None and state["factor"] == 0.5
    assert (await health.summary(VENUE))["status"] == "limited"

    with pytest.raises(RateLimited):  # private: the API key's budget, named by the caller
        await guarded_call(exchange, public_key=VENUE, private_key=CONN, budget_key="apikey:binance:abc")
    assert (await RateLimiter(prefix=prefix).state("apikey:binance:abc"))["paused_until"] is not None


async def test_bugs_pass_through_untouched(breaker):
    with pytest.raises(ZeroDivisionError):
        async with guarded(VENUE, CONN):
            1 / 0
    assert (await health.summary(VENUE))["status"] == "unknown"


async def test_a_probe_is_given_back_when_the_connection_is_open(prefix, breaker):
    for _ in range(3):
        await breaker.record_failure(VENUE, ExchangeConnectionError("down"))
    await breaker.record_failure(CONN, ExchangeConnectionError("down"))
    await asyncio.sleep(0.35)
    for _ in range(2):
        await breaker.record_failure(CONN, ExchangeConnectionError("down"))  # just opened
    exchange = Exchange()
    with pytest.raises(CircuitOpen):
        await guarded_call(exchange, public_key=VENUE, private_key=CONN)
    assert exchange.calls == 0
    assert not (await breaker.state(VENUE))["probing"]  # the next public caller may probe
    assert await guarded_call(exchange, public_key=VENUE) == "ok"


async def test_a_cancelled_probe_is_given_back(breaker):
    for _ in range(3):
        await breaker.record_failure(VENUE, ExchangeConnectionError("down"))
    await asyncio.sleep(0.35)
    task = asyncio.create_task(guarded_call(lambda: asyncio.sleep(10), public_key=VENUE))
    await asyncio.sleep(0.05)
    assert (await breaker.state(VENUE))["probing"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (await breaker.state(VENUE))["probing"]


async def test_a_batch_sends_a_script_redis_does_not_know_yet_in_full(prefix):
    from exchanges.resilience.connection import Lua, async_client, run_batch

    script = Lua(f"-- {prefix}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")  # a SHA no server has seen
    key, other = f"{prefix}:batch", f"{prefix}:other"
    results = await run_batch(async_client(), [("SET", key, "1"), (script, [key], [2]), ("SET", other, "x")])
    assert results == [True, 3, True]
    assert await run_batch(async_client(), [(script, [key], [1]), ("GET", other)]) == [4, "x"]  # known now
