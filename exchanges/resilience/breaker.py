"""A circuit breaker per key in Redis, shared by every worker and process.

closed    calls go through; consecutive temporary failures are counted.
open      after CIRCUIT_BREAKER_FAILURES of them: ``before_call`` raises CircuitOpen
          (temporary, ``retry_after`` = seconds until half-open) for the open period.
half_open the period is over: exactly one caller, across all processes, wins the probe
          (SET NX with a lease of CIRCUIT_BREAKER_PROBE_SECONDS) and goes through; the
          others still get CircuitOpen. The probe's success closes the circuit; its
          failure re-opens it for twice the previous period (capped).

Only temporary errors count. A permanent one (bad order, bad key) is an answer: the
exchange works, so it resets the count like a success does.

Redis layout: ``<p>:cb:<key>`` hash (state, failures, opened_at, retry_at, opens: the
consecutive open periods, for the backoff) and ``<p>:cb:<key>:probe`` (the probe's lease).
"""

from __future__ import annotations

from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.resilience import conf
from exchanges.resilience.connection import Lua, async_client, fmt, sync_client

_TTL = 86_400  # a breaker nobody touched for a day is forgotten (closed)

# Every key of one call in one round trip, in order: KEYS are (breaker, probe) pairs. The
# first open key refuses the call and gives back the probes won for the keys before it.
# Else the answer is 'closed', the probes won, then 'd<i>' for each key with a breaker
# record (failures counted, or open): a success must reset those at once (guard.py).
BEFORE_CALL_SOURCE = """
local now = nil
local probes = {}
for i = 1, #KEYS, 2 do
  if redis.call('HGET', KEYS[i], 'state') == 'open' then
    if now == nil then
      local t = redis.call('TIME')
      now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    end
    local retry_at = tonumber(redis.call('HGET', KEYS[i], 'retry_at')) or 0
    local wait = nil
    if now < retry_at then
      wait = string.format('%.3f', retry_at - now)
    elseif redis.call('SET', KEYS[i + 1], '1', 'NX', 'PX', ARGV[1]) then
      probes[#probes + 1] = i + 1
    else
      wait = string.format('%.3f', math.max(redis.call('PTTL', KEYS[i + 1]), 0) / 1000)
    end
    if wait ~= nil then
      for _, probe in ipairs(probes) do redis.call('DEL', KEYS[probe]) end
      return {'open', tostring((i + 1) / 2), wait}
    end
  end
end
local won = {'closed'}
for _, probe in ipairs(probes) do won[#won + 1] = tostring(probe / 2) end
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then won[#won + 1] = 'd' .. tostring((i + 1) / 2) end
end
return won
"""
_BEFORE_CALL = Lua(BEFORE_CALL_SOURCE)

_FAILURE = Lua(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local threshold, period, max_period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'state', 'retry_at', 'opens')
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if h[1] == 'open' then
  if now < (tonumber(h[2]) or 0) then return {'open', tostring(failures)} end
  -- the half-open probe failed: open again, for longer
  local opens = (tonumber(h[3]) or 1) + 1
  period = math.min(period * 2 ^ (opens - 1), max_period)
  redis.call('HSET', KEYS[1], 'opened_at', string.format('%.6f', now),
    'retry_at', string.format('%.6f', now + period), 'opens', opens)
  redis.call('DEL', KEYS[2])
  return {'open', tostring(failures)}
end
if failures >= threshold then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', string.format('%.6f', now),
    'retry_at', string.format('%.6f', now + period), 'opens', 1)
  redis.call('DEL', KEYS[2])
  return {'open', tostring(failures)}
