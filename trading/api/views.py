import time
from dataclasses import asdict
from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import json_ready
from exchanges.selectors import connection_get
from tenancy.api.mixins import TenantRolePermission, TenantScopedMixin
from tenancy.scoping import get_scoped_or_404, scoped
from trading import services
from trading.api import serializers as s
from trading.models import WatchedSymbol


def dec(value):
    return None if value is None else json_ready(Decimal(value))


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


class BestPriceApi(TenantApi):
    @extend_schema(parameters=[s.BestPriceQuerySerializer], responses={200: dict})
    def get(self, request):
        query = s.BestPriceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = services.best_price(tenant=request.tenant, **query.validated_data)
        return Response(_best_price_body(result))


def _target(result, key: str) -> dict:
    target = result.targets[key]
    return {"connection_id": target.connection_id, "label": target.label, "exchange": target.venue.exchange}


def _best_price_body(result) -> dict:
    candidates = [
        _target(result, c.key)
        | {
            "symbol": c.symbol,
            "quote_currency": c.quote_currency,
            "eligible": c.eligible,
            "reason": c.reason,
            "average_price": dec(c.fill.average_price) if c.fill else None,
            "effective_price": dec(c.effective_price),
            "taker_fee": dec(c.taker_fee),
            "fee": dec(c.fill.fee) if c.fill else None,
            "gap_bps": dec(c.gap_bps),
            "levels_used": c.fill.levels_used if c.fill else 0,
        }
        for c in result.candidates
    ]
    split = None
    if result.split is not None:
        split = {
            "effective_price": dec(result.split.effective_price),
            "saving": dec(result.split.saving),
            "saving_bps": dec(result.split.saving_bps),
            "allocations": [
                _target(result, a.key)
                | {"symbol": a.symbol, "amount": dec(a.amount), "effective_price": dec(a.effective_price)}
                for a in result.split.allocations
            ],
        }
    return {
        "symbol": result.symbol,
        "side": str(result.side),
        "amount": dec(result.amount),
        "best": candidates[0] if result.best else None,
        "candidates": candidates,
        "split": split,
        "failed": [
            {"exchange": f.venue.exchange, "venue": f.venue.key, "error": f.error, "error_code": f.error_code}
            for f in result.failures
        ],
    }


_MARKET_PARAMS = [
    OpenApiParameter("connection", int, required=True),
    OpenApiParameter("symbol", str, required=True, description="BTC/USDT, BTC-USD, BTCUSDT or XBTUSD"),
]


class MarketTickerApi(TenantApi):
    """A connection's exchange's ticker, from the shared cache while fresh (MARKET_TTL_TICKER)."""

    @extend_schema(parameters=_MARKET_PARAMS, responses=s.TickerSerializer)
    def get(self, request):
        query = s.MarketQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection = connection_get(tenant=request.tenant, connection_id=query.validated_data["connection"])
        ticker, fetched_at = services.connection_ticker(connection=connection, symbol=query.validated_data["symbol"])
        return Response(json_ready(asdict(ticker)) | {"age_ms": _age_ms(fetched_at)})


class MarketOrderBookApi(TenantApi):
    @extend_schema(
        parameters=[*_MARKET_PARAMS, OpenApiParameter("limit", int, description="levels per side, 1-500")],
        responses=s.OrderBookSerializer,
    )
    def get(self, request):
        query = s.MarketQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection = connection_get(tenant=request.tenant, connection_id=query.validated_data["connection"])
        book, fetched_at = services.connection_order_book(
            connection=connection, symbol=query.validated_data["symbol"], limit=query.validated_data["limit"]
        )
        return Response(json_ready(asdict(book)) | {"age_ms": _age_ms(fetched_at)})


def _age_ms(fetched_at: float) -> float:
    return round(max(time.time() - fetched_at, 0) * 1000, 1)
