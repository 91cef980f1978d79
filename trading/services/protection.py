"""Stop-loss and take-profit: protective orders for what an entry order filled or what a
position holds.

Where a protective order lives:

- Alone (only a stop-loss, or only a take-profit) it is placed on the exchange when the
  adapter says it can (``Capabilities.stop_loss`` / ``take_profit``) and the setting
  ``PROTECTION_EXCHANGE_SIDE`` (default on) allows: a stop-market order, or a limit order at
  the take-profit price. Sent like any other order; reconciliation sees it fill.
- As a pair it is watched by the platform (status ``waiting``): on spot, the coins cannot
  back two resting sell orders (the exchange locks them for the first), and no adapter of
  ours places an OCO yet. The watcher (``protection_watch``) fires the one whose price is
  crossed: a stop-loss as a market order, a take-profit as a limit order at its price.

One-cancels-other: when a protective order fills, its siblings (the other kind, protecting
the same entry or position) go: a waiting one here, in the applying transaction; one at the
exchange after commit, by a task, so no network call runs inside a transaction.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from exchanges.adapters.errors import ExchangeError
from exchanges.precision import truncate
from exchanges.reads import connection_capabilities
from exchanges.symbols import split as split_symbol
from trading.models import Order, OrderStatus, OrderType, Position, Purpose, Routing, Side, TriggerMode
from trading.models.orders import ACTIVE, AT_EXCHANGE
from trading.services import execution, routing
from trading.services.intents import Intent

log = logging.getLogger(__name__)
S = OrderStatus
PROTECTIVE = (Purpose.STOP_LOSS, Purpose.TAKE_PROFIT)
DEAD = (S.CANCELED, S.REJECTED, S.FAILED)
REFUSED = (S.REJECTED, S.FAILED)  # not canceled: a cancel (the user's, one-cancels-other) is meant
ZERO = Decimal(0)


def kind_label(purpose: str) -> str:
    return "stop-loss" if purpose == Purpose.STOP_LOSS else "take-profit"


def opposite(side: str) -> str:
    return Side.SELL if side == Side.BUY else Side.BUY


def plain(value: Decimal) -> str:
    """61950.000000000000000000 -> 61,950 (for reasons people read)."""
    text = format(value.normalize(), ",f")
    return text


def siblings(order: Order):
    """The other protective orders guarding the same entry (or the same position)."""
    group = Order.objects.filter(purpose__in=PROTECTIVE).exclude(pk=order.pk)
    if order.parent_id:
        return group.filter(parent_id=order.parent_id)
    return group.filter(parent__isnull=True, position_id=order.position_id)


# --- the hook (inside the transaction that applied an exchange update) -----------------------
def order_updated(order: Order, *, before: str, trade) -> None:
    if order.purpose == Purpose.ENTRY:
        if trade is not None and (order.stop_loss_price or order.take_profit_price):
            entry_protect(entry=order)
    elif order.purpose in PROTECTIVE:
        if trade is not None or (order.status == S.FILLED and before != S.FILLED):
            one_cancels_other(order)
        elif order.status in REFUSED and before not in REFUSED and order.trigger_mode == TriggerMode.EXCHANGE:
            exchange_refused(order)


def entry_protect(*, entry: Order) -> list[Order]:
    """Protect what the entry has filled so far (net of fees paid in the coin bought).

    Never raises: a protection that cannot be placed is noted on the entry, and the fill
    that called this is recorded all the same."""
    kinds = _kinds(stop_loss=entry.stop_loss_price, take_profit=entry.take_profit_price)
    group = Order.objects.filter(parent=entry, purpose__in=PROTECTIVE)
    position = Position.objects.filter(connection_id=entry.connection_id, symbol=entry.symbol).first()
    context = dict(
        tenant=entry.tenant, connection=entry.connection, symbol=entry.symbol, side=opposite(entry.side),
        parent=entry, position=position, user=entry.created_by,
    )  # fmt: skip
    made = []
    for purpose, price in kinds:
        try:
            with transaction.atomic():
                missing = _net_filled(entry) - _assigned(group, purpose)
                if missing > 0:
                    mode = trigger_mode_for(entry.connection, kinds, purpose)
                    made.append(_grow_or_place(group, purpose=purpose, price=price, amount=missing, mode=mode,
                                               context=context))  # fmt: skip
        except (ValidationError, ExchangeError) as exc:
            text = "; ".join(getattr(exc, "messages", [str(exc)]))
            entry.note("protection", f"{kind_label(purpose)} at {plain(price)} not placed: {text}")
    return made


def _kinds(*, stop_loss, take_profit) -> list[tuple[str, Decimal]]:
    pairs = ((Purpose.STOP_LOSS, stop_loss), (Purpose.TAKE_PROFIT, take_profit))
    return [(purpose, Decimal(price)) for purpose, price in pairs if price is not None]


def _net_filled(entry: Order) -> Decimal:
    """The coins a buy's fills delivered: an exchange charging its fee in them (Binance) keeps
    some. A fill reported without its fee (Binance's order lookups) is assumed to have paid
    the market's higher fee rate in the coin: a little dust stays rather than a sell failing."""
    if entry.side == Side.SELL:
        return sum((trade.amount for trade in entry.trades.all()), ZERO)
    base, _ = split_symbol(entry.symbol)
    market = routing.connection_market(connection=entry.connection, symbol=entry.symbol)
    rate = max(market.taker_fee or ZERO, market.maker_fee or ZERO)
    held = ZERO
    for trade in entry.trades.all():
        currency = (trade.fee_currency or "").upper()
        fee = trade.fee if currency == base else (trade.amount * rate if not currency and not trade.fee else ZERO)
        held += trade.amount - fee
    return truncate(held, market.amount_precision)


def _assigned(group, purpose: str) -> Decimal:
    """What protective orders of this kind cover already (dead ones: what they filled)."""
    total = ZERO
    for amount, filled, status in group.filter(purpose=purpose).values_list("amount", "filled", "status"):
        total += filled if status in DEAD else amount
    return total


def trigger_mode_for(connection, kinds, purpose: str) -> str:
    if len(kinds) > 1 or not settings.PROTECTION_EXCHANGE_SIDE:
        return TriggerMode.PLATFORM
    try:
        capabilities, _ = connection_capabilities(connection=connection)
    except ExchangeError:
        return TriggerMode.PLATFORM
    able = capabilities.stop_loss if purpose == Purpose.STOP_LOSS else capabilities.take_profit
    return TriggerMode.EXCHANGE if able else TriggerMode.PLATFORM


def _grow_or_place(group, *, purpose: str, price: Decimal, amount: Decimal, mode: str, context: dict) -> Order:
    waiting = group.filter(purpose=purpose, status=S.WAITING).select_for_update().first()
    if waiting is None:
        return protective_place(purpose=purpose, price=price, amount=amount, mode=mode, **context)
    market = routing.connection_market(connection=waiting.connection, symbol=waiting.symbol)
    grown = truncate(waiting.amount + amount, market.amount_precision)
    if grown > waiting.amount:
        waiting.note("protection", f"grown from {plain(waiting.amount)} to {plain(grown)}: the entry filled more")
        waiting.amount = waiting.remaining = grown
        waiting.save(update_fields=["amount", "remaining", "updated_at"])
    return waiting


# --- placing one protective order ----------------------------------------------------------
def protective_intent(*, purpose: str, symbol: str, side: str, amount: Decimal, price: Decimal) -> Intent:
    """A stop-loss is a stop (market) order at its price; a take-profit a limit order at its price."""
    if purpose == Purpose.STOP_LOSS:
        return Intent(symbol=symbol, side=side, type=OrderType.STOP, amount=amount, stop_price=price, purpose=purpose)
    return Intent(symbol=symbol, side=side, type=OrderType.LIMIT, amount=amount, price=price, purpose=purpose)


def protective_place(
    *, tenant, connection, symbol, side, purpose, price, amount, mode, parent=None, position=None, user=None
) -> Order:
    """One protective order: sent to the exchange now, or kept ``waiting`` for the watcher."""
    from trading.services import orders

    intent = protective_intent(purpose=purpose, symbol=symbol, side=side, amount=amount, price=price)
    if mode == TriggerMode.EXCHANGE:
        order = orders.order_place(
            tenant=tenant, intent=intent, routing_policy=Routing.EXPLICIT, connection=connection, user=user,
            source="protection", parent=parent, position=position,
        )  # fmt: skip
        Order.objects.filter(pk=order.pk).update(trigger_mode=TriggerMode.EXCHANGE)
        order.trigger_mode = TriggerMode.EXCHANGE
        return order
    chosen = routing.route(tenant=tenant, intent=intent, policy=Routing.EXPLICIT, connection=connection)
    checked = chosen.legs[0].intent
    order = Order.objects.create(
        tenant=tenant, connection=connection, symbol=checked.symbol, side=checked.side, type=checked.type,
        amount=checked.amount, remaining=checked.amount, price=checked.price, stop_price=checked.stop_price,
        purpose=purpose, parent=parent, position=position, trigger_mode=TriggerMode.PLATFORM, status=S.WAITING,
        routing=Routing.EXPLICIT, source="protection", created_by=user if getattr(user, "pk", None) else None,
    )  # fmt: skip
    order.set_status(S.WAITING, reason=f"{kind_label(purpose)} at {plain(price)}: watched by the platform")
    execution.published(order)
    return order


def exchange_refused(order: Order) -> None:
    """The exchange refused a protective order (e.g. a stop it would trigger at once): the
    platform watches it instead, so the coins are not left unguarded."""
    if order.filled > 0 or order.events.filter(kind="protection").exists():
        return  # it did part of its job, or was dealt with already
    if siblings(order).filter(status__in=ACTIVE).exists():
        return
    price = order.stop_price if order.purpose == Purpose.STOP_LOSS else order.price
    try:
        with transaction.atomic():
            protective_place(
                tenant=order.tenant, connection=order.connection, symbol=order.symbol, side=order.side,
                purpose=order.purpose, price=price, amount=order.amount, mode=TriggerMode.PLATFORM,
                parent=order.parent, position=order.position, user=order.created_by,
            )  # fmt: skip
    except (ValidationError, ExchangeError) as exc:
        order.note("protection", f"could not be watched by the platform instead: {exc}")
        return
    order.note("protection", f"the exchange refused it ({order.reason}); the platform watches it instead")


# --- one-cancels-other ----------------------------------------------------------------------
def one_cancels_other(order: Order) -> None:
    """A protective order filled (part of) its amount: siblings cover only what is left."""
    what = f"its {kind_label(order.purpose)} sibling #{order.pk} filled {plain(order.filled)}"
    done = order.status == S.FILLED or order.remaining <= 0
    for sibling in siblings(order).filter(status__in=ACTIVE).select_for_update():
        if sibling.status == S.WAITING and not done and order.remaining < sibling.amount:
            sibling.note("protection", f"shrunk from {plain(sibling.amount)} to {plain(order.remaining)}: {what}")
            sibling.amount = sibling.remaining = order.remaining
            sibling.save(update_fields=["amount", "remaining", "updated_at"])
        elif sibling.status == S.WAITING and done:
            protective_cancel_local(sibling, reason=f"one-cancels-other: {what}")
        elif done and sibling.status in AT_EXCHANGE:
            cancel_later(sibling, reason=f"one-cancels-other: {what}")


def protective_cancel_local(order: Order, *, reason: str) -> None:
    """A waiting order was never sent: canceled here. The caller holds its row lock."""
    order.reason = reason
    order.set_status(S.CANCELED, reason=reason)
    order.save()
    execution.published(order)


def cancel_later(order: Order, *, reason: str) -> None:
    from trading.protection_tasks import orders_protection_cancel

    order_id = order.pk
    transaction.on_commit(lambda: orders_protection_cancel.delay(order_id, reason))


def protective_cancel(*, order_id: int, reason: str) -> Order | None:
    """Cancel a protective order wherever it is (the cancel task and the sweeper)."""
    from trading.services import orders

    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status not in ACTIVE:
            return order
        if order.status == S.WAITING:
            protective_cancel_local(order, reason=reason)
            return order
    try:
        return orders.order_cancel(order=order, reason=reason)
    except orders.OrderConflict as exc:  # being sent right now: the sweeper comes back for it
        log.info("protective order %s not canceled yet: %s", order_id, exc)
        return order


def trigger_price(order: Order) -> Decimal:
    return order.stop_price if order.purpose == Purpose.STOP_LOSS else order.price
