"""Positions from our own fills (average cost on a signed quantity) and a tenant's balances
across all its exchanges valued in one quote currency.

PnL rules, in the quote currency of the symbol:
- a fill in the position's direction (or from flat) moves the average entry, weighted by amount;
- a fill against it realizes ``(price - average) x closed`` (the other way round for a short);
- a fill larger than the position closes it and opens the other side at the fill's price;
- every fill's fee is a realized cost: a quote (or equivalent quote) fee as is, a base fee at
  the fill's price; a fee in a third currency (e.g. BNB) has no price here and is left out.
So ``position.realized_pnl`` is always the sum of its trades' ``realized_pnl``.
"""

from __future__ import annotations

import logging
from decimal import Decimal, localcontext

from django.db import transaction
from django.utils import timezone

from exchanges.precision import money
from exchanges.symbols import split as split_symbol
from trading.models import Position, Trade
from trading.services.balances import total_balance

__all__ = ["POSITION_APPLIED", "apply_fill", "position_apply_trade", "position_move", "total_balance"]

logger = logging.getLogger(__name__)
ZERO = Decimal(0)


def apply_fill(
    quantity: Decimal, average: Decimal | None, delta: Decimal, price: Decimal
) -> tuple[Decimal, Decimal | None, Decimal]:
    """(new quantity, new average entry, gross realized PnL) after a signed fill ``delta``."""
    with localcontext() as context:
        context.prec = 80
        new = quantity + delta
        if quantity == 0 or (quantity > 0) == (delta > 0):
            if quantity == 0:
                return new, price, ZERO
            return new, money((abs(quantity) * average + abs(delta) * price) / abs(new)), ZERO
        closed = min(abs(quantity), abs(delta))
        realized = money((price - average) * closed * (1 if quantity > 0 else -1))
    if new == 0:
        return new, None, realized
    if (new > 0) == (quantity > 0):
        return new, average, realized  # reduced, same side: the entry stays
    return new, price, realized  # flipped: the new side opened at this fill


def fee_in_quote(trade: Trade, *, equivalents: list[str] | tuple[str, ...] = ()) -> Decimal:
    """The trade's fee in the symbol's quote currency (zero when it cannot be priced here)."""
    if not trade.fee:
        return ZERO
    base, quote = split_symbol(trade.symbol)
    currency = (trade.fee_currency or quote).upper()  # no currency given: exchanges charge the quote
    if currency == quote or (currency in equivalents and quote in equivalents):
        return trade.fee
    if currency == base:
        return money(trade.fee * trade.price)
    logger.info("Fee of trade %s in %s is not counted in PnL: no price for it here", trade.pk, currency)
    return ZERO


def _locked_position(trade: Trade) -> Position:
    # get_or_create inserts in a savepoint and reads again on a unique violation, so two
    # first fills of one connection+symbol racing end up on one row; the row lock then
    # serializes every fill of that position.
    position, _ = Position.objects.select_for_update().get_or_create(
        connection_id=trade.connection_id, symbol=trade.symbol, defaults={"tenant_id": trade.tenant_id}
    )
    return position


POSITION_APPLIED = ("quantity", "average_price", "realized_pnl", "fees", "opened_at", "updated_at")  # what a fill moves


def position_apply_trade(*, trade: Trade) -> Position:
    """Apply a new fill to its position (created on the first fill) and record the fill's
    realized PnL on the trade. Call once per new Trade, in the transaction that saves it
    (the trade may still be unsaved: its realized PnL is then set for its insert)."""
    with transaction.atomic(savepoint=False):
        position = _locked_position(trade)
        position_move(position, trade)
        position.save(update_fields=POSITION_APPLIED)
        if trade.pk is not None:
            trade.save(update_fields=["realized_pnl"])
    return position


def position_move(position: Position, trade: Trade) -> None:
    """The fill applied to the position in memory (the caller holds its row lock and writes
    ``POSITION_APPLIED``), and the fill's realized PnL set on the trade."""
    was = position.quantity
    delta = trade.amount if trade.side == "buy" else -trade.amount
    quantity, average, gross = apply_fill(was, position.average_price, delta, trade.price)
    fee = fee_in_quote(trade, equivalents=trade.tenant.equivalent_quotes or ())
    position.quantity, position.average_price = quantity, average
    position.realized_pnl += gross - fee
    position.fees += fee
    if quantity == 0:
        position.opened_at = None
    elif was == 0 or (was > 0) != (quantity > 0):
        position.opened_at = trade.executed_at or timezone.now()
    trade.realized_pnl = gross - fee
