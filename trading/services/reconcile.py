"""Reconciliation (beat): the database and the exchanges agree again.

- orders whose send was lost (a pending order past its time, a ``submitting`` one whose
  worker died) are sent or looked up again;
- ``unknown`` orders are looked up by client order id;
- open orders are synced per connection and symbol (fills, fees, average price, partial
  fills), and differences are flagged on the order as a ``discrepancy`` event.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchanges.adapters.errors import ExchangeError, OrderNotFound
from exchanges.factory import adapter_for_connection, call
from exchanges.models import ExchangeConnection
from trading.models import Order, OrderStatus, Purpose
from trading.models.orders import AT_EXCHANGE
from trading.services import execution

log = logging.getLogger(__name__)
S = OrderStatus
OUR_CLIENT_ID = re.compile(r"^p[0-9a-f]{31}$")


def orders_reconcile() -> dict:
    """One pass; queues the work on the orders queue and says how much it found."""
    from trading.tasks import order_send, orders_sync_connection

    now = timezone.now()
    pending_stale = now - timedelta(seconds=settings.ORDER_PENDING_STALE_SECONDS)
    lost = Order.objects.exclude(purpose=Purpose.SPLIT).filter(
        Q(status=S.PENDING) & (Q(next_attempt_at__lt=pending_stale) | Q(next_attempt_at__isnull=True,
                                                                      updated_at__lt=pending_stale))
    )  # fmt: skip
    stuck = Order.objects.filter(
        status=S.SUBMITTING, submitted_at__lt=now - timedelta(seconds=settings.ORDER_SUBMIT_STALE_SECONDS)
    )
    unknown = Order.objects.filter(
        status=S.UNKNOWN, updated_at__lt=now - timedelta(seconds=settings.ORDER_UNKNOWN_RECHECK_SECONDS)
    )
    counts = {"lost": 0, "stuck": 0, "unknown": 0, "connections": 0}
    for name, queryset in (("lost", lost), ("stuck", stuck), ("unknown", unknown)):
        for order_id in queryset.values_list("pk", flat=True)[:1000]:
            order_send.delay(order_id)
            counts[name] += 1
    connections = Order.objects.filter(status__in=AT_EXCHANGE).values_list("connection_id", flat=True).distinct()
    for connection_id in connections:
        orders_sync_connection.delay(connection_id)
        counts["connections"] += 1
    return counts


def connection_sync(*, connection: ExchangeConnection) -> int:
    """Sync every open order of one connection: one open-orders call per symbol, then a
    lookup for each order that left the open list. Returns the orders updated."""
    open_orders = Order.objects.filter(connection=connection, status__in=AT_EXCHANGE)
    updated = 0
    for symbol in sorted(set(open_orders.values_list("symbol", flat=True))):
        try:
            listed = call(adapter_for_connection(connection), "fetch_open_orders", symbol)
        except ExchangeError as exc:
            log.warning("reconcile: open orders of %s on %s failed: %s", symbol, connection.label, exc)
            continue
        at_exchange = {o.client_order_id: o for o in listed if o.client_order_id}
        by_id = {o.id: o for o in listed}
        for order in open_orders.filter(symbol=symbol):
            answer = at_exchange.get(order.client_order_id) or by_id.get(order.exchange_order_id)
            if answer is None:
                order_sync(order=order)
            elif answer.filled != order.filled or execution.STATUS_FROM_EXCHANGE[answer.status] not in AT_EXCHANGE:
                execution.apply_exchange_order(order.pk, answer, reason="synced with the exchange")
            else:
                continue
            updated += 1
        _flag_strangers(connection, symbol, at_exchange)
    return updated


def _flag_strangers(connection, symbol: str, at_exchange: dict) -> None:
    """Open orders with our client id format that the database does not know: log them."""
    ours = [cid for cid in at_exchange if OUR_CLIENT_ID.match(cid)]
    if not ours:
        return
    known = set(Order.objects.filter(client_order_id__in=ours).values_list("client_order_id", flat=True))
    for client_order_id in set(ours) - known:
        log.error(
            "reconcile: %s has an open %s order %s the platform does not know",
            connection.label, symbol, client_order_id,
        )  # fmt: skip


def order_sync(*, order: Order) -> Order:
    """Ask the exchange about one order and adopt its answer; flag what does not add up."""
    if order.status == S.UNKNOWN or order.status == S.SUBMITTING:
        execution.order_send(order_id=order.pk)
        order.refresh_from_db()
        return order
    if order.connection is None or not (order.exchange_order_id or order.status in AT_EXCHANGE):
        return order
    try:
        answer = execution.lookup(order)
    except OrderNotFound:
        return _not_found(order)
    return execution.apply_exchange_order(order.pk, answer, reason="synced with the exchange")


def _not_found(order: Order) -> Order:
    """Counted: an exchange may be slow to show an order; after ORDER_UNKNOWN_CONFIRMATIONS
    lookups that find nothing, it is not there (execution.gone_at_exchange)."""
    needed = settings.ORDER_UNKNOWN_CONFIRMATIONS
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in AT_EXCHANGE:
            return locked
        locked.lookups += 1
        if locked.lookups < needed:
            locked.note("lookup", f"the exchange has no such order ({locked.lookups}/{needed}); asking again")
            locked.save(update_fields=["lookups", "updated_at"])
            return locked
    found = execution.gone_at_exchange(
        order.pk, reason=f"not at the exchange: {needed} lookups by id and client order id found nothing"
    )  # fmt: skip
    return found or order
