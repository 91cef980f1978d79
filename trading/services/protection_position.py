"""Stop-loss and take-profit on an existing position (``POST /api/v1/positions/{id}/protect/``).

The position's whole holding is protected; asking again replaces its protection (a kind
not given keeps its price), so a position has at most one stop-loss and one take-profit.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from exchanges.adapters.errors import ExchangeError
from exchanges.symbols import split as split_symbol
from trading.models import Order, Position, Purpose, Side
from trading.models.orders import ACTIVE
from trading.services.protection import (
    PROTECTIVE,
    kind_label,
    plain,
    protective_cancel,
    protective_place,
    trigger_mode_for,
    trigger_price,
)


def position_protect(*, position: Position, stop_loss=None, take_profit=None, user=None) -> list[Order]:
    """Guard what a position holds. Replaces its present protection; a kind not given keeps
    its present price. ValidationError names the field (e.g. a long's stop-loss above the mark)."""
    if not position.is_open:
        raise ValidationError({"non_field_errors": "The position is flat: there is nothing to protect."})
    current = list(
        Order.objects.filter(position=position, parent__isnull=True, purpose__in=PROTECTIVE, status__in=ACTIVE)
    )
    prices = {order.purpose: trigger_price(order) for order in current}
    given = {Purpose.STOP_LOSS: _price("stop_loss", stop_loss), Purpose.TAKE_PROFIT: _price("take_profit", take_profit)}
    prices |= {purpose: value for purpose, value in given.items() if value is not None}
    if not any(value is not None for value in given.values()):
        raise ValidationError({"non_field_errors": "Give a stop_loss, a take_profit or both."})
    _mark_check(position, prices)
    for order in current:
        _replace(order)
    amount = _holding(position)
    kinds = sorted(prices.items())
    with transaction.atomic():
        return [
            protective_place(
                tenant=position.tenant,
                connection=position.connection,
                symbol=position.symbol,
                side=Side.SELL if position.quantity > 0 else Side.BUY,
                purpose=purpose,
                price=price,
                amount=amount,
                mode=trigger_mode_for(position.connection, kinds, purpose),
                position=position,
                user=user,
            )
            for purpose, price in kinds
        ]


def _price(name: str, value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({name: "Give a price, e.g. 61950."}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({name: "Must be greater than zero."})
    return number


def _mark_check(position: Position, prices: dict[str, Decimal]) -> None:
    from trading.services.market import connection_ticker

    try:
        ticker, _ = connection_ticker(connection=position.connection, symbol=position.symbol)
    except ExchangeError as exc:
        raise ValidationError({"non_field_errors": f"Could not read the market price: {exc}"}) from None
    mark = ticker.price or ticker.bid
    if mark is None:
        return
    long = position.quantity > 0
    for purpose, price in prices.items():
        below = (purpose == Purpose.STOP_LOSS) == long
        if (price >= mark) if below else (price <= mark):
            where, side = ("below" if below else "above"), position.side
            raise ValidationError({purpose: f"Must be {where} the mark price {plain(mark)} for a {side} position."})


def _replace(order: Order) -> None:
    done = protective_cancel(order_id=order.pk, reason="replaced by new protection of the position")
    if done is not None and done.status in ACTIVE:
        raise ValidationError({"non_field_errors": f"The {kind_label(order.purpose)} is being sent; try again."})


def _holding(position: Position) -> Decimal:
    """A long's coins: no more than the account holds (fees paid in the coin shrink it)."""
    amount = abs(position.quantity)
    if position.quantity < 0:
        return amount
    from exchanges.reads import connection_balance

    try:
        balance = connection_balance(connection=position.connection, fresh=True)
    except ExchangeError:
        return amount
    entry = balance.assets.get(split_symbol(position.symbol)[0])
    return min(amount, entry.total) if entry is not None and entry.total > 0 else amount
