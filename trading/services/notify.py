"""Order news for the tenant's dashboards (Channels group ``tenant.<id>``)."""

from __future__ import annotations

import logging

from config.api import json_ready
from dashboard.events import tenant_event_publish

log = logging.getLogger(__name__)


def order_payload(order) -> dict:
    return json_ready(
        {
            "id": order.pk,
            "client_order_id": order.client_order_id,
            "connection": order.connection_id,
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "amount": order.amount,
            "price": order.price,
            "status": order.status,
            "filled": order.filled,
            "average_price": order.average_price,
            "reason": order.reason,
            "parent": order.parent_id,
            "purpose": order.purpose,
        }
    )


def order_changed(order) -> None:
    """Best effort: a dashboard that misses this catches up from the API."""
    try:
        tenant_event_publish(tenant_id=order.tenant_id, event="order", data=order_payload(order), wait=False,
                             key=("order", order.pk))  # fmt: skip
    except Exception:  # noqa: BLE001  (the order itself is saved; a push is not worth failing it)
        log.warning("could not publish order %s to the dashboards", order.pk, exc_info=True)
