from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenancy.api.mixins import TenantRolePermission, TenantScopedMixin
from tenancy.scoping import get_scoped_or_404, scoped
from trading import services
from trading.api import serializers as s
from trading.models import WatchedSymbol


def dec(value):
    return None if value is None else format(Decimal(value).normalize(), "f")


class TenantApi(TenantScopedMixin, APIView):
    permission_classes = [IsAuthenticated, TenantRolePermission]


class WatchlistApi(TenantApi):
    @extend_schema(responses=s.WatchedSymbolSerializer(many=True))
    def get(self, request):
        return Response(s.WatchedSymbolSerializer(scoped(WatchedSymbol, tenant=request.tenant), many=True).data)

    @extend_schema(request=s.WatchedSymbolSerializer, responses={201: s.WatchedSymbolSerializer})
    def post(self, request):
        data = s.WatchedSymbolSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        watched = services.watch_add(tenant=request.tenant, symbol=data.validated_data["symbol"])
        return Response(s.WatchedSymbolSerializer(watched).data, status=status.HTTP_201_CREATED)


class WatchedSymbolApi(TenantApi):
    @extend_schema(responses={204: None})
    def delete(self, request, watched_id: int):
        services.watch_remove(watched=get_scoped_or_404(WatchedSymbol, tenant=request.tenant, pk=watched_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CompareApi(TenantApi):
    @extend_schema(parameters=[s.CompareQuerySerializer], responses={200: dict})
    def get(self, request):
        query = s.CompareQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        comparison = services.compare_prices(tenant=request.tenant, **query.validated_data)
        rows = s.QuoteRowSerializer(comparison.rows, many=True, context={"comparison": comparison}).data
        for row in rows:
            for name in ("bid", "ask", "last", "volume"):
                row[name] = dec(row[name])
        return Response(
            {
                "symbol": comparison.symbol,
                "symbols": list(comparison.symbols),
                "took_ms": comparison.took_ms,
                "best_bid": _pointer(comparison.best_bid, "bid"),
                "best_ask": _pointer(comparison.best_ask, "ask"),
                "rows": rows,
            }
        )


def _pointer(row, side: str):
    if row is None:
        return None
    return {
        "connection_id": row.connection_id,
        "label": row.label,
        "exchange": row.venue.exchange,
        "symbol": row.symbol,
        "price": dec(getattr(row, side)),
    }
