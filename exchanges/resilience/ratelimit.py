"""One rate-limit budget per key, shared by every worker and process through Redis.

A token bucket: ``rate`` cost units per second, at most ``capacity`` saved up. ``acquire``
*reserves*: one Lua script (atomic, timed by the Redis server's clock so processes with
skewed clocks agree) takes the cost from the bucket, letting it go negative, and answers
how long the caller must sleep for its turn. Callers are served in the order they asked,
with one round trip each however many wait.

``penalize`` (after a 429/418) pauses the key until ``now + retry_after`` and shrinks its
rate for a while. The pause forgives the reservations already handed out and bumps the
key's epoch: a caller that slept through a penalty sees the new epoch and queues again
behind the pause, so nobody fires into it.

Redis layout (``<p>`` is the key prefix):

- ``<p>:rl:<key>`` hash: tokens, ts (when the tokens were counted), rate, capacity (last
  asked, for monitoring), paused_until, factor, factor_until, penalized_at, epoch;
- ``<p>:rl:<key>:n:<unix second>`` hash: n (requests) and w (cost) sent in that second,
  kept 2 minutes, for the monitoring pages.
"""

from __future__ import annotations

import asyncio
import math
import time

from exchanges.adapters.errors import RateLimited
from exchanges.resilience import conf
from exchanges.resilience.breaker import BEFORE_CALL_SOURCE
from exchanges.resilience.connection import Lua, async_client, fmt

# The keys in turn: each reserves its cost; the first that makes the caller wait (or would
# make it wait past max_wait: refused, nothing taken from it) ends the script, and the
# answer names it (1-based), so the caller sleeps, then goes on with the keys after it.
ACQUIRE_SOURCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost, rate, cap, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 'tokens', 'ts', 'paused_until', 'factor', 'factor_until', 'epoch')
  local tokens, ts = tonumber(h[1]), tonumber(h[2])
  local paused_until, factor_until = tonumber(h[3]) or 0, tonumber(h[5]) or 0
  local factor = tonumber(h[4]) or 1
  local epoch = h[6] or '0'
  if now >= factor_until then factor = 1 end
  local r = rate * factor
  if tokens == nil then tokens, ts = cap, now end
  if now > ts then
    tokens = math.min(cap, tokens + (now - ts) * r)
    ts = now
  end
  -- ts > now only while paused: nothing refills before the pause ends
  local left = tokens - cost
  local wait = 0
  if left < 0 then wait = (ts - now) + (-left) / r end
  if wait > max_wait then
    return {'0', string.format('%.6f', wait), epoch, tostring(i)}
  end
  redis.call('HSET', KEYS[i], 'tokens', string.format('%.6f', left), 'ts', string.format('%.6f', ts),
    'rate', ARGV[2], 'capacity', ARGV[3])
  local horizon = math.max(ts + math.max(-left, 0) / r, paused_until, factor_until) - now
  redis.call('EXPIRE', KEYS[i], math.ceil(horizon + cap / r) + 60)
  local counter = KEYS[i] .. ':n:' .. math.floor(now + wait)
  redis.call('HINCRBY', counter, 'n', 1)
  redis.call('HINCRBYFLOAT', counter, 'w', cost)
  redis.call('EXPIRE', counter, 120)
  if wait > 0 or i == #KEYS then
    return {'1', string.format('%.6f', wait), epoch, tostring(i)}
  end
end
"""
_ACQUIRE = Lua(ACQUIRE_SOURCE)

# The circuit breakers' check before a call (breaker.BEFORE_CALL_SOURCE) and the budget of its
# first request in one round trip: KEYS are the breakers' ARGV[1] keys, then the budgets';
# ARGV[2] is the breakers' argument, ARGV[3..6] the budgets'. An open circuit answers as the
# breakers' script does and takes nothing from the budgets; else the budgets' answer (4
# values) followed by the breakers'.
_CHECK_AND_ACQUIRE = Lua(
    "local function before_call(KEYS, ARGV)\n"
    + BEFORE_CALL_SOURCE
    + "end\n"
    + "local function acquire(KEYS, ARGV)\n"
    + ACQUIRE_SOURCE
    + "end\n"
    + """
