"""What follows an order's update, inside the transaction that applied it: a split
parent adds up its children; protective orders react to fills (trading.services.protection)."""

from __future__ import annotations

from decimal import Decimal

from trading.models import Order, OrderStatus, Trade

S = OrderStatus


def order_updated(order: Order, *, before: str, trade: Trade | None) -> None:
    if order.parent_id and order.parent.purpose == "split":
        split_parent_refresh(order.parent)
    protected = order.stop_loss_price is not None or order.take_profit_price is not None
    protective = order.purpose in ("stop_loss", "take_profit")
    if (protected or protective) and (trade is not None or order.status != before):
        from trading.services import protection

        protection.order_updated(order, before=before, trade=trade)


def split_parent_refresh(parent: Order) -> None:
    """The parent's fills, fees and status from its children."""
    parent = Order.objects.select_for_update().get(pk=parent.pk)
    children = list(parent.children.all())
    filled = sum((c.filled for c in children), Decimal(0))
    cost = sum(((c.average_price or 0) * c.filled for c in children), Decimal(0))
    parent.filled, parent.remaining = filled, max(parent.amount - filled, Decimal(0))
    parent.average_price = (cost / filled) if filled else None
    parent.fee = sum((c.fee for c in children), Decimal(0))
    parent.fee_currency = next((c.fee_currency for c in children if c.fee_currency), "")
    statuses = {c.status for c in children}
    if statuses <= {S.FILLED}:
        status = S.FILLED
    elif statuses & {S.PENDING, S.SUBMITTING, S.UNKNOWN, S.WAITING} and not filled:
        status = parent.status
    elif statuses & {S.OPEN, S.PARTIALLY_FILLED, S.PENDING, S.SUBMITTING, S.UNKNOWN}:
        status = S.PARTIALLY_FILLED if filled else S.OPEN
    elif filled:
        status = S.CANCELED  # every child is final, some did not fill: the rest will not
    else:
        status = S.FAILED if statuses <= {S.FAILED, S.REJECTED} else S.CANCELED
    if status != parent.status and parent.can_move_to(status):
        reasons = "; ".join(f"{c.connection.label if c.connection else '?'}: {c.status}" for c in children)
        parent.set_status(status, reason=f"children: {reasons}")
    parent.save()
