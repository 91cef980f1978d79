"""Reads for the monitoring pages in the admin: the order pipeline, workers and queues,
the periodic tasks. ``tenant=None`` means the whole platform: only the views of
superusers pass it; everyone else reads through their own tenant."""

from __future__ import annotations

from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from exchanges.redaction import redact
from monitoring.services import QUEUES, check_beat
from tenancy.scoping import scoped

#: an order a worker has been sending for longer than this is stuck (a send times out far sooner)
STUCK_SUBMITTING_AFTER = timedelta(minutes=2)
RECENT_FAILURES = timedelta(hours=24)
ROWS = 50


def _orders(tenant) -> QuerySet:
    from trading.models import Order

    queryset = Order.objects.all() if tenant is None else scoped(Order, tenant=tenant)
    return queryset.select_related("tenant", "connection")


def _age(since, now) -> float | None:
    return (now - since).total_seconds() if since else None


def order_pipeline(*, tenant) -> dict:
    """Orders per status, unknown orders awaiting reconciliation (oldest first, with the time
    since they became unknown), orders stuck in submitting and the latest failures."""
    from trading.models import OrderStatus

    now = timezone.now()
    orders = _orders(tenant)
    counts = dict(orders.order_by().values_list("status").annotate(n=Count("id")))
    unknown = list(
        orders.filter(status=OrderStatus.UNKNOWN)
        .annotate(unknown_since=Max("events__created_at", filter=Q(events__to_status=OrderStatus.UNKNOWN)))
        .order_by(F("unknown_since").asc(nulls_first=True), "id")[:ROWS]
    )
    for order in unknown:
        order.age_seconds = _age(order.unknown_since or order.updated_at, now)
    stuck = list(
        orders.filter(status=OrderStatus.SUBMITTING, updated_at__lt=now - STUCK_SUBMITTING_AFTER).order_by(
            "updated_at"
        )[:ROWS]
    )
    for order in stuck:
        order.age_seconds = _age(order.updated_at, now)
    failures = list(
        orders.filter(
            status__in=(OrderStatus.FAILED, OrderStatus.REJECTED), updated_at__gte=now - RECENT_FAILURES
        ).order_by("-updated_at")[:ROWS]
    )
    for order in failures:
        order.safe_reason = redact(order.reason) if order.reason else ""
    return {
        "counts": [
            {"status": value, "label": label, "count": counts.get(value, 0)} for value, label in OrderStatus.choices
        ],
        "total": sum(counts.values()),
        "unknown": unknown,
        "unknown_total": counts.get(OrderStatus.UNKNOWN, 0),
        "stuck": stuck,
        "failures": failures,
        "stuck_after_seconds": int(STUCK_SUBMITTING_AFTER.total_seconds()),
    }


def _broker_client() -> redis.Redis:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (LLEN of its list at the Redis broker)."""
    client = _broker_client()
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in QUEUES:
                pipe.llen(name)
            return dict(zip(QUEUES, pipe.execute(), strict=True))
    except redis.RedisError:
        return dict.fromkeys(QUEUES)
    finally:
        client.close()


def celery_workers(*, app=None, timeout: float = 0.5) -> dict:
    """The workers that answer a ping within ``timeout`` and the tasks each runs now.

    One broadcast when no worker answers (the usual wait on a dead fleet is ``timeout``).
    """
    if app is None:
        from config.celery import app
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - the page shows the broker's failure instead of failing
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc).split('@')[-1][:200]}", "workers": []}
    names = sorted(name for reply in replies for name in reply)
    active = {}
    if names:
        try:
            active = app.control.inspect(destination=names, timeout=timeout).active() or {}
        except Exception:  # noqa: BLE001 - the ping answered; what they run is a nicety
            active = {}
    workers = [
        {
            "name": name,
            "active": [
                {"name": task.get("name"), "id": task.get("id"), "started": task.get("time_start")}
                for task in active.get(name, [])
            ],
            "answered_inspect": name in active,
        }
        for name in names
    ]
    return {"ok": bool(names), "error": None, "workers": workers}


def periodic_tasks() -> QuerySet:
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.select_related("interval", "crontab", "clocked", "solar").order_by("name")


def workers_report(*, app=None) -> dict:
    return {
        "celery": celery_workers(app=app),
        "queues": queue_lengths(),
        "beat": check_beat(),
        "periodic_tasks": periodic_tasks(),
    }