end
return {'closed', tostring(failures)}
"""
)


class CircuitOpen(ExchangeUnavailable):
    """The exchange (or connection) failed too often lately: not called until it recovers."""

    code = "circuit_open"
    may_have_executed = False  # the request was never sent

    def __init__(self, key: str, *, retry_after: float, exchange: str = ""):
        self.key = key
        super().__init__(
            f"circuit {key} is open; next try in {retry_after:.1f}s", exchange=exchange, retry_after=retry_after
        )


class CircuitBreaker:
    """Breakers in Redis; every argument defaults to the settings at call time."""

    def __init__(
        self,
        *,
        prefix: str | None = None,
        redis_url: str | None = None,
        failures: int | None = None,
        open_seconds: float | None = None,
        max_open_seconds: float | None = None,
        probe_seconds: float | None = None,
    ):
        self._prefix, self._redis_url = prefix, redis_url
        self._failures, self._open_seconds = failures, open_seconds
        self._max_open_seconds, self._probe_seconds = max_open_seconds, probe_seconds

    def _setting(self, value, name: str) -> float:
        return float(conf.get(name) if value is None else value)

    def redis_keys(self, key: str) -> list[str]:
        base = f"{self._prefix or conf.key_prefix()}:cb:{key}"
        return [base, f"{base}:probe"]

    async def before_call(self, key: str) -> bool:
        """Raises CircuitOpen while ``key`` is open; True if this caller holds the probe."""
        return bool(await self.before_calls([key]))

    async def before_calls(self, keys: list[str]) -> list[str]:
        """``before_call`` for every key of one call, in one round trip: CircuitOpen for the
        first open key (probes won for the keys before it are given back), else the keys
        whose half-open probe this caller holds."""
        return (await self.check(keys))[0]

    async def check(self, keys: list[str]) -> tuple[list[str], list[str]]:
        """``before_calls``, and the keys that have a breaker record (``dirty_keys``)."""
        redis_keys, args = self.check_arguments(keys)
        answer = await _BEFORE_CALL(async_client(self._redis_url), redis_keys, args)
        return self.check_answer(keys, answer), self.dirty_keys(keys, answer)

    def check_arguments(self, keys: list[str]) -> tuple[list[str], list]:
        """``before_calls``' script keys and arguments, for a caller that runs it with
        another script in the same round trip (ratelimit.RateLimiter.acquire_checked)."""
        probe_ms = int(self._setting(self._probe_seconds, "CIRCUIT_BREAKER_PROBE_SECONDS") * 1000)
        return [name for key in keys for name in self.redis_keys(key)], [probe_ms]

    @staticmethod
    def check_answer(keys: list[str], answer: list) -> list[str]:
        """``before_calls``' verdict from its script's answer: CircuitOpen, or the probes won."""
        verdict, *rest = answer
        if verdict == "open":
            raise CircuitOpen(keys[int(rest[0]) - 1], retry_after=float(rest[1]))
        return [keys[int(index) - 1] for index in rest if not index.startswith("d")]

    @staticmethod
    def dirty_keys(keys: list[str], answer: list) -> list[str]:
        """From a 'closed' answer: the keys with a breaker record (failures counted, or a
        circuit open until now). A success resets only those: the others have nothing to reset."""
        return [keys[int(index[1:]) - 1] for index in answer[1:] if index.startswith("d")]

    async def record_success(self, key: str) -> None:
        """The exchange answered: closed, count reset, probe lease released."""
        await async_client(self._redis_url).delete(*self.redis_keys(key))

    def success_command(self, key: str) -> tuple:
        """``record_success`` as one command, for callers that batch it with others."""
        return ("DEL", *self.redis_keys(key))

    @property
    def redis_url(self) -> str:
        return self._redis_url or conf.redis_url()

    async def record_failure(self, key: str, error: BaseException) -> str:
        """Count a temporary error (a permanent one counts as an answer); returns the state."""
        if not getattr(error, "temporary", False):
            await self.record_success(key)
            return "closed"
        state, _ = await _FAILURE(
            async_client(self._redis_url),
            self.redis_keys(key),
            [
                int(self._setting(self._failures, "CIRCUIT_BREAKER_FAILURES")),
                fmt(self._setting(self._open_seconds, "CIRCUIT_BREAKER_OPEN_SECONDS")),
                fmt(self._setting(self._max_open_seconds, "CIRCUIT_BREAKER_MAX_OPEN_SECONDS")),
                _TTL,
            ],
        )
        return state

    async def release_probe(self, key: str) -> None:
        """Give the probe back unused (the call never went out): the next caller probes."""
        await async_client(self._redis_url).delete(self.redis_keys(key)[1])

    async def state(self, key: str) -> dict:
        """dict(state="closed"|"open"|"half_open", failures, opened_at, retry_at, probing)."""
        base, probe = self.redis_keys(key)
        async with async_client(self._redis_url).pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.hgetall(base)
            pipe.exists(probe)
            seconds, raw, probing = await pipe.execute()
        return describe_breaker(raw, seconds[0] + seconds[1] / 1_000_000, bool(probing))

    async def is_available(self, key: str) -> bool:
        """For routing and polling, without taking the probe: False while open or while
        another caller probes."""
        state = await self.state(key)
        return state["state"] == "closed" or (state["state"] == "half_open" and not state["probing"])

    def state_sync(self, key: str) -> dict:
        """``state`` for sync readers (views, admin) over a plain Redis client."""
        base, probe = self.redis_keys(key)
        with sync_client(self._redis_url).pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.hgetall(base)
            pipe.exists(probe)
            seconds, raw, probing = pipe.execute()
        return describe_breaker(raw, seconds[0] + seconds[1] / 1_000_000, bool(probing))


def describe_breaker(raw: dict, now: float, probing: bool) -> dict:
    opened_at = float(raw["opened_at"]) if raw.get("opened_at") else None
    retry_at = float(raw["retry_at"]) if raw.get("retry_at") else None
    state = "closed"
    if raw.get("state") == "open":
        state = "open" if retry_at is not None and now < retry_at else "half_open"
    return {
        "state": state,
        "failures": int(raw.get("failures") or 0),
        "opened_at": opened_at if state != "closed" else None,
        "retry_at": retry_at if state != "closed" else None,
        "retry_after": max(0.0, retry_at - now) if state == "open" else 0.0,
        "probing": probing and state == "half_open",
    }


breaker = CircuitBreaker()
"""The platform's breaker (settings' prefix, Redis and thresholds)."""


def breaker_state_sync(key: str) -> dict:
    return breaker.state_sync(key)
