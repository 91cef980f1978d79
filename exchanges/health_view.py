"""Read-only views of the resilience state in Redis, for the monitoring pages in the admin.

exchanges.resilience writes breakers, budgets and health records; this module only reads
them (sync, over the resilience package's plain Redis client) and shapes one row per venue
(an exchange at one address, shared by every tenant) and per connection (a tenant's own).
Nothing here decrypts credentials: the API key's budget is keyed by a hash of the key, so
a connection's private budget is not shown (the venue's public budget is).
"""

from __future__ import annotations

from collections.abc import Iterable

from exchanges.redaction import redact
from exchanges.resilience import breaker_state_sync, connection_key, limiter, summary_sync, venue_key
from exchanges.resilience import conf as resilience_conf
from exchanges.resilience.connection import sync_client
from exchanges.resilience.ratelimit import describe_bucket
from exchanges.status import connection_status

_WINDOW = 60  # seconds of request counters the budget view sums (the limiter keeps 120)


def connection_venue_key(connection) -> str:
    return venue_key(connection.exchange, api_base_url=connection.api_base_url or None, testnet=connection.testnet)


def budget_state_sync(key: str) -> dict:
    """The rate-limit budget of ``key`` now (``RateLimiter.state`` for sync readers), plus
    ``use_pct``: the cost spent in the last minute as a share of what the base rate allows."""
    redis_key = limiter.redis_key(key)
    client = sync_client()
    with client.pipeline(transaction=False) as pipe:
        pipe.time()
        pipe.hgetall(redis_key)
        seconds, raw = pipe.execute()
    now = seconds[0] + seconds[1] / 1_000_000
    second = int(now)
    with client.pipeline(transaction=False) as pipe:
        for s in range(second - _WINDOW + 1, second + 1):
            pipe.hmget(f"{redis_key}:n:{s}", "n", "w")
        counts = pipe.execute()
    state = describe_bucket(raw, now, counts)
    allowed = (state["base_rate"] or 0) * _WINDOW
    state["known"] = bool(raw)
    state["use_pct"] = round(100 * state["cost_last_minute"] / allowed, 1) if allowed else None
    state["paused_for"] = round(state["paused_until"] - now, 1) if state["paused_until"] else None
    return state


def _describe_key(key: str) -> tuple[str, str]:
    """``venue:binance:live`` -> ("binance", "live")."""
    _, _, rest = key.partition(":")
    exchange, _, where = rest.partition(":")
    return exchange, where or "live"


def venue_health(key: str) -> dict:
    """One venue: the health summary, its breaker in detail and its public budget."""
    summary = summary_sync(key)
    breaker = breaker_state_sync(key)
    exchange, where = _describe_key(key)
    return {
        "key": key,
        "exchange": exchange,
        "where": where,
        "status": summary["status"],
        "p50_ms": summary["p50_ms"],
        "samples": summary["samples"],
        "last_error": redact(summary["last_error"]) if summary["last_error"] else None,
        "last_success_at": summary["last_success_at"],
        "breaker": breaker,
        "budget": budget_state_sync(key),
        "summary": summary,
    }


def connection_health(connection, *, venue: dict | None = None) -> dict:
    """One connection as routing sees it (exchanges.status) with its own breaker in detail."""
    status = connection_status(connection, venue_health=None if venue is None else venue["summary"])
    return {
        **status,
        "tenant": connection.tenant,
        "venue_key": connection_venue_key(connection),
        "last_error": redact(status["last_error"]) if status["last_error"] else None,
        "breaker_detail": breaker_state_sync(connection_key(connection.pk)),
    }


def venue_keys_seen() -> list[str]:
    """Every venue with a breaker, a budget or a health record in Redis (the whole fleet's)."""
    prefix = resilience_conf.key_prefix()
    found = set()
    for kind in ("rl", "cb", "hl"):
        for name in sync_client().scan_iter(f"{prefix}:{kind}:venue:*", count=500):
            rest = name[len(f"{prefix}:{kind}:") :]
            parts = rest.split(":")
            if len(parts) == 3:  # venue:<exchange>:<where>; skips :n:<second>, :probe and :lat
                found.add(rest)
    return sorted(found)


def health_overview(*, connections: Iterable, all_venues: bool = False) -> dict:
    """Rows for the exchange health page: the venues the connections use (every venue the
    fleet has state for too, with ``all_venues``) and the connections themselves."""
    connections = list(connections)
    keys = dict.fromkeys(connection_venue_key(c) for c in connections)
    if all_venues:
        keys.update(dict.fromkeys(venue_keys_seen()))
    venues = {key: venue_health(key) for key in sorted(keys)}
    rows = [connection_health(c, venue=venues[connection_venue_key(c)]) for c in connections]
    return {"venues": list(venues.values()), "connections": rows}
