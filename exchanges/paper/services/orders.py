"""Placing, matching and cancelling paper orders.

The adapter looks at the market first (book, trail of prices) and then calls one of
these in a transaction that locks the account, its open orders and balance rows.

- A market order walks the book, pays slippage on top and the fee, and fills at once.
- A limit order takes what the book offers up to its price; the rest rests, its funds
  held in ``used``, and fills at its price once the market crosses it.
- A stop order waits for the last price to reach its stop price, then fills as a market
  order (stop) or becomes a limit order (stop_limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from exchanges.adapters.errors import InvalidOrder, OrderNotFound
from exchanges.adapters.types import Market, OrderBook
from exchanges.adapters.types import OrderType as Type
from exchanges.adapters.types import Side as BoundarySide
from exchanges.paper.markets import EXCHANGE_ID, LISTINGS, money
from exchanges.paper.matching import OrderRequest, buy_reservation, checked_request, fee_for, slipped, walk
from exchanges.paper.models import OPEN_STATUSES, OrderStatus, PaperAccount, PaperOrder, PaperTrade, Side
from exchanges.paper.pricing import TrailPoint
from exchanges.paper.selectors import order_uuid
from exchanges.paper.services.locks import Wallet, lock_account


@dataclass(frozen=True)
class MarketView:
    """The market as the adapter saw it just before placing."""

    book: OrderBook
    bid: Decimal
    ask: Decimal
    last: Decimal


def paper_order_place(
    *, account: PaperAccount, market: Market, request: OrderRequest, view: MarketView, now: datetime
) -> PaperOrder:
    """Place an order; the same client order id twice returns the first order, never a second one."""
    request = checked_request(request, market, reference_price=view.ask if str(request.side) == Side.BUY else view.bid)
    with transaction.atomic():
        account = lock_account(account.pk)
        if request.client_order_id:
            existing = account.orders.filter(client_order_id=request.client_order_id).first()
            if existing is not None:
                return existing
        wallet = Wallet(account, [market.base, market.quote])
        order = PaperOrder.objects.create(
            account=account,
            client_order_id=request.client_order_id,
            symbol=market.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            amount=request.amount,
            price=request.price,
            stop_price=request.stop_price,
            fee_currency=market.quote,
            fee_rate=account.fee_rate,
            created_at=now,
            updated_at=now,
            checked_at=now,
        )
        _execute(order, wallet, market=market, view=view, slippage_bps=account.slippage_bps, now=now)
        wallet.save()
        order.save()
    return order


def _execute(
    order: PaperOrder, wallet: Wallet, *, market: Market, view: MarketView, slippage_bps: Decimal, now: datetime
) -> None:
    buy = order.side == Side.BUY
    if order.type in (Type.STOP, Type.STOP_LIMIT):
        if not _stop_hit(order, view.last):
            _reserve(order, wallet, slippage_bps=slippage_bps, tick=market.price_precision)
            return
        order.triggered_at = now
    levels = view.book.asks if buy else view.book.bids
    if order.type in (Type.MARKET, Type.STOP):
        take = walk(levels, order.remaining, side=BoundarySide(order.side))
        price = slipped(
            take.price, side=BoundarySide(order.side), slippage_bps=slippage_bps, tick=market.price_precision
        )
        _fill(order, wallet, amount=take.amount, price=price, taker=True, at=now)
        return
    take = walk(levels, order.remaining, side=BoundarySide(order.side), limit=order.price)
    if order.time_in_force == "FOK" and take.amount < order.remaining:
        _close(order, OrderStatus.EXPIRED, at=now)
        return
    if take.amount:
        price = slipped(
            take.price,
            side=BoundarySide(order.side),
            slippage_bps=slippage_bps,
            tick=market.price_precision,
            limit=order.price,
        )
        _fill(order, wallet, amount=take.amount, price=price, taker=True, at=now)
    if order.remaining:
        if order.time_in_force in ("IOC", "FOK"):
            _close(order, OrderStatus.EXPIRED, at=now)
        else:
            _reserve(order, wallet, slippage_bps=slippage_bps, tick=market.price_precision)


def _stop_hit(order: PaperOrder, last: Decimal) -> bool:
    return last >= order.stop_price if order.side == Side.BUY else last <= order.stop_price


def _marketable(order: PaperOrder, point: TrailPoint) -> bool:
    return point.ask <= order.price if order.side == Side.BUY else point.bid >= order.price


def _reserve(order: PaperOrder, wallet: Wallet, *, slippage_bps: Decimal, tick: Decimal) -> None:
    """Hold what the rest of the order can cost: quote for a buy, the base for a sell."""
    base, quote = order.symbol.split("/")
    if order.side == Side.SELL:
        order.reserved, order.reserved_asset = order.remaining, base
    else:
        worst = order.price
        if order.type == Type.STOP:  # a stop buy fills near its stop price, plus slippage
            worst = slipped(order.stop_price, side=BoundarySide.BUY, slippage_bps=slippage_bps, tick=tick)
        order.reserved, order.reserved_asset = buy_reservation(order.remaining, worst, order.fee_rate), quote
    wallet.reserve(order.reserved_asset, order.reserved)


def _fill(order: PaperOrder, wallet: Wallet, *, amount: Decimal, price: Decimal, taker: bool, at: datetime) -> None:
    base, quote = order.symbol.split("/")
    cost = amount * price
    fee = fee_for(cost, order.fee_rate)
    if order.reserved:
        release = order.reserved if amount == order.remaining else money(order.reserved * amount / order.remaining)
        wallet.release(order.reserved_asset, release)
        order.reserved -= release
    if order.side == Side.BUY:
        wallet.debit(quote, cost + fee)
        wallet.credit(base, amount)
    else:
        wallet.debit(base, amount)
        wallet.credit(quote, cost - fee)
    order.filled += amount
    order.cost += cost
    order.fee += fee
    order.average = money(order.cost / order.filled)
    order.updated_at = at
    if order.remaining:
        order.set_status(OrderStatus.PARTIALLY_FILLED)
    else:
        _close(order, OrderStatus.FILLED, at=at)
    PaperTrade.objects.create(
        account_id=order.account_id,
        order=order,
        symbol=order.symbol,
        side=order.side,
        amount=amount,
        price=price,
        cost=cost,
        fee=fee,
        fee_currency=quote,
        taker=taker,
        created_at=at,
    )


def _close(order: PaperOrder, status: str, *, at: datetime) -> None:
    order.set_status(status)
    order.closed_at = order.updated_at = at


# --- resting orders -----------------------------------------------------------------------------
def paper_orders_match(*, account: PaperAccount, trails: dict[str, list[TrailPoint]], now: datetime) -> int:
    """Match the account's open orders against the market since each was last looked at.

    ``trails``: symbol -> the market from the oldest open order's last look until now.
    Returns how many orders changed (triggered, filled or rejected).
    """
    with transaction.atomic():
        account = lock_account(account.pk)
        orders = list(
            account.orders.select_for_update()
            .filter(status__in=OPEN_STATUSES, symbol__in=list(trails))
            .order_by("created_at", "id")
        )
        if not orders:
            return 0
        wallet = Wallet(account, {asset for order in orders for asset in order.symbol.split("/")})
        changed = 0
        for order in orders:
            # The second it was placed (or last looked at) has been matched already.
            since = int(order.checked_at.timestamp())
            points = [point for point in trails[order.symbol] if point.t > since]
            if _match(order, points, wallet, slippage_bps=account.slippage_bps):
                changed += 1
            order.checked_at = max(order.checked_at, now)
            order.save()
        wallet.save()
    return changed


def _match(order: PaperOrder, points: list[TrailPoint], wallet: Wallet, *, slippage_bps: Decimal) -> bool:
    if not points:
        return False
    tick = LISTINGS[order.symbol].market.price_precision
    side = BoundarySide(order.side)
    if order.type in (Type.STOP, Type.STOP_LIMIT) and order.triggered_at is None:
        hit = next((i for i, point in enumerate(points) if _stop_hit(order, point.last)), None)
        if hit is None:
            return False
        trigger = points[hit]
        order.triggered_at = _at(trigger.t)
        if order.type == Type.STOP:
            touch = trigger.ask if side == BoundarySide.BUY else trigger.bid
            price = slipped(touch, side=side, slippage_bps=slippage_bps, tick=tick)
            _fill_or_reject(order, wallet, price=price, at=order.triggered_at)
            return True
        if _marketable(order, trigger):  # the stop-limit arrives as a taker
            touch = trigger.ask if side == BoundarySide.BUY else trigger.bid
            price = slipped(touch, side=side, slippage_bps=slippage_bps, tick=tick, limit=order.price)
            _fill(order, wallet, amount=order.remaining, price=price, taker=True, at=order.triggered_at)
            return True
        points = points[hit + 1 :]
        crossing = next((point for point in points if _marketable(order, point)), None)
        if crossing is not None:
            _fill(order, wallet, amount=order.remaining, price=order.price, taker=False, at=_at(crossing.t))
        return True
    crossing = next((point for point in points if _marketable(order, point)), None)
    if crossing is None:
        return False
    _fill(order, wallet, amount=order.remaining, price=order.price, taker=False, at=_at(crossing.t))
    return True


def _fill_or_reject(order: PaperOrder, wallet: Wallet, *, price: Decimal, at: datetime) -> None:
    """A triggered stop buy may cost more than was held for it: without the funds it is rejected."""
    if order.side == Side.BUY:
        quote = order.symbol.split("/")[1]
        needed = buy_reservation(order.remaining, price, order.fee_rate)
        if needed > wallet.free(quote) + order.reserved:
            wallet.release(order.reserved_asset, order.reserved)
            order.reserved = Decimal(0)
            _close(order, OrderStatus.REJECTED, at=at)
            return
    _fill(order, wallet, amount=order.remaining, price=price, taker=True, at=at)


def _at(t: int) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


# --- cancelling -----------------------------------------------------------------------------------
def paper_order_cancel(*, account: PaperAccount, order_id: str, now: datetime) -> PaperOrder:
    """Cancel an open order and release what it held. Cancelling twice is harmless."""
    with transaction.atomic():
        account = lock_account(account.pk)
        key = order_uuid(order_id)
        order = account.orders.select_for_update().filter(pk=key).first() if key else None
        if order is None:
            raise OrderNotFound(f"order {order_id} does not exist", exchange=EXCHANGE_ID)
        if order.status == OrderStatus.CANCELED:
            return order
        if not order.is_open:
            raise InvalidOrder(f"order {order_id} is already {order.status}", exchange=EXCHANGE_ID)
        if order.reserved:
            wallet = Wallet(account, [order.reserved_asset])
            wallet.release(order.reserved_asset, order.reserved)
            wallet.save()
            order.reserved = Decimal(0)
        order.updated_at = now
        _close(order, OrderStatus.CANCELED, at=now)
        order.save()
    return order
