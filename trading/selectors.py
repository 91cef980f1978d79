"""Reads of trading rows, always scoped to a tenant: orders, trades, and positions valued
at the market."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from tenancy.scoping import scoped
from trading.market import cache
from trading.market.venues import Venue
from trading.models import Order, OrderStatus, Position, Trade
from trading.models.orders import ACTIVE
from trading.services.balances import ticker_mark
from trading.services.market import symbol_clean

logger = logging.getLogger(__name__)
OPEN = "open"  # as a filter: every status still in play (ACTIVE), not only "open at the exchange"


def order_list(*, tenant, status: str | None = None, symbol: str | None = None) -> QuerySet[Order]:
    """Newest first. ``status="open"`` means every active status (waiting ... partially filled)."""
    queryset = scoped(Order, tenant=tenant).select_related("connection")
    if status == OPEN:
        queryset = queryset.filter(status__in=ACTIVE)
    elif status:
        if status not in OrderStatus.values:
            choices = ", ".join([OPEN, *OrderStatus.values])
            raise ValidationError({"status": f"Unknown status {status!r}; one of: {choices}."})
        queryset = queryset.filter(status=status)
    if symbol:
        queryset = queryset.filter(symbol=symbol_clean(symbol))
    return queryset.order_by("-created_at", "-id")


def trade_list(*, tenant, symbol: str | None = None, connection=None) -> QuerySet[Trade]:
    """Our fills, newest first; ``connection`` is a connection or its id."""
    queryset = scoped(Trade, tenant=tenant).select_related("connection", "order")
    if symbol:
        queryset = queryset.filter(symbol=symbol_clean(symbol))
    if connection is not None:
        queryset = queryset.filter(connection_id=getattr(connection, "pk", connection))
    return queryset.order_by("-executed_at", "-id")


def position_mark_price(position: Position, *, fetch: bool = True) -> Decimal | None:
    """The cached ticker's last (or mid) price on the position's exchange; without a cached
    one, fetched (unless ``fetch`` is False). None when it cannot be had."""
    connection = position.connection
    cached = cache.ticker_cached_sync(Venue.of(connection), position.symbol)
    if cached is not None:
        return ticker_mark(cached[0])
    if not fetch:
        return None
    from trading.services.market import connection_ticker

    try:
        ticker, _ = connection_ticker(connection=connection, symbol=position.symbol)
    except Exception as exc:  # noqa: BLE001 - a missing price must not break the list
        logger.info("No mark price for position %s: %s", position.pk, exc)
        return None
    return ticker_mark(ticker)


def position_value(position: Position, *, fetch: bool = True) -> Position:
    """Sets ``mark_price``, ``unrealized_pnl`` (None without a mark) and ``notional`` (at
    the mark, else at the average entry) on the position, and returns it."""
    mark = position_mark_price(position, fetch=fetch) if position.quantity else None
    position.mark_price = mark
    if not position.quantity:
        position.unrealized_pnl, position.notional = Decimal(0), Decimal(0)
        return position
    if position.average_price is None:  # not written by position_apply_trade: no entry to compare with
        position.unrealized_pnl = None
        position.notional = abs(position.quantity) * mark if mark is not None else None
        return position
    position.unrealized_pnl = (mark - position.average_price) * position.quantity if mark is not None else None
    position.notional = abs(position.quantity) * (mark if mark is not None else position.average_price)
    return position


def position_list(*, tenant, open_only: bool = False, fetch: bool = True) -> list[Position]:
    """The tenant's positions with ``mark_price``, ``unrealized_pnl`` and ``notional``."""
    queryset = scoped(Position, tenant=tenant).select_related("connection")
    if open_only:
        queryset = queryset.exclude(quantity=0)
    return [
        position_value(p, fetch=fetch) for p in queryset.order_by("connection__priority", "connection_id", "symbol")
    ]
