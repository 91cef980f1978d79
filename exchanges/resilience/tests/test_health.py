"""Health per key: p50 latency over a window, last success and error, status."""

from __future__ import annotations

import asyncio

import pytest

from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.resilience import health
from exchanges.resilience.breaker import CircuitBreaker
from exchanges.resilience.ratelimit import RateLimiter


async def test_p50_over_the_last_window_of_latencies(prefix, settings):
    settings.HEALTH_WINDOW = 5
    for latency in (900, 900, 900, 10, 20, 30, 40, 1000):  # the three 900s fall out of the window
        await health.record("venue:binance:live", ok=True, latency_ms=latency)
    summary = await health.summary("venue:binance:live")
    assert summary["p50_ms"] == 30
    assert summary["samples"] == 5
    assert summary["status"] == "connected"
    assert summary["last_success_at"] is not None and summary["last_error"] is None


async def test_status_moves_with_the_outcomes(prefix, settings):
    settings.HEALTH_RECENT_SECONDS = 0.3
    key = "conn:3"
    assert (await health.summary(key))["status"] == "unknown"
    await health.record(key, ok=True, latency_ms=50)
    assert (await health.summary(key))["status"] == "connected"

    await health.record(key, ok=False, error="unavailable: binance: 503 Service Unavailable")
    summary = await health.summary(key)
    assert summary["status"] == "limited"
    assert summary["last_error"] == "unavailable: binance: 503 Service Unavailable"
    assert summary["last_error_at"] >= summary["last_success_at"]

    await health.record(key, ok=False, error="timeout")
    await health.record(key, ok=False, error="timeout")
    summary = await health.summary(key)
    assert summary["status"] == "failed" and summary["consecutive_failures"] == 3

    await health.record(key, ok=True, latency_ms=60)
    assert (await health.summary(key))["status"] == "limited"  # works again, but failed just now
    await asyncio.sleep(0.35)
    assert (await health.summary(key))["status"] == "connected"

    await health.record(key, ok=False, error="rate limited", rate_limited=True)
    await health.record(key, ok=True, latency_ms=60)
    assert (await health.summary(key))["status"] == "limited"
    assert (await health.summary(key))["p50_ms"] == 60  # failures carry no latency


async def test_an_open_circuit_is_failed_and_a_paused_budget_limited(prefix):
    key = "venue:okx:live"
    await health.record(key, ok=True, latency_ms=40)
    await RateLimiter(prefix=prefix).penalize(key, retry_after=0.3)
    assert (await health.summary(key))["status"] == "limited"

    breaker = CircuitBreaker(prefix=prefix, failures=1, open_seconds=0.2)
    await breaker.record_failure(key, ExchangeUnavailable("maintenance"))
    summary = await health.summary(key)
    assert summary["status"] == "failed" and summary["circuit"] == "open"
    await asyncio.sleep(0.3)
    assert (await health.summary(key))["circuit"] == "half_open"
    assert (await health.summary(key))["status"] == "limited"


async def test_long_errors_are_cut_and_the_sync_summary_agrees(prefix):
    await health.record("conn:9", ok=False, error="x" * 1000)
    summary = await health.summary("conn:9")
    assert len(summary["last_error"]) == 300
    assert health.summary_sync("conn:9") == summary


def test_the_sync_summary_works_without_an_event_loop(prefix):
    assert health.summary_sync("conn:unknown") == {
        "status": "unknown",
        "p50_ms": None,
        "samples": 0,
        "last_success_at": None,
        "last_error": None,
        "last_error_at": None,
        "consecutive_failures": 0,
        "circuit": "closed",
    }


@pytest.mark.parametrize("ok", [True, False])
async def test_record_needs_no_latency(prefix, ok):
    await health.record("conn:1", ok=ok, latency_ms=None, error=None)
    summary = await health.summary("conn:1")
    assert summary["samples"] == 0
    assert summary["last_error"] == (None if ok else "error")
