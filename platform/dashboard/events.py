"""Publishing to dashboards: sync code (services, tasks) sends, every web process delivers."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def tenant_group(tenant_id: int) -> str:
    """The group of one tenant's private events (orders, connections, bots)."""
    return f"tenant.{tenant_id}"


def tenant_event_publish(*, tenant_id: int, event: str, data: dict) -> None:
    """Push ``{"event": ..., "data": ...}`` to every dashboard socket of the tenant."""
    async_to_sync(get_channel_layer().group_send)(
        tenant_group(tenant_id), {"type": "dashboard.event", "event": event, "data": data}
    )
