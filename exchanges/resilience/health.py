"""Health per key (an exchange, a connection): latency, last success, last error, status.

``record`` after every call; ``summary`` (async) or ``summary_sync`` (views, admin) read:

- ``p50_ms``: the median latency of the last HEALTH_WINDOW successful calls;
- ``last_success_at``, ``last_error``, ``last_error_at`` (unix seconds, Redis clock);
- ``status``:
  ``failed``    the circuit is open, or the last HEALTH_FAILED_AFTER calls all failed;
  ``limited``   it works, but not cleanly: the last call failed, or one failed (or was
                rate limited) in the last HEALTH_RECENT_SECONDS, or the circuit is
                half-open, or the key's rate-limit budget is paused;
  ``connected`` the last call succeeded and nothing failed recently;
  ``unknown``   nothing recorded yet.

Redis layout: ``<p>:hl:<key>`` hash (last_ok, last_success_at, last_failure_at,
last_error, last_error_at, last_rate_limited_at, consecutive_failures, calls) and
``<p>:hl:<key>:lat`` list (latencies in ms, newest first). It also reads the breaker
(``<p>:cb:<key>``) and budget (``<p>:rl:<key>``) of the same key.
"""

from __future__ import annotations

import statistics

from exchanges.resilience import conf
from exchanges.resilience.breaker import describe_breaker
from exchanges.resilience.connection import Lua, async_client, sync_client

_TTL = 7 * 86_400
_MAX_ERROR = 300

_RECORD = Lua(
    """
local t = redis.call('TIME')
local now = string.format('%.6f', tonumber(t[1]) + tonumber(t[2]) / 1000000)
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'last_ok', '1', 'last_success_at', now, 'consecutive_failures', 0)
else
  redis.call('HSET', KEYS[1], 'last_ok', '0', 'last_failure_at', now, 'last_error', ARGV[3], 'last_error_at', now)
  redis.call('HINCRBY', KEYS[1], 'consecutive_failures', 1)
  if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'last_rate_limited_at', now) end
end
redis.call('HINCRBY', KEYS[1], 'calls', 1)
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[2] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
return 1
"""
)


class Health:
    def __init__(self, *, prefix: str | None = None, redis_url: str | None = None):
        self._prefix, self._redis_url = prefix, redis_url

    def _keys(self, key: str) -> tuple[str, str, str, str, str]:
        p = self._prefix or conf.key_prefix()
        return f"{p}:hl:{key}", f"{p}:hl:{key}:lat", f"{p}:cb:{key}", f"{p}:cb:{key}:probe", f"{p}:rl:{key}"

    async def record(
        self,
        key: str,
        *,
        ok: bool,
        latency_ms: float | None = None,
        error: str | None = None,
        rate_limited: bool = False,
    ) -> None:
        """One call's outcome; ``latency_ms`` of successful calls makes the p50."""
        script, keys, args = self.record_call(key, ok=ok, latency_ms=latency_ms, error=error, rate_limited=rate_limited)
        await script(async_client(self._redis_url), keys, args)

    def record_call(
        self,
        key: str,
        *,
        ok: bool,
        latency_ms: float | None = None,
        error: str | None = None,
        rate_limited: bool = False,
    ) -> tuple:
        """``record`` as ``(script, keys, args)``, for callers that batch it with others."""
        health, latencies, *_ = self._keys(key)
        message = (error or "error")[:_MAX_ERROR] if not ok else ""
        return (
            _RECORD,
            [health, latencies],
            [
                "1" if ok else "0",
                f"{latency_ms:.3f}" if latency_ms is not None else "",
                message,
                "1" if rate_limited else "0",
                int(conf.get("HEALTH_WINDOW")),
                _TTL,
            ],
        )

    @property
    def redis_url(self) -> str:
        return self._redis_url or conf.redis_url()

    def _queue(self, pipe, key: str) -> None:
        health, latencies, circuit, probe, budget = self._keys(key)
        pipe.time()
        pipe.hgetall(health)
        pipe.lrange(latencies, 0, -1)
        pipe.hgetall(circuit)
        pipe.exists(probe)
        pipe.hget(budget, "paused_until")

    async def summary(self, key: str) -> dict:
        async with async_client(self._redis_url).pipeline(transaction=False) as pipe:
            self._queue(pipe, key)
            return summarize(*await pipe.execute())

    def summary_sync(self, key: str) -> dict:
        with sync_client(self._redis_url).pipeline(transaction=False) as pipe:
            self._queue(pipe, key)
            return summarize(*pipe.execute())


def summarize(seconds, raw: dict, latencies: list, circuit: dict, probing, paused_until) -> dict:
    now = seconds[0] + seconds[1] / 1_000_000
    samples = [float(value) for value in latencies]
    breaker = describe_breaker(circuit, now, bool(probing))

    def at(name: str) -> float | None:
        return float(raw[name]) if raw.get(name) else None

    failures = int(raw.get("consecutive_failures") or 0)
    recent = now - float(conf.get("HEALTH_RECENT_SECONDS"))
    troubled = max(at("last_failure_at") or 0.0, at("last_rate_limited_at") or 0.0) > recent
    if breaker["state"] == "open" or failures >= int(conf.get("HEALTH_FAILED_AFTER")):
        status = "failed"
    elif failures or troubled or breaker["state"] == "half_open" or float(paused_until or 0) > now:
        status = "limited"
    elif raw.get("last_ok") == "1":
        status = "connected"
    else:
        status = "unknown"
    return {
        "status": status,
        "p50_ms": statistics.median(samples) if samples else None,
        "samples": len(samples),
        "last_success_at": at("last_success_at"),
        "last_error": raw.get("last_error") or None,
        "last_error_at": at("last_error_at"),
        "consecutive_failures": failures,
        "circuit": breaker["state"],
    }


health = Health()
"""The platform's health records (settings' prefix and Redis)."""


async def record(key: str, *, ok: bool, latency_ms: float | None = None, error: str | None = None, **kwargs) -> None:
    await health.record(key, ok=ok, latency_ms=latency_ms, error=error, **kwargs)


async def summary(key: str) -> dict:
    return await health.summary(key)


def summary_sync(key: str) -> dict:
    return health.summary_sync(key)
