"""Health of the parts the platform runs on: database, Redis, channel layer, Celery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

QUEUES = ("orders", "market", "bots", "default")
HEARTBEAT_KEY = "monitoring:beat-heartbeat"
HEARTBEAT_STALE_AFTER = 120  # seconds; the beat schedule sends one every 30 s


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except Exception as exc:  # a health check reports every failure instead of raising
        result = {"ok": False, "error": f"{type(exc).__name__}: {_safe_message(exc)}"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def _safe_message(exc: Exception) -> str:
    # Connection errors may quote a URL; never echo credentials that could be in one.
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text.split("@")[-1][:200]


def _redis_client() -> redis.Redis:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_redis() -> dict:
    client = _redis_client()
    try:
        client.ping()
        return {"version": client.info("server").get("redis_version")}
    finally:
        client.close()


def check_channel_layer() -> dict:
    """A message really crosses the layer: send to a fresh channel and read it back."""
    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        return await asyncio.wait_for(layer.receive(channel), settings.HEALTH_CHECK_TIMEOUT)

    message = async_to_sync(roundtrip)()
    if message.get("type") != "health.ping":
        raise RuntimeError("the channel layer returned another message")
    return {"backend": type(layer).__name__}


def check_celery(app=None) -> dict:
    if app is None:
        from config.celery import app
    replies = app.control.ping(timeout=min(1.0, settings.HEALTH_CHECK_TIMEOUT))
    workers = sorted(name for reply in replies for name in reply)
    client = _redis_client()
    try:
        queues = {name: client.llen(name) for name in QUEUES}
    finally:
        client.close()
    if not workers:
        raise RuntimeError("no Celery worker answered a ping")
    return {"workers": workers, "queues": queues}


def check_beat() -> dict:
    last = cache.get(HEARTBEAT_KEY)
    if last is None:
        return {"ok": False, "last_heartbeat": None}
    age = (timezone.now() - last).total_seconds()
    return {"ok": age < HEARTBEAT_STALE_AFTER, "last_heartbeat": last.isoformat(), "age_seconds": round(age, 1)}


def heartbeat_record() -> None:
    cache.set(HEARTBEAT_KEY, timezone.now(), timeout=HEARTBEAT_STALE_AFTER * 10)


def _schedule_modules():
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for config in apps.get_app_configs():
        if find_spec(f"{config.name}.schedules") is not None:
            yield import_module(f"{config.name}.schedules")


def schedules_install() -> list[str]:
    """Make sure every app's periodic tasks exist in django-celery-beat's schedule.

    Each app lists its tasks in ``<app>/schedules.py`` (``SCHEDULES``). A task that
    exists already is left as it is: an operator's edits in the admin (interval,
    enabled) survive every migrate. Returns the names of the tasks it created.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    for module in _schedule_modules():
        for entry in getattr(module, "SCHEDULES", []):
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=entry["every_seconds"], period=IntervalSchedule.SECONDS
            )
            _, was_created = PeriodicTask.objects.get_or_create(
                name=entry["name"],
                defaults={
                    "task": entry["task"],
                    "interval": interval,
                    "queue": entry.get("queue"),
                    "description": entry.get("description", ""),
                },
            )
            if was_created:
                created.append(entry["name"])
    return created


def health_report(*, celery_app=None) -> dict:
    """``status`` is ``ok`` when the database, Redis, channel layer and a worker all answer;
    ``degraded`` when only the channel layer or the workers fail; ``down`` otherwise."""
    checks = {
        "database": _timed(check_database),
        "redis": _timed(check_redis),
        "channel_layer": _timed(check_channel_layer),
        "celery": _timed(lambda: check_celery(celery_app)),
    }
    beat = _timed(check_beat)
    beat["ok"] = beat.get("ok", False) and "error" not in beat
    essential_ok = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if all(c["ok"] for c in checks.values()) else ("degraded" if essential_ok else "down")
    return {"status": status, "checks": {**checks, "beat": beat}, "time": timezone.now().isoformat()}


def health_summary(report: dict) -> dict:
    """The report without details that only operators need (host names, versions, errors)."""
    return {
        "status": report["status"],
        "checks": {name: {"ok": check["ok"]} for name, check in report["checks"].items()},
        "time": report["time"],
    }
