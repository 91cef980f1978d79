"""Sending an order exactly once.

The rules, in order of importance:

1. Before the network call the order moves ``pending -> submitting`` in its own committed
   transaction, under a row lock: a second task for the same order (a retry, a redelivered
   message) finds it ``submitting`` and leaves it alone.
2. When the send has no clear answer (timeout, dropped connection, 5xx, a worker that died
   while ``submitting``) the order becomes ``unknown``. Nothing is sent again until the
   exchange, asked by our client order id, has answered "no such order" enough times.
3. Only errors that prove the request was not carried out (rate limit, maintenance, no
   connection at all, an open circuit) are retried or failed over directly.

Every resend uses the same client order id, so an exchange that deduplicates refuses a
second copy even if all of the above were wrong.
"""

from __future__ import annotations

import functools
import logging
import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchanges.adapters import types as ex
from exchanges.adapters.errors import (
    AuthenticationFailed,
    DuplicateOrder,
    ExchangeConnectionError,
    ExchangeError,
    ExchangeMaintenance,
    ExchangeTimeout,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
)
from exchanges.factory import adapter_for_connection, call
from exchanges.precision import money
from exchanges.resilience.breaker import CircuitOpen
from trading.models import Order, OrderEvent, OrderStatus, Purpose, Routing, Trade
from trading.models.orders import FINAL, TRANSITIONS
from trading.services import hooks, rows

log = logging.getLogger(__name__)
S = OrderStatus

#: errors meaning "this exchange cannot take orders now" (not: "this order is wrong")
VENUE_DOWN = (CircuitOpen, ExchangeMaintenance, ExchangeConnectionError)
#: exchange refusals of the order itself: rejected with the exchange's reason
REJECTIONS = (InsufficientFunds, InvalidOrder)
STATUS_FROM_EXCHANGE = {
    ex.OrderStatus.OPEN: S.OPEN,
    ex.OrderStatus.PARTIALLY_FILLED: S.PARTIALLY_FILLED,
    ex.OrderStatus.FILLED: S.FILLED,
    ex.OrderStatus.CANCELED: S.CANCELED,
    ex.OrderStatus.EXPIRED: S.CANCELED,
    ex.OrderStatus.REJECTED: S.REJECTED,
}


# --- queueing ---------------------------------------------------------------------------------
def send_later(order: Order, *, delay: float = 0) -> None:
    """Queue the send once the transaction that saved the order commits."""
    from trading.tasks import order_send

    order_id = order.pk
    transaction.on_commit(lambda: order_send.apply_async((order_id,), countdown=delay or None))


def published(order: Order) -> None:
    """Tell the tenant's dashboards, after commit."""
    from trading.services.notify import order_changed

    transaction.on_commit(lambda: order_changed(order))


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Exponential, jittered between half the ceiling and the ceiling (workers never retry in
    step, and never sooner than half the ceiling); never sooner than the exchange's Retry-After."""
    ceiling = min(settings.ORDER_RETRY_MAX_SECONDS, settings.ORDER_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0)


# --- the send ---------------------------------------------------------------------------------
def order_send(*, order_id: int) -> None:
    """The orders queue's task body: send, or resolve an unknown outcome, whatever is due."""
    order = claim_pending(order_id)
    if order is not None:
        published(order)
        _send(order)
        return
    action, order = _claim(order_id)
    if action == "send":
        _send(order)
    elif action == "resolve":
        order_resolve(order_id=order_id)


