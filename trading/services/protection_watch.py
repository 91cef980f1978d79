"""The platform's side of stop-loss and take-profit: the watcher that fires waiting
protective orders when the market crosses their price, and the sweeper that cancels the
ones whose reason to exist is gone.

The watcher reads the shared market cache only (one poll per venue serves everyone); the
demand provider below makes the poller fetch every symbol a waiting order needs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exchanges.adapters.errors import ExchangeError
from exchanges.models import ExchangeConnection
from trading.market.cache import ticker_cached_sync
from trading.market.demand import register_demand_provider
from trading.market.venues import Venue
from trading.models import Order, OrderStatus, OrderType, Position, Purpose, Side, TriggerMode
from trading.models.orders import ACTIVE
from trading.services import execution, routing
from trading.services.protection import (
    DEAD,
    PROTECTIVE,
    REFUSED,
    exchange_refused,
    kind_label,
    plain,
    protective_cancel,
    siblings,
    trigger_price,
)

log = logging.getLogger(__name__)
S = OrderStatus
IN_FLIGHT = (S.PENDING, S.SUBMITTING, S.UNKNOWN, S.OPEN, S.PARTIALLY_FILLED)


def _waiting():
    return Order.objects.filter(status=S.WAITING, purpose__in=PROTECTIVE, trigger_mode=TriggerMode.PLATFORM)


def protection_demand() -> Iterable[tuple[Venue, str]]:
    """Every (venue, symbol) a waiting protective order watches."""
    pairs = set(_waiting().values_list("connection_id", "symbol"))
    connections = ExchangeConnection.objects.filter(pk__in={c for c, _ in pairs})
    venues = {c.pk: Venue.of(c) for c in connections.only("tenant_id", "exchange", "api_base_url", "testnet")}
    for connection_id, symbol in pairs:
        if connection_id in venues:
            yield venues[connection_id], symbol


register_demand_provider(protection_demand)


# --- the watcher ------------------------------------------------------------------------------
def crossed(order: Order, last: Decimal) -> bool:
    """A sell stop-loss fires at or below its price, a sell take-profit at or above; buys mirrored."""
    price = trigger_price(order)
    falling = last <= price
    if order.purpose == Purpose.STOP_LOSS:
        return falling if order.side == Side.SELL else last >= price
    return last >= price if order.side == Side.SELL else falling


def protection_watch() -> int:
    """Beat: fire every waiting protective order whose price the cached ticker crossed."""
    refused_repair()
    fired = 0
    groups: dict[tuple[Venue, str], list[Order]] = defaultdict(list)
    for order in _waiting().select_related("connection"):
        groups[(Venue.of(order.connection), order.symbol)].append(order)
    for (venue, symbol), waiting in groups.items():
        cached = ticker_cached_sync(venue, symbol)
        if cached is None:
            continue  # no fresh price: the poller fetches it next tick (protection_demand)
        ticker, _ = cached
        for order in waiting:
            last = ticker.price or (ticker.bid if order.side == Side.SELL else ticker.ask)
            if last is not None and crossed(order, last):
                fired += protective_fire(order_id=order.pk, last=last)
    return fired


def protective_fire(*, order_id: int, last: Decimal) -> bool:
    """``waiting -> pending`` exactly once, under the row lock; then it is sent like any order."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != S.WAITING or not crossed(order, last):
            return False
        if siblings(order).filter(status__in=IN_FLIGHT, trigger_mode=TriggerMode.PLATFORM).exists():
            return False  # its sibling fired first: one of the pair, never both
        price = trigger_price(order)
        if order.purpose == Purpose.STOP_LOSS:
            order.type = OrderType.MARKET  # the stop price stays on the row: what triggered it
        order.set_status(
            S.PENDING, reason=f"{kind_label(order.purpose)} triggered at {plain(price)} (last {plain(last)})",
            data={"trigger": str(price), "last": str(last)},
        )  # fmt: skip
        order.save()
        execution.send_later(order)
        execution.published(order)
    return True


def refused_repair() -> None:
    """Exchange-side protective orders the exchange refused lately: watched here instead
    (the hook does it when the refusal passes through it; this catches the rest)."""
    since = timezone.now() - timedelta(hours=1)
    refused = Order.objects.filter(
        purpose__in=PROTECTIVE, trigger_mode=TriggerMode.EXCHANGE, status__in=REFUSED, filled=0, closed_at__gte=since
    ).exclude(events__kind="protection")
    for order in refused.select_related("connection", "parent", "position"):
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            exchange_refused(locked)


# --- the sweeper ------------------------------------------------------------------------------
def orphan_reason(order: Order) -> str | None:
    """Why this protective order should not exist any more, or None."""
    entry = order.parent
    if entry is not None and entry.status in DEAD and entry.filled == 0:
        return f"its entry order #{entry.pk} was {entry.status} with nothing filled"
    filled = siblings(order).filter(status=S.FILLED).first()
    if filled is not None:
        return f"its {kind_label(filled.purpose)} sibling #{filled.pk} filled"
    position = order.position or Position.objects.filter(connection_id=order.connection_id, symbol=order.symbol).first()
    if position is not None and is_flat(position):
        return "the position is flat" + (" (dust left)" if position.quantity else "")
    guarded = Side.SELL if position is not None and position.quantity > 0 else Side.BUY
    if position is not None and order.side != guarded:
        return f"the position was closed by other means (now {position.side})"
    return None


def is_flat(position: Position) -> bool:
    """Nothing left, or less than the exchange would take in one order (fee dust)."""
    if position.quantity == 0:
        return True
    try:
        market = routing.connection_market(connection=position.connection, symbol=position.symbol)
    except ExchangeError:
        return False
    size = abs(position.quantity)
    too_little = market.min_amount is not None and size < market.min_amount
    worth = size * (position.average_price or 0)
    return too_little or bool(market.min_cost and position.average_price and worth < market.min_cost)


def protection_sweep() -> int:
    """Beat: cancel orphaned protective orders (waiting here, or resting at the exchange)."""
    canceled = 0
    candidates = Order.objects.filter(purpose__in=PROTECTIVE, status__in=(S.WAITING, S.OPEN, S.PARTIALLY_FILLED))
    for order in candidates.select_related("parent", "position"):
        reason = orphan_reason(order)
        if reason is None:
            continue
        try:
            done = protective_cancel(order_id=order.pk, reason=f"orphaned: {reason}")
        except Exception:  # noqa: BLE001  (one exchange's trouble must not stop the sweep)
            log.warning("could not cancel orphaned protective order %s", order.pk, exc_info=True)
            continue
        canceled += done is not None and done.status not in ACTIVE
    return canceled
