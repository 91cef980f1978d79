"""Reads of exchange connections, always scoped to a tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from config.prepared import Prepared
from exchanges.models import ExchangeConnection
from tenancy.models import Tenant
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


_FIND = Prepared(lambda tenant, pk: connection_list(tenant=Tenant(pk=tenant)).filter(pk=pk)[:1], tenant=int, pk=int)


def connection_find(*, tenant, connection_id) -> ExchangeConnection | None:
    """The tenant's connection with this id, or None (missing or another tenant's: the same
    answer). Compiled once per process: every order request names its connection."""
    if tenant is None:
        return None
    return _FIND.first(tenant=tenant.pk, pk=connection_id)