# The common case in one round trip: a pending order that is due moves to submitting, its
# event is written and the order comes back with its connection and tenant, in one statement
# (atomic on its own). The same move as set_status(SUBMITTING), which the map allows from
# pending only.
assert S.SUBMITTING in TRANSITIONS[S.PENDING] and all(
    S.SUBMITTING not in allowed for status, allowed in TRANSITIONS.items() if status != S.PENDING
)
_CLAIM_SQL = """
WITH moved AS (
    UPDATE {order} SET status = %(submitting)s, attempts = attempts + 1, submitted_at = %(now)s,
        next_attempt_at = NULL, updated_at = %(now)s
    WHERE id = %(id)s AND status = %(pending)s AND purpose <> %(split)s AND connection_id IS NOT NULL
        AND (next_attempt_at IS NULL OR next_attempt_at <= %(due)s)
    RETURNING *
), event AS (
    INSERT INTO {event} (tenant_id, order_id, kind, from_status, to_status, reason, data, created_at)
    SELECT moved.tenant_id, moved.id, 'status', %(pending)s, %(submitting)s,
        'sending to ' || connection.label || ' (attempt ' || moved.attempts || ')', '{{}}'::jsonb, %(now)s
    FROM moved JOIN {connection} AS connection ON connection.id = moved.connection_id
)
SELECT {columns} FROM moved
    JOIN {connection} AS connection ON connection.id = moved.connection_id
    JOIN {tenant} AS tenant ON tenant.id = moved.tenant_id
"""


def claim_pending(order_id: int) -> Order | None:
    """pending -> submitting in one statement, or None when the order is not a due pending one
    (then ``_claim`` decides under a row lock). PostgreSQL only (a data-modifying CTE); other
    databases (the embedded SQLite of ``bin/run``) take the locking path every time."""
    from django.db import connection as database

    if database.vendor != "postgresql":
        return None
    now = timezone.now()
    params = {"id": order_id, "now": now, "due": now + timedelta(seconds=0.5), "pending": S.PENDING,
              "submitting": S.SUBMITTING, "split": Purpose.SPLIT}  # fmt: skip
    sql, claimed = _claim_statement()
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    order, connection, tenant = rows.models_from_row(row, claimed, database)
    order.connection, order.tenant = connection, tenant
    return order


@functools.cache
def _claim_statement() -> tuple[str, tuple]:
    from exchanges.models import ExchangeConnection
    from tenancy.models import Tenant

    claimed = {"moved": Order, "connection": ExchangeConnection, "tenant": Tenant}
    sql = _CLAIM_SQL.format(
        order=Order._meta.db_table, event=OrderEvent._meta.db_table, connection=ExchangeConnection._meta.db_table,
        tenant=Tenant._meta.db_table, columns=rows.select_columns(claimed),
    )  # fmt: skip
    return sql, tuple(claimed.values())


def _claim(order_id: int) -> tuple[str | None, Order | None]:
    with transaction.atomic():
        order = _locked(order_id)
        return _claim_locked(order), order


def _locked(order_id: int) -> Order | None:
    """The order under a row lock, with its connection and tenant (one query)."""
    try:
        return Order.objects.select_for_update(of=("self",)).select_related("connection", "tenant").get(pk=order_id)
    except Order.DoesNotExist:
        return None


def _claim_locked(order: Order | None) -> str | None:
    if order is None or order.purpose == Purpose.SPLIT:
        return None
    if order.status == S.UNKNOWN:
        return "resolve"
    if order.status == S.SUBMITTING:
        stale = timezone.now() - timedelta(seconds=settings.ORDER_SUBMIT_STALE_SECONDS)
        if order.submitted_at and order.submitted_at > stale:
            return None  # another worker is sending it right now
        order.set_status(S.UNKNOWN, reason="the worker sending it stopped before the exchange answered")
        order.save()
        return "resolve"
    if order.status != S.PENDING:
        return None  # done already: this is a duplicate message
    if order.next_attempt_at and order.next_attempt_at > timezone.now() + timedelta(seconds=0.5):
        return None  # an early copy; the scheduled one comes at next_attempt_at
    order.attempts += 1
    order.submitted_at = timezone.now()
    order.next_attempt_at = None
    order.set_status(S.SUBMITTING, reason=f"sending to {order.connection.label} (attempt {order.attempts})")
    order.save(update_fields=["status", "attempts", "submitted_at", "next_attempt_at", "updated_at"])
    published(order)
    return "send"


def _send(order: Order) -> None:
    order_id = order.pk
    try:
        placed = call(
            adapter_for_connection(order.connection), "create_order",
            symbol=order.symbol, side=ex.Side(order.side), type=ex.OrderType(order.type), amount=order.amount,
            price=order.price, stop_price=order.stop_price, client_order_id=order.client_order_id,
            time_in_force=order.time_in_force if order.type != "market" else None,
            timeout=settings.EXCHANGE_TIMEOUT_MS / 1000 + 5,
        )  # fmt: skip
    except TimeoutError:
        send_failed(order_id, ExchangeTimeout("no answer in time", exchange=order.connection.exchange))
    except ExchangeError as exc:
        send_failed(order_id, exc)
    else:
        apply_sent(order, placed, reason=f"accepted by {order.connection.label}")


