"""Publishing to dashboards: sync code (services, tasks) sends, every web process delivers."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

log = logging.getLogger(__name__)


def tenant_group(tenant_id: int) -> str:
    """The group of one tenant's private events (orders, connections, bots)."""
    return f"tenant.{tenant_id}"


def tenant_event_publish(*, tenant_id: int, event: str, data: dict, wait: bool = True, key=None) -> None:
    """Push ``{"event": ..., "data": ...}`` to every dashboard socket of the tenant.

    ``wait=False`` hands the push to the process's long-lived loop and returns at once: hot
    paths (the order pipeline) neither wait for Redis nor pay for a new loop and connection
    per push, as ``async_to_sync`` would. Such pushes are coalesced per tenant for
    ``DASHBOARD_PUSH_COALESCE_MS``: everything published meanwhile goes out in one message
    (the socket still gets one frame per event), and a later event with the same ``key``
    (e.g. ``("order", id)``) replaces an earlier one still waiting: a dashboard sees an order
    that went submitting -> filled in a few milliseconds as filled.
    """
    if wait:
        message = {"type": "dashboard.event", "event": event, "data": data}
        async_to_sync(get_channel_layer().group_send)(tenant_group(tenant_id), message)
        return
    from exchanges import runtime

    loop = runtime.loop()
    with _lock:  # the event joins the tenant's next push; only its first event wakes the loop
        waiting = _waiting.setdefault(loop, {})
        batch = waiting.get(tenant_id)
        first = batch is None
        if first:
            batch = waiting[tenant_id] = {}
        batch[key if key is not None else object()] = {"event": event, "data": data}
    if first:
        loop.call_soon_threadsafe(loop.call_later, settings.DASHBOARD_PUSH_COALESCE_MS / 1000, _flush, loop, tenant_id)


#: per event loop (a forked process starts its own): tenant id -> {key: event} waiting; filled
#: by any thread, emptied on the loop, under ``_lock``
_waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, dict]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _flush(loop: asyncio.AbstractEventLoop, tenant_id: int) -> None:
    with _lock:
        events = list(_waiting.get(loop, {}).pop(tenant_id, {}).values())
    if not events:
        return
    message = {"type": "dashboard.events", "events": events}
    if len(events) == 1:
        message = {"type": "dashboard.event", **events[0]}
    push = loop.create_task(get_channel_layer().group_send(tenant_group(tenant_id), message))
    push.add_done_callback(_log_failure)


def _log_failure(push: asyncio.Task) -> None:
    if not push.cancelled() and push.exception() is not None:
        log.warning("dashboard push failed: %s", push.exception())
