"""Successful calls' health records written in batches; breakers with something to reset, at once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from exchanges import runtime
from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.resilience import health
from exchanges.resilience.connection import sync_client
from exchanges.resilience.guard import guarded, guarded_call

VENUE, CONN = "venue:binance:live", "conn:7"


@pytest.fixture
def breaker(prefix, settings):
    settings.CIRCUIT_BREAKER_FAILURES = 3
    settings.HEALTH_FLUSH_SECONDS = 0.2
    from exchanges.resilience.breaker import breaker

    return breaker


def stored(prefix: str, key: str) -> tuple[dict, list]:
    """The key's health hash and latencies as Redis holds them now (no flush first)."""
    client = sync_client()
    return client.hgetall(f"{prefix}:hl:{key}"), client.lrange(f"{prefix}:hl:{key}:lat", 0, -1)


async def ok():
    return "ok"


async def down():
    raise ExchangeUnavailable("503 Service Unavailable", exchange="binance")


def on_loop(coro):
    """On the process's exchange loop, where workers and views make their calls."""
    return runtime.run(coro)


def test_successes_are_written_together_after_the_interval(breaker, prefix):
    for _ in range(5):
        assert on_loop(guarded_call(ok, public_key=VENUE, private_key=CONN)) == "ok"
    assert stored(prefix, VENUE) == ({}, [])  # nothing yet: one write for the five, later
    time.sleep(0.35)
    for key in (VENUE, CONN):
        record, latencies = stored(prefix, key)
        assert record["calls"] == "5" and record["last_ok"] == "1" and len(latencies) == 5
    assert not sync_client().exists(f"{prefix}:cb:{VENUE}", f"{prefix}:cb:{CONN}")  # nothing was reset


def test_a_success_resets_a_breaker_with_failures_at_once(breaker, prefix):
    for _ in range(2):
        with pytest.raises(ExchangeUnavailable):
            on_loop(guarded_call(down, public_key=VENUE))
    assert breaker.state_sync(VENUE)["failures"] == 2
    on_loop(guarded_call(ok, public_key=VENUE))
    assert breaker.state_sync(VENUE)["failures"] == 0  # not after the interval: now
    record, latencies = stored(prefix, VENUE)
    assert record["last_ok"] == "1" and record["consecutive_failures"] == "0" and record["calls"] == "3"
    # two failures more do not open it: the success in between counted
    for _ in range(2):
        with pytest.raises(ExchangeUnavailable):
            on_loop(guarded_call(down, public_key=VENUE))
    assert breaker.state_sync(VENUE)["state"] == "closed"


def test_a_failure_after_pending_successes_is_the_latest_outcome(breaker, prefix):
    on_loop(guarded_call(ok, public_key=VENUE))
    on_loop(guarded_call(ok, public_key=VENUE))
    with pytest.raises(ExchangeUnavailable):
        on_loop(guarded_call(down, public_key=VENUE))
    record, latencies = stored(prefix, VENUE)  # the successes went first, then the failure
    assert record["calls"] == "3" and len(latencies) == 2
    assert record["last_ok"] == "0" and record["consecutive_failures"] == "1"
    summary = health.summary_sync(VENUE)
    assert summary["status"] == "limited" and summary["last_error_at"] > summary["last_success_at"]


def test_a_late_batch_does_not_hide_a_failure_recorded_after_its_calls(breaker, prefix):
    on_loop(guarded_call(ok, public_key=CONN))
    time.sleep(0.05)
    on_loop(health.record(CONN, ok=False, error="timeout"))  # another process, between the call and the write
    on_loop(health.flush())
    record, _ = stored(prefix, CONN)
    assert record["calls"] == "2" and record["last_ok"] == "0" and record["consecutive_failures"] == "1"
    assert float(record["last_success_at"]) < float(record["last_failure_at"])


async def test_a_loop_that_may_end_first_writes_at_once(breaker, prefix):
    """A test's loop, asyncio.run, async_to_sync: gone before a timer would fire."""
    async with guarded(VENUE, CONN):
        await ok()
    record, latencies = stored(prefix, CONN)
    assert record["calls"] == "1" and len(latencies) == 1


def test_a_sync_summary_shows_the_exchange_loops_pending_successes(breaker, prefix):
    assert runtime.run(guarded_call(ok, public_key=VENUE)) == "ok"
    assert stored(prefix, VENUE) == ({}, [])
    summary = health.summary_sync(VENUE)
    assert summary["status"] == "connected" and summary["samples"] == 1


def test_with_no_interval_every_success_is_written_at_once(breaker, prefix, settings):
    settings.HEALTH_FLUSH_SECONDS = 0
    runtime.run(guarded_call(ok, public_key=VENUE))
    record, latencies = stored(prefix, VENUE)
    assert record["calls"] == "1" and len(latencies) == 1


def test_pending_successes_are_written_when_the_process_exits(prefix):
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.test'); django.setup()\n"
        "from django.conf import settings\n"
        f"settings.RESILIENCE_KEY_PREFIX = {prefix!r}; settings.HEALTH_FLUSH_SECONDS = 60\n"
        "from exchanges import runtime\n"
        "from exchanges.resilience.guard import guarded_call\n"
        "async def ok(): return 'ok'\n"
        "runtime.run(guarded_call(ok, public_key='venue:kraken:live'))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    record, latencies = stored(prefix, "venue:kraken:live")
    assert record["calls"] == "1" and len(latencies) == 1