def send_failed(order_id: int, exc: ExchangeError) -> None:
    """Decide what a failed send means: unknown, retry, failover, rejected or failed."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("connection").get(pk=order_id)
        if order.status != S.SUBMITTING:
            return
        reason = str(exc)
        order.error_code = exc.code
        if isinstance(exc, DuplicateOrder) or exc.may_have_executed:
            order.set_status(S.UNKNOWN, reason=f"no clear answer ({exc.code}): looking it up by client order id "
                             f"before anything else — {reason}")  # fmt: skip
            order.lookups = 0
            order.save()
            resolve_now = True
        else:
            resolve_now = False
            _after_refusal(order, exc)
            hooks.order_updated(order, before=S.SUBMITTING, trade=None)
    if resolve_now:
        order_resolve(order_id=order_id)


def _after_refusal(order: Order, exc: ExchangeError) -> None:
    """The exchange did not carry the order out. Inside the caller's transaction."""
    reason = str(exc)
    if isinstance(exc, REJECTIONS):
        order.reason = reason
        order.set_status(S.REJECTED, reason=reason, data={"error_code": exc.code})
    elif not exc.temporary:
        hint = " Check the connection's API key and its trading permission." if isinstance(
            exc, AuthenticationFailed) else ""  # fmt: skip
        order.reason = reason + hint
        order.set_status(S.FAILED, reason=order.reason, data={"error_code": exc.code})
    elif isinstance(exc, VENUE_DOWN) and order.routing != Routing.EXPLICIT:
        failover(order, reason)
    elif order.attempts < settings.ORDER_MAX_ATTEMPTS:
        _retry(order, exc)
    elif order.routing != Routing.EXPLICIT:
        failover(order, f"{order.attempts} attempts failed; last: {reason}")
    else:
        order.reason = f"gave up after {order.attempts} attempts: {reason}"
        order.set_status(S.FAILED, reason=order.reason, data={"error_code": exc.code})
    order.save()
    published(order)


def _retry(order: Order, exc: ExchangeError) -> None:
    delay = backoff(order.attempts, exc.retry_after)
    order.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    order.set_status(S.PENDING, reason=f"{exc.code}: retrying in {delay:.1f} s — {exc}",
                     data={"error_code": exc.code, "delay": round(delay, 3)})  # fmt: skip
    send_later(order, delay=delay)


def failover(order: Order, reason: str) -> None:
    """Move to the next exchange the routing policy allows; the order was not placed here."""
    from trading.services import routing
    from trading.services.intents import Intent, OrderRefused

    previous = order.connection
    order.tried_connections = [*order.tried_connections, previous.pk]
    intent = Intent(symbol=order.symbol, side=order.side, type=order.type, amount=order.amount, price=order.price,
                    stop_price=order.stop_price, time_in_force=order.time_in_force, purpose=order.purpose)  # fmt: skip
    try:
        chosen = routing.route(tenant=order.tenant, intent=intent, policy=order.routing,
                               exclude=tuple(order.tried_connections))  # fmt: skip
    except (OrderRefused, ExchangeError) as exc:
        text = getattr(exc, "text", str(exc))
        order.reason = f"{previous.label} is down ({reason}) and no other exchange can take it: {text}"
        order.set_status(S.FAILED, reason=order.reason)
        return
    leg = chosen.legs[0]
    order.connection, order.amount, order.price = leg.connection, leg.intent.amount, leg.intent.price
    order.remaining, order.attempts, order.lookups, order.next_attempt_at = leg.intent.amount, 0, 0, None
    order.note("failover", f"failed over from {previous.label} to {leg.connection.label}: {reason}",
               data={"from": previous.pk, "to": leg.connection.pk})  # fmt: skip
    order.set_status(S.PENDING, reason=f"routed to {leg.connection.label} after failover")
    send_later(order)


