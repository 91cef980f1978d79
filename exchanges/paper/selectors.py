"""Reads of one paper account.

They take the account, not a tenant: the adapter reaches an account only through the
connection the factory resolved for the tenant. Admin pages scope by tenant through
``tenant_field`` on each model.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Min

from exchanges.paper.models import OPEN_STATUSES, PaperAccount, PaperBalance, PaperOrder, PaperTrade


def order_uuid(order_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(order_id))
    except (TypeError, ValueError):
        return None


def paper_order_get(
    *, account: PaperAccount, order_id: str | None = None, client_order_id: str | None = None
) -> PaperOrder | None:
    if order_id:
        key = order_uuid(order_id)
        return account.orders.filter(pk=key).first() if key else None
    if client_order_id:
        return account.orders.filter(client_order_id=client_order_id).first()
    return None


def paper_orders(
    *, account: PaperAccount, symbol: str | None = None, open: bool = True, since: datetime | None = None
) -> list[PaperOrder]:
    orders = account.orders.all()
    orders = orders.filter(status__in=OPEN_STATUSES) if open else orders.exclude(status__in=OPEN_STATUSES)
    if symbol:
        orders = orders.filter(symbol=symbol)
    if since is not None:
        orders = orders.filter(created_at__gte=since)
    return list(orders.order_by("created_at", "id"))


def paper_trades(
    *, account: PaperAccount, symbol: str | None = None, since: datetime | None = None
) -> list[PaperTrade]:
    trades = account.trades.all()
    if symbol:
        trades = trades.filter(symbol=symbol)
    if since is not None:
        trades = trades.filter(created_at__gte=since)
    return list(trades.order_by("created_at", "id"))


def paper_balances(*, account: PaperAccount) -> list[PaperBalance]:
    return list(account.balances.order_by("asset"))


def paper_open_order_windows(*, account: PaperAccount) -> dict[str, datetime]:
    """Symbol -> the oldest moment an open order on it has not been matched against yet."""
    rows = account.orders.filter(status__in=OPEN_STATUSES).values("symbol").annotate(since=Min("checked_at")).order_by()
    return {row["symbol"]: row["since"] for row in rows}
