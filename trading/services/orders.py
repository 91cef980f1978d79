"""Placing and canceling orders: the intent and its client order id are saved before any
network call, then a worker on the ``orders`` queue sends it (trading.services.execution).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from exchanges.adapters.errors import ExchangeError, OrderNotFound
from exchanges.factory import adapter_for_connection, call
from exchanges.precision import MONEY_DECIMALS, MONEY_DIGITS
from exchanges.symbols import InvalidSymbol, normalize
from trading.models import Order, OrderStatus, OrderType, Purpose, Routing, Side, TimeInForce
from trading.models.orders import ACTIVE, AT_EXCHANGE
from trading.services import execution, routing, rows
from trading.services.intents import Intent, OrderRefused, Route

S = OrderStatus


class OrderConflict(Exception):
    """The request cannot be done in the order's present state (HTTP 409)."""


def intent_clean(
    *,
    symbol: str,
    side: str,
    type: str = OrderType.MARKET,
    amount,
    price=None,
    stop_price=None,
    time_in_force: str = TimeInForce.GTC,
    stop_loss=None,
    take_profit=None,
    purpose: str = Purpose.ENTRY,
) -> Intent:
    """Parse and check what does not need an exchange; ValidationError names the field."""
    try:
        symbol = normalize(symbol)
    except InvalidSymbol as exc:
        raise ValidationError({"symbol": str(exc)}) from None
    if side not in Side.values:
        raise ValidationError({"side": f"Use one of {', '.join(Side.values)}."})
    if type not in OrderType.values:
        raise ValidationError({"type": f"Use one of {', '.join(OrderType.values)}."})
    if time_in_force not in TimeInForce.values:
        raise ValidationError({"time_in_force": f"Use one of {', '.join(TimeInForce.values)}."})
    values = {name: _decimal(name, value) for name, value in
              (("amount", amount), ("price", price), ("stop_price", stop_price), ("stop_loss", stop_loss),
               ("take_profit", take_profit))}  # fmt: skip
    if values["amount"] is None:
        raise ValidationError({"amount": "The amount is required."})
    if type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and values["price"] is None:
        raise ValidationError({"price": f"A {type.replace('_', '-')} order needs a price."})
    if type in (OrderType.STOP, OrderType.STOP_LIMIT) and values["stop_price"] is None:
        raise ValidationError({"stop_price": f"A {type.replace('_', '-')} order needs a stop price."})
    if type == OrderType.MARKET and values["price"] is not None:
        raise ValidationError({"price": "A market order takes no price; use a limit order."})
    intent = Intent(symbol=symbol, side=side, type=type, time_in_force=time_in_force, purpose=purpose, **values)
    _protection_clean(intent)
    return intent


_MAX_WHOLE_DIGITS = MONEY_DIGITS - MONEY_DECIMALS


def _decimal(name: str, value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: "Give a number, e.g. 0.5."}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({name: "Must be greater than zero."})
    if number.adjusted() >= _MAX_WHOLE_DIGITS:  # what a stored amount or price can hold
        raise ValidationError({name: f"Too large: at most {_MAX_WHOLE_DIGITS} digits before the decimal point."})
    return number


def _protection_clean(intent: Intent) -> None:
    """A buy's stop-loss is below its price and its take-profit above (a sell: the reverse)."""
    reference = intent.reference_price
    if reference is None:
        return
    below, above = ("stop_loss", "take_profit") if intent.side == Side.BUY else ("take_profit", "stop_loss")
    if getattr(intent, below) is not None and getattr(intent, below) >= reference:
        raise ValidationError({below: f"Must be below the order's price {reference} for a {intent.side}."})
    if getattr(intent, above) is not None and getattr(intent, above) <= reference:
        raise ValidationError({above: f"Must be above the order's price {reference} for a {intent.side}."})


