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

Successful calls are written in batches (``HealthBatch``): the records of the process's
exchange loop go together every HEALTH_FLUSH_SECONDS, so a busy worker makes one round trip
for many calls instead of one per call. Failures are written at once, after the batch pending before
them. ``summary`` shows the caller's own pending records (it writes them first).

Redis layout: ``<p>:hl:<key>`` hash (last_ok, last_success_at, last_failure_at,
last_error, last_error_at, last_rate_limited_at, consecutive_failures, calls) and
``<p>:hl:<key>:lat`` list (latencies in ms, newest first). It also reads the breaker
(``<p>:cb:<key>``) and budget (``<p>:rl:<key>``) of the same key.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import weakref

from exchanges import runtime
from exchanges.resilience import conf
from exchanges.resilience.breaker import describe_breaker
from exchanges.resilience.connection import Lua, async_client, run_batch, sync_client

log = logging.getLogger(__name__)
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


# Successful calls of one key, written together: ARGV[1] calls, ARGV[2] seconds since the
# latest of them (their time on Redis's clock: a failure recorded after it, by any process,
# keeps the key's last_ok and failure count), ARGV[3] their latencies (space-separated,
# oldest first), ARGV[4] the window, ARGV[5] the TTL.
_RECORD_SUCCESSES = Lua(
    """
local t = redis.call('TIME')
local at = tonumber(t[1]) + tonumber(t[2]) / 1000000 - tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'last_failure_at', 'last_success_at')
if at >= (tonumber(h[1]) or 0) then
  redis.call('HSET', KEYS[1], 'last_ok', '1', 'consecutive_failures', 0)
end
if at > (tonumber(h[2]) or 0) then
  redis.call('HSET', KEYS[1], 'last_success_at', string.format('%.6f', at))
end
redis.call('HINCRBY', KEYS[1], 'calls', tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[1], ARGV[5])
local pushed = false
for latency in string.gmatch(ARGV[3], '%S+') do
  redis.call('LPUSH', KEYS[2], latency)
  pushed = true
end
if pushed then
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
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

    def successes_call(self, key: str, latencies_ms: list[float], *, age: float) -> tuple:
        """Several successful calls of ``key`` as one ``(script, keys, args)``; ``age``: seconds
        since the latest of them."""
        health, latencies, *_ = self._keys(key)
        return (
            _RECORD_SUCCESSES,
            [health, latencies],
            [
                len(latencies_ms),
                f"{max(age, 0.0):.6f}",
                " ".join(f"{latency:.3f}" for latency in latencies_ms),
                int(conf.get("HEALTH_WINDOW")),
                _TTL,
            ],
        )

    def batch(self) -> HealthBatch:
        """The running loop's batch of this instance's successful calls."""
        batches = _batches.setdefault(asyncio.get_running_loop(), {})
        batch = batches.get(self)
        if batch is None:
            batch = batches[self] = HealthBatch(self)
        return batch

    async def flush(self) -> None:
        """Write the running loop's pending successes of this instance now."""
        batch = _batches.get(asyncio.get_running_loop(), {}).get(self)
        if batch is not None:
            await batch.flush()

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
        await self.flush()  # this loop's own pending successes first
        async with async_client(self._redis_url).pipeline(transaction=False) as pipe:
            self._queue(pipe, key)
            return summarize(*await pipe.execute())

    def summary_sync(self, key: str) -> dict:
        _flush_runtime(self)  # what this process's exchange loop has not written yet
        with sync_client(self._redis_url).pipeline(transaction=False) as pipe:
            self._queue(pipe, key)
            return summarize(*pipe.execute())


class HealthBatch:
    """One event loop's successful calls of one ``Health``, per key, until written: at most
    HEALTH_FLUSH_SECONDS after the first of them (0: at once, one round trip per call), at
    the next failure of this loop (first), when this loop reads a summary, at process exit.
    Only the process's exchange loop (exchanges.runtime, where workers and views make their
    calls) holds them back: any other loop (``asyncio.run``, ``async_to_sync``, a test's)
    may be gone before the timer, so its calls are written at once, as before.
    A write that fails is logged and dropped: health is an observation, the call succeeded."""

    def __init__(self, health: Health):
        self.health = health
        self.pending: dict[str, list[float]] = {}
        self.latest: dict[str, float] = {}  # key -> time.monotonic() of its latest success
        self.timer: asyncio.TimerHandle | None = None
        self.writing: set[asyncio.Task] = set()

    def __bool__(self) -> bool:
        return bool(self.pending)

    async def add(self, keys: list[str], latency_ms: float) -> None:
        now = time.monotonic()
        for key in keys:
            self.pending.setdefault(key, []).append(latency_ms)
            self.latest[key] = now
        delay, loop = float(conf.get("HEALTH_FLUSH_SECONDS")), asyncio.get_running_loop()
        if delay <= 0 or loop is not runtime.current_loop():  # a loop that may end before the timer
            await self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(delay, self._due)

    def _due(self) -> None:
        self.timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self.writing.add(task)  # held until done (the loop keeps only weak references)
        task.add_done_callback(self.writing.discard)

    async def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        (pending, self.pending), (latest, self.latest) = (self.pending, {}), (self.latest, {})
        if not pending:
            return
        now = time.monotonic()
        calls = [self.health.successes_call(key, latencies, age=now - latest[key])
                 for key, latencies in pending.items()]  # fmt: skip
        try:
            await run_batch(async_client(self.health.redis_url), calls)
        except Exception:  # noqa: BLE001  (the calls succeeded; their health samples are lost)
            log.warning("could not write the health of %d successful call(s)", sum(map(len, pending.values())),
                        exc_info=True)  # fmt: skip


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {Health: HealthBatch}


async def flush_all() -> None:
    """Every pending batch of the running loop (at process exit, before its clients close)."""
    for batch in list(_batches.get(asyncio.get_running_loop(), {}).values()):
        await batch.flush()


def _flush_runtime(health: Health) -> None:
    """From sync code: the exchange loop's pending successes of ``health``, written now."""
    loop = runtime.current_loop()
    batch = _batches.get(loop, {}).get(health) if loop is not None else None
    if batch and loop.is_running() and not _on_loop(loop):  # never wait for the loop from the loop itself
        runtime.run(batch.flush(), timeout=5)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:  # no loop runs in this thread
        return False


runtime.register_closer(flush_all, first=True)


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


async def flush() -> None:
    await health.flush()
