"""Publishing to dashboards: sync code (services, tasks) sends, every web process delivers."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def tenant_group(tenant_id: int) -> str:
    """The group of one tenant's private events (orders, connections, bots)."""
    return f"tenant.{tenant_id}"


def tenant_event_publish(*, tenant_id: int, event: str, data: dict, wait: bool = True) -> None:
    """Push ``{"event": ..., "data": ...}`` to every dashboard socket of the tenant.

    ``wait=False`` hands the push to the process's long-lived loop and returns at once: hot
    paths (the order pipeline) neither wait for Redis nor pay for a new loop and connection
    per push, as ``async_to_sync`` would.
    """
    message = {"type": "dashboard.event", "event": event, "data": data}
    layer = get_channel_layer()
    if wait:
        async_to_sync(layer.group_send)(tenant_group(tenant_id), message)
    else:
        from exchanges import runtime

        runtime.submit(layer.group_send(tenant_group(tenant_id), message))
