"""Reads of exchange connections, always scoped to a tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from exchanges.models import ExchangeConnection
from tenancy.scoping import get_scoped_or_404, scoped


def connection_list(*, tenant, enabled: bool | None = None, exchange: str | None = None) -> QuerySet:
    queryset = scoped(ExchangeConnection, tenant=tenant)
    if enabled is not None:
        queryset = queryset.filter(enabled=enabled)
    if exchange:
        queryset = queryset.filter(exchange=exchange)
    return queryset.order_by("priority", "exchange", "label")


def connection_get(*, tenant, connection_id) -> ExchangeConnection:
    return get_scoped_or_404(ExchangeConnection, tenant=tenant, pk=connection_id)
