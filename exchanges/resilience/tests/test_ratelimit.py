"""The shared token bucket: pacing, penalties, the Redis clock, and two real processes
sharing one budget."""

from __future__ import annotations

import asyncio
import time

import pytest

from exchanges.adapters.errors import RateLimited
from exchanges.resilience.connection import async_client
from exchanges.resilience.ratelimit import RateLimiter, budget_from_ccxt


@pytest.fixture
def limiter(prefix) -> RateLimiter:
    return RateLimiter(prefix=prefix)


def busiest_second(stamps: list[float]) -> int:
    """The most stamps in any window (t - 1 s, t]."""
    stamps = sorted(stamps)
    first, best = 0, 0
    for last, stamp in enumerate(stamps):
        while stamps[first] <= stamp - 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_budget_from_ccxt():
    assert budget_from_ccxt(50) == (20.0, 20.0)  # binance: 50 ms per unit of cost
    assert budget_from_ccxt(100, capacity_seconds=0.5) == (10.0, 5.0)
    assert budget_from_ccxt(3000) == (pytest.approx(1 / 3), 1.0)  # a lone request never waits
    with pytest.raises(ValueError):
        budget_from_ccxt(0)


async def test_a_burst_takes_what_is_over_the_capacity_at_the_rate(limiter):
    started = time.monotonic()
    waits = await asyncio.gather(*(limiter.acquire("venue:x", rate=20, capacity=10) for _ in range(30)))
    elapsed = time.monotonic() - started
    assert 0.95 <= elapsed <= 1.4  # (30 - 10) / 20
    assert sum(1 for wait in waits if wait == 0) == 10  # the capacity went at once
    state = await limiter.state("venue:x")
    assert state["requests_last_minute"] == 30
    assert state["rate"] == 20 and state["capacity"] == 10


async def test_costs_are_weights(limiter):
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("venue:x", cost=4, rate=10, capacity=4)
    assert 0.75 <= time.monotonic() - started <= 1.2  # 12 units, 4 at once, 8 at 10/s
    assert (await limiter.state("venue:x"))["cost_last_minute"] == 12


async def test_a_wait_longer_than_max_wait_raises_and_takes_nothing(limiter):
    await limiter.acquire("venue:x", rate=2, capacity=1)
    with pytest.raises(RateLimited) as refused:
        await limiter.acquire("venue:x", cost=4, rate=2, capacity=1, max_wait=0.5)
    assert refused.value.temporary
    assert refused.value.retry_after == pytest.approx(2.0, abs=0.1)
    started = time.monotonic()
    await limiter.acquire("venue:x", rate=2, capacity=1)  # the refused 4 units were not taken
    assert time.monotonic() - started < 0.6


async def test_penalize_pauses_then_shrinks_the_rate(limiter):
    await limiter.acquire("venue:x", rate=20, capacity=5)
    penalty = await limiter.penalize("venue:x", retry_after=1.0, factor=0.5, duration=60)
    assert penalty["factor"] == 0.5
    state = await limiter.state("venue:x")
    assert state["paused_until"] == pytest.approx(time.time() + 1.0, abs=0.2)
    assert state["rate"] == 10 and state["base_rate"] == 20

    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire("venue:x", rate=20, capacity=5) for _ in range(6)))
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed <= 2.0  # the pause, then 6 units at the shrunk 10/s (not 20/s)


async def test_a_penalty_without_retry_after_pauses_for_the_default(limiter, settings):
    settings.RATE_LIMIT_DEFAULT_PAUSE = 0.7
    await limiter.penalize("venue:x")
    state = await limiter.state("venue:x")
    assert state["paused_until"] == pytest.approx(time.time() + 0.7, abs=0.2)


