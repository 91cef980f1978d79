"""The circuit breaker: opens, skips, probes (one caller in all processes), closes."""

from __future__ import annotations

import asyncio
import time

import pytest

from exchanges.adapters.errors import (
    AuthenticationFailed,
    ExchangeTimeout,
    ExchangeUnavailable,
    InvalidOrder,
)
from exchanges.resilience.breaker import CircuitBreaker, CircuitOpen, breaker_state_sync

MAINTENANCE = ExchangeUnavailable("under maintenance", exchange="binance")


@pytest.fixture
def breaker(prefix) -> CircuitBreaker:
    return CircuitBreaker(prefix=prefix, failures=3, open_seconds=0.5, max_open_seconds=1.5, probe_seconds=5)


async def open_circuit(breaker: CircuitBreaker, key: str = "venue:binance:live") -> None:
    for _ in range(3):
        await breaker.record_failure(key, MAINTENANCE)


async def try_call(breaker: CircuitBreaker, key: str = "venue:binance:live") -> bool | None:
    """True: let through as the probe; False: let through; None: skipped (CircuitOpen)."""
    try:
        return await breaker.before_call(key)
    except CircuitOpen:
        return None


async def test_opens_after_n_consecutive_temporary_failures(breaker):
    key = "venue:binance:live"
    assert await breaker.before_call(key) is False
    assert await breaker.record_failure(key, MAINTENANCE) == "closed"
    assert await breaker.record_failure(key, ExchangeTimeout("slow")) == "closed"
    assert (await breaker.state(key))["failures"] == 2
    assert await breaker.record_failure(key, MAINTENANCE) == "open"

    state = await breaker.state(key)
    assert state["state"] == "open"
    assert state["retry_at"] - state["opened_at"] == pytest.approx(0.5, abs=0.01)
    assert not await breaker.is_available(key)


async def test_permanent_errors_do_not_count_and_break_the_streak(breaker):
    key = "conn:7"
    for _ in range(5):
        await breaker.record_failure(key, InvalidOrder("below the minimum"))
        await breaker.record_failure(key, AuthenticationFailed("bad key"))
    assert (await breaker.state(key))["state"] == "closed"

    await breaker.record_failure(key, MAINTENANCE)
    await breaker.record_failure(key, MAINTENANCE)
    await breaker.record_failure(key, InvalidOrder("the exchange answered"))
    await breaker.record_failure(key, MAINTENANCE)
    state = await breaker.state(key)
    assert (state["state"], state["failures"]) == ("closed", 1)


async def test_skips_calls_while_open(breaker):
    await open_circuit(breaker)
    with pytest.raises(CircuitOpen) as skipped:
        await breaker.before_call("venue:binance:live")
    error = skipped.value
    assert isinstance(error, ExchangeUnavailable) and error.temporary  # retry/failover treat it as such
    assert error.code == "circuit_open"
    assert 0.3 < error.retry_after <= 0.5
    assert await breaker.before_call("venue:okx:live") is False  # other exchanges are not affected


async def test_half_open_lets_exactly_one_of_ten_concurrent_callers_probe(breaker):
    await open_circuit(breaker)
    await asyncio.sleep(0.55)
    assert (await breaker.state("venue:binance:live"))["state"] == "half_open"
    assert await breaker.is_available("venue:binance:live")  # routing may try it ...

    results = await asyncio.gather(*(try_call(breaker) for _ in range(10)))
    assert results.count(True) == 1
    assert results.count(None) == 9
    state = await breaker.state("venue:binance:live")
    assert state["state"] == "half_open" and state["probing"]
    assert not await breaker.is_available("venue:binance:live")  # ... until someone probes it


async def test_a_successful_probe_closes_it(breaker):
    await open_circuit(breaker)
    await asyncio.sleep(0.55)
    assert await breaker.before_call("venue:binance:live") is True
    await breaker.record_success("venue:binance:live")

    assert (await breaker.state("venue:binance:live")) == {
        "state": "closed",
        "failures": 0,
        "opened_at": None,
        "retry_at": None,
        "retry_after": 0.0,
        "probing": False,
    }
    results = await asyncio.gather(*(try_call(breaker) for _ in range(5)))
    assert results == [False] * 5


async def test_a_failed_probe_reopens_it_for_longer_up_to_the_cap(breaker):
    key = "venue:binance:live"
    await open_circuit(breaker, key)
    periods = []
    for _ in range(3):
        await asyncio.sleep((await breaker.state(key))["retry_after"] + 0.02)
        assert await breaker.before_call(key) is True
        assert await breaker.record_failure(key, MAINTENANCE) == "open"
        state = await breaker.state(key)
        periods.append(round(state["retry_at"] - state["opened_at"], 2))
        assert await try_call(breaker, key) is None
    assert periods == [1.0, 1.5, 1.5]  # 0.5 doubled, then capped


async def test_a_probe_that_never_reports_is_given_to_someone_else_after_its_lease(prefix):
    breaker = CircuitBreaker(prefix=prefix, failures=1, open_seconds=0.2, probe_seconds=0.3)
    await breaker.record_failure("conn:1", MAINTENANCE)
    await asyncio.sleep(0.25)
    assert await breaker.before_call("conn:1") is True  # ... and the worker dies
    assert await try_call(breaker, "conn:1") is None
    await asyncio.sleep(0.35)
    assert await breaker.before_call("conn:1") is True


async def test_only_one_probe_across_two_processes(breaker, prefix, processes):
    key = "venue:binance:live"
    await open_circuit(breaker, key)
    processes.start(1, mode="probe", prefix=prefix, key=key, callers=10)
    start_at = processes.go(delay=max(0.2, (await breaker.state(key))["retry_after"] + 0.05))
    await asyncio.sleep(start_at - time.time())
    here = await asyncio.gather(*(try_call(breaker, key) for _ in range(10)))
    [there] = processes.results()
    assert here.count(True) + there["probes"] == 1


async def test_the_sync_reader_sees_the_same_state(breaker, settings, prefix):
    await open_circuit(breaker)  # the default breaker reads the same prefix (from settings)
    state = await breaker.state("venue:binance:live")
    assert breaker_state_sync("venue:binance:live") == state | {
        "retry_after": pytest.approx(state["retry_after"], abs=0.05)
    }
    assert breaker_state_sync("venue:never-called")["state"] == "closed"


async def test_one_call_with_several_keys_gives_back_a_probe_when_a_later_key_is_open(prefix):
    breaker = CircuitBreaker(prefix=prefix, failures=1, open_seconds=0.2, probe_seconds=5)
    await breaker.record_failure("venue:binance:live", MAINTENANCE)
    await asyncio.sleep(0.25)  # the exchange is half-open ...
    await breaker.record_failure("conn:1", MAINTENANCE)  # ... and the connection open
    with pytest.raises(CircuitOpen) as refused:
        await breaker.before_calls(["venue:binance:live", "conn:1"])
    assert refused.value.key == "conn:1"
    assert (await breaker.state("venue:binance:live"))["probing"] is False  # the probe was given back
    assert await breaker.before_calls(["venue:binance:live", "conn:2"]) == ["venue:binance:live"]
    assert await try_call(breaker, "venue:binance:live") is None  # the probe is taken now
    assert await breaker.before_calls(["venue:okx:live", "conn:2"]) == []