# --- unknown outcomes ---------------------------------------------------------------------------
def lookup(order: Order) -> ex.Order:
    """The order at the exchange, by id when known, else by our client order id."""
    return call(
        adapter_for_connection(order.connection), "fetch_order", symbol=order.symbol,
        order_id=order.exchange_order_id or None, client_order_id=order.client_order_id,
    )  # fmt: skip


def order_resolve(*, order_id: int) -> None:
    """Find out whether an ``unknown`` order reached the exchange."""
    order = Order.objects.select_related("connection").get(pk=order_id)
    if order.status != S.UNKNOWN:
        return
    try:
        found = lookup(order)
    except OrderNotFound:
        _not_found(order_id)
    except (ExchangeError, TimeoutError) as exc:
        delay = backoff(order.lookups + 2, getattr(exc, "retry_after", None))
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order_id)
            if locked.status == S.UNKNOWN:
                locked.note("lookup", f"lookup failed ({exc}); asking again in {delay:.1f} s")
                send_later(locked, delay=delay)
    else:
        apply_exchange_order(order_id, found, reason="found at the exchange by its client order id")


def _not_found(order_id: int) -> None:
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("connection").get(pk=order_id)
        if order.status != S.UNKNOWN:
            return
        order.lookups += 1
        needed = settings.ORDER_UNKNOWN_CONFIRMATIONS
        if order.lookups < needed:
            delay = settings.ORDER_UNKNOWN_RECHECK_SECONDS
            order.note("lookup", f"not at the exchange yet ({order.lookups}/{needed}); asking again in {delay:g} s")
            order.save()
            send_later(order, delay=delay)
            return
        order.note("lookup", f"confirmed not placed: {needed} lookups by client order id found nothing")
        if order.attempts >= settings.ORDER_MAX_ATTEMPTS and order.routing == Routing.EXPLICIT:
            order.reason = f"not placed after {order.attempts} attempts"
            order.set_status(S.FAILED, reason=order.reason)
        elif order.attempts >= settings.ORDER_MAX_ATTEMPTS:
            failover(order, f"not placed after {order.attempts} attempts")
        else:
            order.lookups = 0
            order.set_status(S.PENDING, reason="not placed: sending again with the same client order id")
            send_later(order, delay=backoff(order.attempts))
        order.save()
        published(order)


# --- what the exchange says ----------------------------------------------------------------------
def apply_exchange_order(order_id: int, answer: ex.Order, *, reason: str) -> Order:
    """Adopt the exchange's view: status, fills (a Trade per new fill), fees, average price."""
    with transaction.atomic():
        order = _locked(order_id)
        loaded = rows.field_values(order)
        before, trade = _adopt(order, answer, reason)
        order.save(update_fields=rows.changed_fields(order, loaded, always=("updated_at",)))
        _after_adopt(order, before, trade)
    return order


def apply_sent(sent: Order, answer: ex.Order, *, reason: str) -> Order:
    """``apply_exchange_order`` for the order this worker has just claimed and sent, without
    reading and locking it again first: its update is conditional on the row still being
    as claimed (``submitting``, the same attempt), which only this worker moves on from
    (every other writer changes the status or the attempt first), and goes with its events
    and the position lock in one statement (trading.services.sent). Anything else, or
    another database than PostgreSQL: the general path, under the row lock."""
    from django.db import connection as database

    from trading.services import sent as writes

    if database.vendor != "postgresql":
        return apply_exchange_order(sent.pk, answer, reason=reason)
    loaded = rows.field_values(sent)
    try:
        with transaction.atomic():
            sent.deferred_events = []
            try:
                before, trade = _adopt(sent, answer, reason)
            finally:
                events, sent.deferred_events = sent.deferred_events, None
            sent.updated_at = timezone.now()
            changed = rows.changed_fields(sent, loaded, always=("updated_at",))
            position = writes.sent_write(sent, loaded, changed, events, trade)
            if trade is not None and position is not None:
                writes.fill_write(position, trade)
            elif trade is not None:
                _record_fill(trade)  # the first fill of this connection and symbol: the row is created
            hooks.order_updated(sent, before=before, trade=trade)
            published(sent)
    except writes.Moved:
        return apply_exchange_order(sent.pk, answer, reason=reason)
    return sent


