"""The package's settings, each with a default, read at call time (tests may override them).

None of these has to be declared in the settings module; declare one there to change it.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, object] = {
    # every Redis key of this package starts with "<prefix>:"
    "RESILIENCE_KEY_PREFIX": "resilience",
    # the Redis holding budgets, breakers and health (default: REDIS_URL)
    "RESILIENCE_REDIS_URL": None,
    # circuit breaker
    "CIRCUIT_BREAKER_FAILURES": 5,  # consecutive temporary failures that open it
    "CIRCUIT_BREAKER_OPEN_SECONDS": 30.0,  # first open period
    "CIRCUIT_BREAKER_MAX_OPEN_SECONDS": 300.0,  # cap of the doubling after failed probes
    "CIRCUIT_BREAKER_PROBE_SECONDS": 15.0,  # lease of the half-open probe (a probe that never reports)
    # rate-limit budget
    "RATE_LIMIT_MAX_WAIT": 30.0,  # longer than this: RateLimited instead of waiting
    "RATE_LIMIT_CAPACITY_SECONDS": 1.0,  # burst: this many seconds of budget may go at once
    "RATE_LIMIT_DEFAULT_PAUSE": 5.0,  # pause after a 429/418 without Retry-After
    "RATE_LIMIT_PENALTY_FACTOR": 0.5,  # the rate in force after a 429/418 ...
    "RATE_LIMIT_PENALTY_SECONDS": 60.0,  # ... for this long
    "RATE_LIMIT_MIN_FACTOR": 0.1,  # repeated 429s compound the factor down to this ...
    "RATE_LIMIT_PENALTY_COOLDOWN": 1.0,  # ... once per this many seconds (in-flight siblings)
    # health
    "HEALTH_WINDOW": 100,  # latencies kept per key
    "HEALTH_FAILED_AFTER": 3,  # consecutive failed calls: "failed"
    "HEALTH_RECENT_SECONDS": 60.0,  # a failure this recent makes a working key "limited"
    "HEALTH_FLUSH_SECONDS": 0.25,  # successful calls' records are written together this often
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def key_prefix() -> str:
    return str(get("RESILIENCE_KEY_PREFIX"))


def redis_url() -> str:
    return get("RESILIENCE_REDIS_URL") or settings.REDIS_URL