def _fingerprint(intent: Intent, routing_policy: str, connection_id, allow_split: bool) -> str:
    body = {k: str(v) for k, v in intent.__dict__.items()} | {
        "routing": routing_policy, "connection": connection_id, "allow_split": allow_split,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def order_place(
    *,
    tenant,
    intent: Intent,
    routing_policy: str = Routing.EXPLICIT,
    connection=None,
    allow_split: bool = False,
    idempotency_key: str | None = None,
    user=None,
    source: str = "api",
    parent: Order | None = None,
    position=None,
) -> Order:
    """Check, route and save the order (and its children when split); a worker sends it.

    The same ``idempotency_key`` returns the order it made the first time, never a second
    one; reusing a key for a different order is refused.
    """
    fingerprint = _fingerprint(intent, routing_policy, getattr(connection, "pk", None), allow_split)
    if idempotency_key:
        existing = _idempotent(tenant, idempotency_key, fingerprint)
        if existing is not None:
            return existing
    chosen = routing.route(  # the kill switch first, then the policy and its checks
        tenant=tenant, intent=intent, policy=routing_policy, connection=connection, allow_split=allow_split
    )
    fields = dict(
        tenant=tenant, routing=routing_policy, allow_split=allow_split, idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint, created_by=user if getattr(user, "pk", None) else None, source=source,
        parent=parent, position=position,
    )  # fmt: skip
    try:
        if not chosen.split and _one_statement():
            order = _save_one(chosen, fields)
        else:
            with transaction.atomic():
                order = _save(chosen, intent, fields)
    except IntegrityError:
        if idempotency_key:  # the same key, sent twice at once: the other request won
            existing = _idempotent(tenant, idempotency_key, fingerprint)
            if existing is not None:
                return existing
        raise
    return order


def _idempotent(tenant, key: str, fingerprint: str) -> Order | None:
    existing = Order.objects.filter(tenant=tenant, idempotency_key=key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise ValidationError({"idempotency_key": "This Idempotency-Key was used for a different order."})
    return existing


def _save(chosen: Route, intent: Intent, fields: dict) -> Order:
    if not chosen.split:
        leg = chosen.legs[0]
        order = _create(leg.intent, connection=leg.connection, fields=fields)
        order.set_status(S.PENDING, reason=f"routed to {leg.connection.label} ({chosen.policy})",
                         data={"considered": list(chosen.considered)})  # fmt: skip
        execution.send_later(order)
        return order
    parent = _create(intent, connection=None, fields=fields | {"purpose": Purpose.SPLIT})
    legs = ", ".join(f"{leg.intent.amount} on {leg.connection.label}" for leg in chosen.legs)
    parent.set_status(S.PENDING, reason=f"split across exchanges: {legs}")
    child_fields = fields | {"idempotency_key": None, "parent": parent, "request_fingerprint": ""}
    for leg in chosen.legs:
        child = _create(leg.intent, connection=leg.connection, fields=child_fields)
        child.set_status(S.PENDING, reason=f"part {leg.intent.amount} of split order {parent.pk}")
        execution.send_later(child)
    return parent


def _one_statement() -> bool:
    """The order and its first event in one statement, atomic without a transaction of its own
    (three round trips fewer): PostgreSQL, and not inside the caller's transaction (there a
    savepoint keeps a refused insert from breaking it)."""
    from django.db import connection as database

    return database.vendor == "postgresql" and not database.in_atomic_block


def _save_one(chosen: Route, fields: dict) -> Order:
    """``_save`` of a single-leg route as one data-modifying statement."""
    from django.db import connection as database

    leg = chosen.legs[0]
    order = _new(leg.intent, connection=leg.connection, fields=fields)
    order.deferred_events = []
    order.set_status(S.PENDING, reason=f"routed to {leg.connection.label} ({chosen.policy})",
                     data={"considered": list(chosen.considered)})  # fmt: skip
    events, order.deferred_events = order.deferred_events, None
    insert, params = rows.insert_values([order], database)
    event_insert, event_params = rows.insert_select(events, database, source="placed", columns={"order_id": "id"})
    with database.cursor() as cursor:
        sql = f"WITH placed AS ({insert} RETURNING id), event AS ({event_insert}) SELECT id FROM placed"  # noqa: S608
        cursor.execute(sql, [*params, *event_params])
        order.pk = cursor.fetchone()[0]
    order._state.adding, order._state.db = False, database.alias
    execution.send_later(order)  # no transaction open: queued now, the order is committed
    return order


def _create(intent: Intent, *, connection, fields: dict) -> Order:
    order = _new(intent, connection=connection, fields=fields)
    order.save()
    return order


def _new(intent: Intent, *, connection, fields: dict) -> Order:
    return Order(
        connection=connection, symbol=intent.symbol, side=intent.side, type=intent.type, amount=intent.amount,
        price=intent.price, stop_price=intent.stop_price, time_in_force=intent.time_in_force,
        stop_loss_price=intent.stop_loss, take_profit_price=intent.take_profit, remaining=intent.amount,
        purpose=fields.pop("purpose", intent.purpose), **fields,
    )  # fmt: skip


# --- cancel ----------------------------------------------------------------------------------
def order_cancel(*, order: Order, reason: str = "canceled by the user") -> Order:
    """Cancel at the exchange (or before it was sent). A split parent cancels its children."""
    if order.purpose == Purpose.SPLIT:
        for child in order.children.filter(status__in=ACTIVE):
            order_cancel(order=child, reason=reason)
        order.refresh_from_db()
        return order
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status in (S.PENDING, S.WAITING):
            locked.set_status(S.CANCELED, reason=f"{reason} before it was sent")
            locked.save()
            execution.published(locked)
            return locked
        if locked.status in (S.SUBMITTING, S.UNKNOWN):
            raise OrderConflict("The order is being sent to the exchange; cancel it again in a moment.")
        if locked.status not in AT_EXCHANGE:
            raise OrderConflict(f"The order is already {locked.get_status_display().lower()}.")
    try:
        answer = call(adapter_for_connection(order.connection), "cancel_order", symbol=order.symbol,
                      order_id=order.exchange_order_id)  # fmt: skip
    except OrderNotFound:
        # gone already (filled or canceled meanwhile): what the exchange has is the truth
        try:
            answer = execution.lookup(order)
        except OrderNotFound:  # and it has nothing at all: nothing left to cancel
            return execution.gone_at_exchange(order.pk, reason=f"{reason}; the exchange has no such order")
    return execution.apply_exchange_order(order.pk, answer, reason=reason)


def order_reconcile(*, order: Order) -> Order:
    """Ask the exchange about this order now (admin action, API)."""
    from trading.services.reconcile import order_sync

    return order_sync(order=order)


__all__ = [
    "ExchangeError",
    "OrderConflict",
    "OrderRefused",
    "intent_clean",
    "order_cancel",
    "order_place",
    "order_reconcile",
]