def _adopt(order: Order, answer: ex.Order, reason: str) -> tuple[str, Trade | None]:
    """The answer applied to the order in memory (its events written): (status before, new fill)."""
    before = order.status
    if order.lookups:  # the exchange answered: lookups that found nothing start over
        order.lookups = 0
    if answer.id and answer.id != order.exchange_order_id:
        order.exchange_order_id = answer.id
    trade = _new_fill(order, answer)
    status = STATUS_FROM_EXCHANGE[answer.status]
    if status == S.OPEN and order.filled > 0:
        status = S.PARTIALLY_FILLED
    if status != order.status and not order.can_move_to(status):
        # final here and not there, or a move the map forbids (open here, rejected there)
        order.discrepancy = f"the exchange says {status}, the platform had {order.status}"
        order.note("discrepancy", order.discrepancy)
        if status in FINAL and order.can_move_to(S.CANCELED):  # no longer live there: nor here
            order.set_status(S.CANCELED, reason=f"{reason}: the exchange says {status}")
    elif status != order.status or trade is not None:
        why = reason if status != order.status else f"filled {trade.amount} at {trade.price}"
        order.set_status(status, reason=why, data={"filled": str(order.filled)})
    if status in (S.CANCELED, S.REJECTED) and not order.reason:
        order.reason = reason
    return before, trade


def _after_adopt(order: Order, before: str, trade: Trade | None) -> None:
    """Once the order row is written, in its transaction: the fill, hooks, the push."""
    if trade is not None:  # last: the position row, shared by every order of it, is locked the shortest
        _record_fill(trade)
    hooks.order_updated(order, before=before, trade=trade)
    published(order)


def gone_at_exchange(order_id: int, *, reason: str) -> Order | None:
    """An order the platform holds as live at the exchange that the exchange does not have
    (not among its open orders, not found by id or client order id): it cannot fill, so it
    is canceled here, with the difference flagged for a look at the exchange's history."""
    with transaction.atomic():
        order = _locked(order_id)
        if order is None or order.status not in (S.OPEN, S.PARTIALLY_FILLED):
            return order
        before = order.status
        order.discrepancy = f"the exchange has no such order, the platform had it {before}"
        order.note("discrepancy", order.discrepancy)
        order.set_status(S.CANCELED, reason=reason)
        order.save()
        hooks.order_updated(order, before=before, trade=None)  # a split parent, its protection
        published(order)
    return order


def _new_fill(order: Order, answer: ex.Order) -> Trade | None:
    """The fill the answer adds to the order (its fields updated), as an unsaved Trade."""
    filled = answer.filled or Decimal(0)
    delta = filled - order.filled
    if delta <= 0:
        return None
    average = answer.average or answer.price or order.price
    old_cost = (order.average_price or Decimal(0)) * order.filled
    price = (average * filled - old_cost) / delta if average else Decimal(0)
    # an order's fee is in one currency: the first the exchange named; others are flagged, not added
    currency = order.fee_currency or (answer.fees[0].currency if answer.fees else "")
    fee_total = sum((fee.cost for fee in answer.fees if fee.currency == currency), Decimal(0))
    others = sorted({fee.currency for fee in answer.fees if fee.currency != currency})
    if others:
        order.note("fees", f"fees in {', '.join(others)} too: only the {currency} fee is counted")
    fee_delta = max(fee_total - order.fee, Decimal(0))
    order.filled, order.average_price = filled, average
    order.remaining = max(order.amount - filled, Decimal(0))
    order.fee, order.fee_currency = max(fee_total, order.fee), currency
    order.fill_count += 1
    trade = Trade(
        tenant=order.tenant, order=order, connection=order.connection, symbol=order.symbol, side=order.side,
        amount=delta, price=money(price), fee=fee_delta, fee_currency=order.fee_currency,
        sequence=order.fill_count,
    )  # fmt: skip
    return trade


def _record_fill(trade: Trade) -> None:
    from trading.services.positions import position_apply_trade

    position_apply_trade(trade=trade)  # sets the trade's realized PnL before its insert
    trade.save(force_insert=True)
