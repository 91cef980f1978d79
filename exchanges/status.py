"""Health of a tenant's connections and exchanges, as users and routing see it.

The live figures (p50 latency over the last calls, last error, last success, breaker state)
come from exchanges.resilience in Redis, shared by every worker; the last connection test
stored on the row fills in where nothing has been recorded yet.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from exchanges.adapters.errors import ExchangeError
from exchanges.factory import call, public_adapter
from exchanges.resilience import connection_key, summary_sync, venue_key
from exchanges.selectors import connection_list

_RANK = {"connected": 0, "untested": 1, "unknown": 1, "limited": 2, "failed": 3}


def _when(seconds: float | None) -> str | None:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat() if seconds else None


def _worst(*statuses: str) -> str:
    known = [s for s in statuses if s not in ("unknown", "untested")]
    return max(known, key=_RANK.__getitem__) if known else (statuses[0] if statuses else "unknown")


def connection_status(connection, *, venue_health: dict | None = None) -> dict:
    venue = venue_health or summary_sync(
        venue_key(connection.exchange, api_base_url=connection.api_base_url or None, testnet=connection.testnet)
    )
    own = summary_sync(connection_key(connection.pk))
    # The last connection test counts as much as the calls since: a test that failed (wrong
    # keys, say) stays visible until a test passes again.
    status = _worst(connection.status, venue["status"], own["status"])
    errors = [(h["last_error_at"] or 0, h["last_error"]) for h in (own, venue) if h["last_error"]]
    last_error = max(errors)[1] if errors else connection.last_error or None
    successes = [h["last_success_at"] for h in (own, venue) if h["last_success_at"]]
    open_circuit = "open" in (venue["circuit"], own["circuit"])
    return {
        "id": connection.pk,
        "exchange": connection.exchange,
        "label": connection.label,
        "enabled": connection.enabled,
        "priority": connection.priority,
        "status": "failed" if open_circuit else status,
        "available": connection.enabled and not open_circuit and status in ("connected", "limited"),
        "latency_p50_ms": own["p50_ms"] or venue["p50_ms"] or connection.latency_ms,
        "samples": own["samples"] + venue["samples"],
        "last_error": last_error,
        "last_success_at": _when(max(successes)) if successes else None,
        "last_checked_at": connection.last_checked_at.isoformat() if connection.last_checked_at else None,
        "breaker": {"exchange": venue["circuit"], "connection": own["circuit"]},
    }


_UNSET = object()


def reported_status(connection) -> str | None:
    """What the exchange says of itself (ccxt's fetch_status: "ok", "maintenance" ...),
    asked at most once per MARKET_TTL_STATUS (60 s) per exchange; None where it says nothing."""
    key = "exchanges:reported-status:" + venue_key(
        connection.exchange, api_base_url=connection.api_base_url or None, testnet=connection.testnet
    )
    value = cache.get(key, _UNSET)
    if value is _UNSET:
        adapter = public_adapter(connection.exchange, api_base_url=connection.api_base_url, testnet=connection.testnet)
        try:
            value = call(adapter, "fetch_status", timeout=5)
        except (ExchangeError, TimeoutError):
            value = None  # no answer is recorded by the breaker and health, not here
        cache.set(key, value, timeout=settings.MARKET_CACHE_TTL["status"])
    return value


def exchanges_status(*, tenant) -> dict:
    """Every connection of the tenant, per exchange, and the whole: overall, available of total."""
    rows, by_exchange, venues = [], {}, {}
    for connection in connection_list(tenant=tenant):
        key = venue_key(connection.exchange, api_base_url=connection.api_base_url or None, testnet=connection.testnet)
        if key not in venues:
            venues[key] = summary_sync(key)
        row = connection_status(connection, venue_health=venues[key])
        rows.append(row)
        exchange = by_exchange.get(connection.exchange)
        if exchange is None:
            exchange = by_exchange[connection.exchange] = {
                "exchange": connection.exchange, "status": "unknown", "connections": 0, "available": 0,
                "latency_p50_ms": None, "breaker": venues[key]["circuit"],
                "reported_status": reported_status(connection) if connection.enabled else None,
            }  # fmt: skip
        exchange["connections"] += 1
        exchange["available"] += int(row["available"])
        exchange["status"] = _worst(exchange["status"], row["status"]) if exchange["connections"] > 1 else row["status"]
        exchange["latency_p50_ms"] = exchange["latency_p50_ms"] or row["latency_p50_ms"]
    enabled = [r for r in rows if r["enabled"]]
    available = sum(r["available"] for r in enabled)
    if not enabled:
        overall = "no_connections"
    elif available == len(enabled):
        overall = "operational"
    elif available:
        overall = "degraded"
    else:
        overall = "down"
    return {
        "overall": overall,
        "available_count": available,
        "total_count": len(enabled),
        "exchanges": list(by_exchange.values()),
        "connections": rows,
    }