async def test_repeated_429s_shrink_once_per_cooldown_and_not_below_the_floor(limiter, settings):
    settings.RATE_LIMIT_MIN_FACTOR = 0.2
    settings.RATE_LIMIT_PENALTY_COOLDOWN = 0.3
    for _ in range(5):  # a burst of 429s from requests that were in flight together
        penalty = await limiter.penalize("venue:x", retry_after=0)
    assert penalty["factor"] == 0.5
    await asyncio.sleep(0.35)
    assert (await limiter.penalize("venue:x", retry_after=0))["factor"] == 0.25
    await asyncio.sleep(0.35)
    assert (await limiter.penalize("venue:x", retry_after=0))["factor"] == 0.2


async def test_a_caller_waiting_for_its_turn_honours_a_pause_that_arrives_meanwhile(limiter):
    await limiter.acquire("venue:x", rate=2, capacity=1)
    started = time.monotonic()
    waiting = asyncio.create_task(limiter.acquire("venue:x", rate=2, capacity=1))  # its turn: +0.5 s
    await asyncio.sleep(0.2)
    await limiter.penalize("venue:x", retry_after=1.0, factor=1.0)
    await waiting
    assert time.monotonic() - started >= 1.2 + 0.45  # queued again behind the pause


async def test_the_bucket_runs_on_the_redis_clock_not_the_callers(limiter, monkeypatch):
    await limiter.acquire("venue:x", rate=1, capacity=2)
    await limiter.acquire("venue:x", rate=1, capacity=2)  # empty now
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # this process's clock: 1 h fast
    with pytest.raises(RateLimited) as refused:
        await limiter.acquire("venue:x", rate=1, capacity=2, max_wait=0)
    assert refused.value.retry_after == pytest.approx(1.0, abs=0.1)  # no hour of refill from our clock
    seconds, micros = await async_client().time()
    stored = float(await async_client().hget(limiter.redis_key("venue:x"), "ts"))
    assert stored == pytest.approx(seconds + micros / 1e6, abs=1.0)


async def test_two_processes_with_four_busy_workers_share_one_budget(limiter, prefix, processes):
    rate, capacity, seconds = 20, 5, 3.0
    processes.start(
        2, mode="hammer", prefix=prefix, key="venue:shared", rate=rate, capacity=capacity, workers=2, seconds=seconds
    )
    processes.go()
    first, second = processes.results()
    stamps = first + second
    print(f"{len(stamps)} requests, at most {busiest_second(stamps)} in one second")
    assert busiest_second(stamps) <= rate + capacity
    expected = capacity + rate * seconds
    assert expected * 0.85 <= len(stamps) <= expected + 2  # the budget was used, not wasted
    assert min(len(first), len(second)) >= len(stamps) * 0.3  # and shared, neither starved
    assert (await limiter.state("venue:shared"))["requests_last_minute"] == len(stamps)


async def test_several_budgets_are_paid_in_turn(limiter):
    """acquire_all = one acquire after the other: the second key's turn is reserved only once
    the first one's has come, and a refusal takes nothing from the key that refused."""
    await limiter.acquire("venue:a", rate=2, capacity=1)  # empty: the next turn in 0.5 s
    started = time.monotonic()
    assert await limiter.acquire_all(["venue:a", "apikey:b"], rate=2, capacity=1) == pytest.approx(0.5, abs=0.05)
    assert time.monotonic() - started == pytest.approx(0.5, abs=0.1)
    for key in ("venue:a", "apikey:b"):
        assert (await limiter.state(key))["requests_last_minute"] == 1 + (key == "venue:a")
    with pytest.raises(RateLimited) as refused:  # venue:a is empty again: its turn is 0.5 s away
        await limiter.acquire_all(["apikey:c", "venue:a"], rate=2, capacity=1, max_wait=0.1)
    assert "venue:a" in str(refused.value)
    assert (await limiter.state("apikey:c"))["requests_last_minute"] == 1  # the first key had paid (as in turn)
    assert (await limiter.state("venue:a"))["requests_last_minute"] == 2  # the refusing key had not
