"""Bots API: the catalog and uploads, subscriptions with signals and performance, backtests."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from bots import selectors
from bots.api import serializers as s
from bots.services import backtests, catalog, subscriptions
from bots.services.performance import subscription_performance
from exchanges.selectors import connection_find
from tenancy.models import Role
from trading.api.views import TenantApi


def _page(request, view, queryset, serializer, **context):
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


def _connection(request, connection_id, field="connection"):
    if connection_id is None:
        return None
    connection = connection_find(tenant=request.tenant, connection_id=connection_id)
    if connection is None:  # missing or another tenant's: the same answer
        raise ValidationError({field: f"No connection {connection_id} in {request.tenant.name}."})
    return connection


def _catalog_bot(request, bot_id, field="bot"):
    bot = selectors.bot_catalog(tenant=request.tenant).filter(pk=bot_id).first()
    if bot is None:
        raise ValidationError({field: f"No bot {bot_id} in your catalog."})
    return bot


# --- catalog ---------------------------------------------------------------------------------
class BotListApi(TenantApi):
    @extend_schema(
        parameters=[OpenApiParameter("mine", bool), OpenApiParameter("type", str)],
        responses=s.BotSerializer(many=True),
    )
    def get(self, request):
        mine = request.query_params.get("mine") in ("1", "true", "yes")
        queryset = selectors.bot_catalog(tenant=request.tenant, mine=mine, bot_type=request.query_params.get("type"))
        return _page(request, self, queryset.select_related("author"), s.BotSerializer, tenant=request.tenant)

    @extend_schema(request=s.BotWriteSerializer, responses={201: s.BotSerializer})
    def post(self, request):
        data = s.BotWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bot = catalog.bot_create(tenant=request.tenant, user=request.user, **data.validated_data)
        return Response(s.BotSerializer(bot, context={"tenant": request.tenant}).data, status=201)


class BotApi(TenantApi):
    @extend_schema(responses=s.BotSerializer)
    def get(self, request, bot_id: int):
        bot = selectors.bot_get(tenant=request.tenant, bot_id=bot_id)
        return Response(s.BotSerializer(bot, context={"tenant": request.tenant}).data)

    @extend_schema(request=s.BotUpdateSerializer, responses=s.BotSerializer)
    def patch(self, request, bot_id: int):
        bot = selectors.bot_get_own(tenant=request.tenant, bot_id=bot_id)
        data = s.BotUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        bot = catalog.bot_update(bot=bot, **data.validated_data)
        return Response(s.BotSerializer(bot, context={"tenant": request.tenant}).data)

    @extend_schema(responses={204: None, 409: dict})
    def delete(self, request, bot_id: int):
        try:
            catalog.bot_delete(bot=selectors.bot_get_own(tenant=request.tenant, bot_id=bot_id))
        except catalog.BotInUse as exc:
            return Response({"detail": str(exc), "code": "in_use"}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotFilesApi(TenantApi):
    @extend_schema(responses=s.BotFileSerializer(many=True))
    def get(self, request, bot_id: int):
        # Anyone who may subscribe sees what a bot is made of; the bytes are never served.
        bot = selectors.bot_get(tenant=request.tenant, bot_id=bot_id)
        return Response(s.BotFileSerializer(bot.files.all(), many=True).data)


class BotUploadApi(TenantApi):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": s.BotFileUploadSerializer}, responses={201: s.BotFileSerializer})
    def post(self, request, bot_id: int):
        bot = selectors.bot_get_own(tenant=request.tenant, bot_id=bot_id)
        data = s.BotFileUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        record = catalog.bot_file_upload(bot=bot, user=request.user, upload=fields.pop("file"), **fields)
        return Response(s.BotFileSerializer(record).data, status=201)


class BotTestApi(TenantApi):
    @extend_schema(request=s.BotTestSerializer, responses={200: dict})
    def post(self, request, bot_id: int):
        bot = selectors.bot_get(tenant=request.tenant, bot_id=bot_id)
        data = s.BotTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(catalog.bot_test(bot=bot, strategy_config=data.validated_data["strategy_config"]))


class BotSubmitApi(TenantApi):
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=s.BotSerializer)
    def post(self, request, bot_id: int):
        bot = catalog.bot_submit(bot=selectors.bot_get_own(tenant=request.tenant, bot_id=bot_id))
        return Response(s.BotSerializer(bot, context={"tenant": request.tenant}).data)


class BotUnpublishApi(TenantApi):
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=s.BotSerializer)
    def post(self, request, bot_id: int):
        bot = catalog.bot_unpublish(bot=selectors.bot_get_own(tenant=request.tenant, bot_id=bot_id))
        return Response(s.BotSerializer(bot, context={"tenant": request.tenant}).data)


# --- subscriptions -------------------------------------------------------------------------
class SubscriptionListApi(TenantApi):
    @extend_schema(parameters=[OpenApiParameter("status", str)], responses=s.SubscriptionSerializer(many=True))
    def get(self, request):
        queryset = selectors.subscription_list(tenant=request.tenant, status=request.query_params.get("status"))
        return _page(request, self, queryset, s.SubscriptionSerializer)

    @extend_schema(request=s.SubscriptionCreateSerializer, responses={201: s.SubscriptionSerializer})
    def post(self, request):
        data = s.SubscriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["bot"] = _catalog_bot(request, fields["bot"])
        fields["connection"] = _connection(request, fields["connection"])
        sub = subscriptions.subscription_create(tenant=request.tenant, user=request.user, **fields)
        return Response(s.SubscriptionSerializer(sub).data, status=201)


class SubscriptionApi(TenantApi):
    @extend_schema(responses=s.SubscriptionSerializer)
    def get(self, request, subscription_id: int):
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        return Response(s.SubscriptionSerializer(sub).data)

    @extend_schema(request=s.SubscriptionUpdateSerializer, responses=s.SubscriptionSerializer)
    def patch(self, request, subscription_id: int):
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        data = s.SubscriptionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        sub = subscriptions.subscription_update(subscription=sub, **data.validated_data)
        return Response(s.SubscriptionSerializer(sub).data)

    @extend_schema(responses={200: s.SubscriptionSerializer})
    def delete(self, request, subscription_id: int):
        """Stops it (its signals and orders stay for the record)."""
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        return Response(s.SubscriptionSerializer(subscriptions.subscription_stop(subscription=sub)).data)


class SubscriptionMoveApi(TenantApi):
    move = ""

    @extend_schema(request=None, responses=s.SubscriptionSerializer)
    def post(self, request, subscription_id: int):
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        sub = subscriptions.subscription_move(subscription=sub, move=self.move)
        return Response(s.SubscriptionSerializer(sub).data)


class SubscriptionSignalsApi(TenantApi):
    @extend_schema(parameters=[OpenApiParameter("actions", bool, description="BUY and SELL only")],
                   responses=s.SignalSerializer(many=True))  # fmt: skip
    def get(self, request, subscription_id: int):
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        actions = request.query_params.get("actions") in ("1", "true", "yes")
        return _page(request, self, selectors.signal_list(tenant=request.tenant, subscription=sub,
                                                          actions_only=actions), s.SignalSerializer)  # fmt: skip


class SubscriptionPerformanceApi(TenantApi):
    @extend_schema(responses={200: dict})
    def get(self, request, subscription_id: int):
        sub = selectors.subscription_get(tenant=request.tenant, subscription_id=subscription_id)
        return Response({"subscription": sub.pk} | subscription_performance(subscription=sub))


# --- backtests -----------------------------------------------------------------------------
class BacktestListApi(TenantApi):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=s.BacktestSerializer(many=True))
    def get(self, request):
        return _page(request, self, selectors.backtest_list(tenant=request.tenant), s.BacktestSerializer)

    @extend_schema(request=s.BacktestCreateSerializer, responses={202: s.BacktestSerializer})
    def post(self, request):
        data = s.BacktestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["bot"] = _catalog_bot(request, fields["bot"])
        fields["connection"] = _connection(request, fields["connection"])
        backtest = backtests.backtest_create(tenant=request.tenant, user=request.user, **fields)
        return Response(s.BacktestSerializer(backtest).data, status=status.HTTP_202_ACCEPTED)


class BacktestApi(TenantApi):
    @extend_schema(responses=s.BacktestSerializer)
    def get(self, request, backtest_id: int):
        backtest = selectors.backtest_get(tenant=request.tenant, backtest_id=backtest_id)
        return Response(s.BacktestSerializer(backtest, context={"detail": True}).data)