local n = tonumber(ARGV[1])
local breakers, budgets = {}, {}
for i = 1, #KEYS do
  if i <= n then breakers[#breakers + 1] = KEYS[i] else budgets[#budgets + 1] = KEYS[i] end
end
local verdict = before_call(breakers, {ARGV[2]})
if verdict[1] == 'open' then return verdict end
local answer = acquire(budgets, {ARGV[3], ARGV[4], ARGV[5], ARGV[6]})
for _, value in ipairs(verdict) do answer[#answer + 1] = value end
return answer
"""
)

_PENALIZE = Lua(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause, factor, duration = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local min_factor, cooldown = tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'paused_until', 'factor', 'factor_until', 'penalized_at')
local paused_until = math.max(tonumber(h[1]) or 0, now + pause)
local current, factor_until = tonumber(h[2]) or 1, tonumber(h[3]) or 0
if now >= factor_until then current = 1 end
local penalized_at = tonumber(h[4]) or 0
-- one 429 usually comes with its in-flight siblings: shrink once per cooldown, not per answer
if now - penalized_at < cooldown then
  factor = math.min(current, factor)
else
  factor = math.max(min_factor, current * factor)
end
factor_until = math.max(factor_until, now + duration)
redis.call('HSET', KEYS[1], 'tokens', '0', 'ts', string.format('%.6f', paused_until),
  'paused_until', string.format('%.6f', paused_until), 'factor', string.format('%.6f', factor),
  'factor_until', string.format('%.6f', factor_until), 'penalized_at', string.format('%.6f', now))
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(paused_until, factor_until) - now) + 60)
return {string.format('%.6f', paused_until), string.format('%.6f', factor)}
"""
)


def budget_from_ccxt(rate_limit_ms: float, *, capacity_seconds: float = 1.0) -> tuple[float, float]:
    """ccxt's ``rateLimit`` (milliseconds per unit of cost) as ``(rate, capacity)``.

    rate = 1000 / rateLimit cost units per second; capacity = ``capacity_seconds`` of it,
    at least one unit so a lone request after a quiet spell never waits.
    """
    if not rate_limit_ms or rate_limit_ms <= 0:
        raise ValueError(f"rateLimit must be a positive number of milliseconds, not {rate_limit_ms!r}")
    rate = 1000.0 / float(rate_limit_ms)
    return rate, max(1.0, rate * capacity_seconds)


class RateLimiter:
    """Budgets in Redis; ``prefix`` and ``redis_url`` default to the settings."""

    def __init__(self, *, prefix: str | None = None, redis_url: str | None = None):
        self._prefix = prefix
        self._redis_url = redis_url

    def redis_key(self, key: str) -> str:
        return f"{self._prefix or conf.key_prefix()}:rl:{key}"

    def _client(self):
        return async_client(self._redis_url)

    async def acquire(
        self,
        key: str,
        cost: float = 1.0,
        *,
        rate: float,
        capacity: float | None = None,
        max_wait: float | None = None,
    ) -> float:
        """Wait for ``cost`` units of ``key``'s budget; returns the seconds waited.

        Raises RateLimited (``retry_after`` set) instead when the turn is more than
        ``max_wait`` seconds away; nothing is taken from the budget then.
        """
        return await self._acquire([key], cost, rate=rate, capacity=capacity, max_wait=max_wait)

    async def acquire_all(
        self,
        keys: list[str],
        cost: float = 1.0,
        *,
        rate: float,
        capacity: float | None = None,
        max_wait: float | None = None,
    ) -> float:
        """``acquire`` on every key in turn, each once the one before it granted its turn:
        the same as one ``acquire`` after the other, but the keys that need no wait (the
        usual case) take one round trip together. Returns the seconds waited in all."""
        return await self._acquire(keys, cost, rate=rate, capacity=capacity, max_wait=max_wait)

    async def acquire_checked(
        self,
        keys: list[str],
        cost: float,
        *,
        rate: float,
        capacity: float | None = None,
        max_wait: float | None = None,
        breaker,
        breaker_keys: list[str],
        probes: list[str],
        dirty: list[str] | None = None,
    ) -> float:
        """``breaker.before_calls(breaker_keys)``, then ``acquire_all(keys, ...)``; the usual
        case in one round trip: an exchange call's breaker check made with its first request's
        budget (guard.Guard.check_with). CircuitOpen when a circuit is open (nothing is taken
        from the budgets); else the probes won are appended to ``probes`` as soon as known
        (before a RateLimited, say), and the keys with a breaker record to ``dirty``.
        Returns the seconds waited."""
        check = (breaker, breaker_keys, probes, [] if dirty is None else dirty)
        return await self._acquire(keys, cost, rate=rate, capacity=capacity, max_wait=max_wait, check=check)

    @property
    def redis_url(self) -> str:
        return self._redis_url or conf.redis_url()

    async def _acquire(self, keys: list[str], cost: float, *, rate: float, capacity, max_wait, check=None) -> float:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if check is not None and (cost <= 0 or check[0].redis_url != self.redis_url):
            probes, dirty = await check[0].check(check[1])  # not one script: one after the other
            check[2].extend(probes)
            check[3].extend(dirty)
            check = None
        if cost <= 0:
            return 0.0
        capacity = max(1.0, rate * float(conf.get("RATE_LIMIT_CAPACITY_SECONDS"))) if capacity is None else capacity
        max_wait = float(conf.get("RATE_LIMIT_MAX_WAIT")) if max_wait is None else max_wait
        client, redis_keys = self._client(), [self.redis_key(key) for key in keys]
        deadline = time.monotonic() + max_wait  # each key's own: set again when its turn starts
        waited, start = 0.0, 0
        while start < len(keys):
            allowed = max(0.0, deadline - time.monotonic())
            args = [fmt(cost), fmt(rate), fmt(capacity), fmt(allowed)]
            if check is None:
                granted, wait, epoch, position = await _ACQUIRE(client, redis_keys[start:], args)
            else:
                breaker, breaker_keys, probes, dirty = check
                check = None
                check_keys, check_args = breaker.check_arguments(breaker_keys)
                answer = await _CHECK_AND_ACQUIRE(
                    client, [*check_keys, *redis_keys[start:]], [len(check_keys), *check_args, *args]
                )
                if answer[0] == "open":
                    breaker.check_answer(breaker_keys, answer)  # raises CircuitOpen
                probes.extend(breaker.check_answer(breaker_keys, answer[4:]))
                dirty.extend(breaker.dirty_keys(breaker_keys, answer[4:]))
                granted, wait, epoch, position = answer[:4]
            index, wait = start + int(position) - 1, float(wait)
            if granted != "1":
                raise RateLimited(
                    f"rate-limit budget {keys[index]}: next turn in {wait:.1f}s (more than {max_wait:g}s)",
                    retry_after=math.ceil(wait * 10) / 10,
                )
            if wait > 0:
                await asyncio.sleep(wait)
                waited += wait
                if (await client.hget(redis_keys[index], "epoch") or "0") != epoch:
                    start = index  # a 429 arrived while we slept: our turn was cancelled, queue behind the pause
                    continue
            start = index + 1
            deadline = time.monotonic() + max_wait
        return waited

    async def penalize(
        self,
        key: str,
        retry_after: float | None = None,
        factor: float | None = None,
        duration: float | None = None,
    ) -> dict:
        """After a 429/418: no request on ``key`` before now + ``retry_after`` (default
        RATE_LIMIT_DEFAULT_PAUSE), then ``rate * factor`` for ``duration`` seconds.
        Returns ``{"paused_until": epoch seconds, "factor": factor in force}``."""
        pause = float(conf.get("RATE_LIMIT_DEFAULT_PAUSE")) if retry_after is None else max(0.0, retry_after)
        factor = float(conf.get("RATE_LIMIT_PENALTY_FACTOR")) if factor is None else factor
        duration = float(conf.get("RATE_LIMIT_PENALTY_SECONDS")) if duration is None else duration
        paused_until, in_force = await _PENALIZE(
            self._client(),
            [self.redis_key(key)],
            [
                fmt(pause),
                fmt(factor),
                fmt(duration),
                fmt(conf.get("RATE_LIMIT_MIN_FACTOR")),
                fmt(conf.get("RATE_LIMIT_PENALTY_COOLDOWN")),
            ],
        )
        return {"paused_until": float(paused_until), "factor": float(in_force)}

    async def state(self, key: str) -> dict:
        """For monitoring: the bucket now, the pause and penalty, requests sent lately."""
        client, redis_key = self._client(), self.redis_key(key)
        async with client.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.hgetall(redis_key)
            seconds, raw = await pipe.execute()
        now = seconds[0] + seconds[1] / 1_000_000
        second = int(now)
        async with client.pipeline(transaction=False) as pipe:
            for s in range(second - 59, second + 1):
                pipe.hmget(f"{redis_key}:n:{s}", "n", "w")
            counts = await pipe.execute()
        return describe_bucket(raw, now, counts)


def describe_bucket(raw: dict, now: float, counts: list) -> dict:
    """The monitoring view of one bucket (``counts``: [n, w] per second, oldest first)."""

    def number(name: str, default=None):
        value = raw.get(name)
        return float(value) if value not in (None, "") else default

    rate, capacity = number("rate"), number("capacity")
    factor = number("factor", 1.0) if number("factor_until", 0.0) > now else 1.0
    tokens, ts = number("tokens"), number("ts")
    if tokens is None:
        tokens = capacity
    elif rate and now > ts:
        tokens = min(capacity, tokens + (now - ts) * rate * factor)
    paused_until = number("paused_until", 0.0)
    return {
        "tokens": tokens,
        "rate": rate * factor if rate is not None else None,
        "base_rate": rate,
        "capacity": capacity,
        "factor": factor,
        "penalty_until": number("factor_until") if factor != 1.0 else None,
        "paused_until": paused_until if paused_until > now else None,
        "requests_last_second": int(counts[-1][0] or 0) if counts else 0,
        "requests_last_minute": sum(int(n or 0) for n, _ in counts),
        "cost_last_minute": sum(float(w or 0) for _, w in counts),
    }


limiter = RateLimiter()
"""The platform's limiter (settings' prefix and Redis)."""
