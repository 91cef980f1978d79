from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import json_ready as plain
from exchanges import reads, selectors, services
from exchanges.api import serializers as s
from exchanges.catalog import supported_exchanges
from exchanges.status import exchanges_status
from tenancy.api.mixins import TenantRolePermission, TenantScopedMixin
from tenancy.models import Role


class TenantApi(TenantScopedMixin, APIView):
    permission_classes = [IsAuthenticated, TenantRolePermission]


class SupportedExchangesApi(TenantApi):
    @extend_schema(parameters=[s.SupportedQuerySerializer], responses=s.SupportedExchangeSerializer(many=True))
    def get(self, request):
        query = s.SupportedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        infos = supported_exchanges(query.validated_data.get("region"))
        if query.validated_data["seed"]:
            infos = [info for info in infos if info.seed]
        return Response(s.SupportedExchangeSerializer([asdict(i) for i in infos], many=True).data)


class ValidateCredentialsApi(TenantApi):
    write_role = Role.TRADER

    @extend_schema(request=s.ValidateCredentialsInputSerializer, responses=s.ConnectionTestSerializer)
    def post(self, request):
        data = s.ValidateCredentialsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.credentials_validate(tenant=request.tenant, **data.validated_data)
        return Response(s.ConnectionTestSerializer(asdict(result)).data)


class ConnectionListApi(TenantApi):
    write_role = Role.ADMIN  # connections hold the tenant's keys

    @extend_schema(responses=s.ConnectionOutputSerializer(many=True))
    def get(self, request):
        connections = selectors.connection_list(tenant=request.tenant)
        return Response(s.ConnectionOutputSerializer(connections, many=True).data)

    @extend_schema(request=s.ConnectionCreateInputSerializer, responses={201: s.ConnectionOutputSerializer})
    def post(self, request):
        data = s.ConnectionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_create(tenant=request.tenant, **data.validated_data)
        return Response(s.ConnectionOutputSerializer(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailApi(TenantApi):
    write_role = Role.ADMIN

    @extend_schema(responses=s.ConnectionOutputSerializer)
    def get(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        return Response(s.ConnectionOutputSerializer(connection).data)

    @extend_schema(request=s.ConnectionUpdateInputSerializer, responses=s.ConnectionOutputSerializer)
    def patch(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        data = s.ConnectionUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connection = services.connection_update(connection=connection, **data.validated_data)
        return Response(s.ConnectionOutputSerializer(connection).data)

    @extend_schema(responses={204: None})
    def delete(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        services.connection_delete(connection=connection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExchangesStatusApi(TenantApi):
    """Per connection and per exchange: status, p50 latency, last error, last success, breakers;
    and the system: ``overall``, ``available_count``, ``total_count``."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(exchanges_status(tenant=request.tenant))


class ConnectionTestApi(TenantApi):
    write_role = Role.TRADER

    @extend_schema(request=None, responses=s.ConnectionTestSerializer)
    def post(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        result = services.connection_test(connection=connection)
        return Response(s.ConnectionTestSerializer(asdict(result)).data)


class ConnectionBalanceApi(TenantApi):
    @extend_schema(responses=s.BalanceEntrySerializer(many=True))
    def get(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        fresh = request.query_params.get("fresh", "").lower() in ("1", "true", "yes")
        balance = reads.connection_balance(connection=connection, fresh=fresh)
        return Response(
            {
                "exchange": balance.exchange,
                "timestamp": balance.timestamp,
                "assets": plain([asdict(e) for e in sorted(balance.assets.values(), key=lambda e: e.asset)]),
            }
        )


class ConnectionSymbolsApi(TenantApi):
    @extend_schema(responses=s.MarketSerializer(many=True))
    def get(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        markets = reads.connection_markets(connection=connection)
        return Response(plain([asdict(markets[symbol]) for symbol in sorted(markets)]))


class ConnectionInfoApi(TenantApi):
    @extend_schema(responses={200: dict})
    def get(self, request, connection_id: int):
        connection = selectors.connection_get(tenant=request.tenant, connection_id=connection_id)
        capabilities, markets = reads.connection_capabilities(connection=connection)
        return Response(
            {
                "connection": s.ConnectionOutputSerializer(connection).data,
                "capabilities": capabilities.as_dict(),
                "markets": len(markets),
                "quote_currencies": sorted({m.quote for m in markets.values()}),
            }
        )
