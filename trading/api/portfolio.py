"""Trades, positions, balances and trading settings of the current tenant."""

from drf_spectacular.utils import extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import json_ready
from tenancy.api.mixins import TenantRolePermission, TenantScopedMixin
from tenancy.models import Role
from trading import selectors
from trading.api import portfolio_serializers as s
from trading.services.balances import total_balance
from trading.services.trading_settings import trading_settings_get, trading_settings_update


class TenantApi(TenantScopedMixin, APIView):
    permission_classes = [IsAuthenticated, TenantRolePermission]


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


class TradeListApi(TenantApi):
    """Our fills, newest first, paginated with ``limit`` and ``offset``."""

    pagination_class = LimitOffsetPagination

    @extend_schema(parameters=[s.TradeQuerySerializer], responses=s.TradeSerializer(many=True))
    def get(self, request):
        trades = selectors.trade_list(tenant=request.tenant, **_query(s.TradeQuerySerializer, request))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(trades, request, view=self)
        return paginator.get_paginated_response(s.TradeSerializer(page, many=True).data)


class PositionListApi(TenantApi):
    @extend_schema(parameters=[s.PositionQuerySerializer], responses=s.PositionSerializer(many=True))
    def get(self, request):
        query = _query(s.PositionQuerySerializer, request)
        positions = selectors.position_list(tenant=request.tenant, open_only=query["open"])
        return Response(s.PositionSerializer(positions, many=True).data)


class BalancesApi(TenantApi):
    """Per enabled connection and in total, valued in ``quote`` (default: the tenant's)."""

    @extend_schema(parameters=[s.BalanceQuerySerializer], responses={200: dict})
    def get(self, request):
        query = _query(s.BalanceQuerySerializer, request)
        return Response(json_ready(total_balance(tenant=request.tenant, **query)))


class TradingSettingsApi(TenantApi):
    write_role = Role.ADMIN  # the kill switch and the limits guard the tenant's money

    @extend_schema(responses=s.TradingSettingsSerializer)
    def get(self, request):
        return Response(s.TradingSettingsSerializer(trading_settings_get(tenant=request.tenant)).data)

    @extend_schema(request=s.TradingSettingsSerializer, responses=s.TradingSettingsSerializer)
    def patch(self, request):
        data = s.TradingSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = trading_settings_update(tenant=request.tenant, **data.validated_data)
        return Response(s.TradingSettingsSerializer(row).data)
