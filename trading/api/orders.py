"""Orders: place (202, sent by a worker), list, show with events, cancel."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from exchanges.selectors import connection_find
from tenancy.scoping import get_scoped_or_404, scoped
from trading.api import order_serializers as s
from trading.api.views import TenantApi
from trading.models import Order, OrderEvent, Routing
from trading.selectors import order_list
from trading.services import orders

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="the same key returns the same order, never a second one",
)  # fmt: skip


class OrderListApi(TenantApi):
    @extend_schema(parameters=[s.OrderListQuerySerializer], responses=s.OrderSerializer(many=True))
    def get(self, request):
        query = s.OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        query_data = query.validated_data
        orders_qs = order_list(tenant=request.tenant, status=query_data.get("status"), symbol=query_data.get("symbol"))
        if query_data.get("connection"):
            orders_qs = orders_qs.filter(connection_id=query_data["connection"])
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(orders_qs, request, view=self)
        return paginator.get_paginated_response(s.OrderSerializer(page, many=True).data)

    @extend_schema(request=s.OrderCreateSerializer, parameters=[IDEMPOTENCY], responses={202: s.OrderSerializer})
    def post(self, request):
        data = s.OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        connection_id = fields.pop("connection", None)
        connection = None
        if connection_id is not None:
            connection = connection_find(tenant=request.tenant, connection_id=connection_id)
            if connection is None:  # missing or another tenant's: the same answer
                return Response({"connection": [f"No connection {connection_id} in {request.tenant.name}."]}, 400)
        policy = fields.pop("routing", None) or (Routing.EXPLICIT if connection else Routing.PRIORITY)
        allow_split = fields.pop("allow_split")
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 120:
            return Response({"idempotency_key": ["At most 120 characters."]}, status=400)
        order = orders.order_place(
            tenant=request.tenant, intent=orders.intent_clean(**fields), routing_policy=policy,
            connection=connection, allow_split=allow_split, idempotency_key=key, user=request.user,
        )  # fmt: skip
        return Response(s.OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)


class OrderApi(TenantApi):
    def _order(self, request, order_id):
        queryset = scoped(Order, tenant=request.tenant).select_related("connection").prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")), "children")  # fmt: skip
        return get_scoped_or_404(queryset, tenant=request.tenant, pk=order_id)

    @extend_schema(responses=s.OrderDetailSerializer)
    def get(self, request, order_id: int):
        return Response(s.OrderDetailSerializer(self._order(request, order_id)).data)

    @extend_schema(responses={200: s.OrderDetailSerializer, 409: dict})
    def delete(self, request, order_id: int):
        order = self._order(request, order_id)
        try:
            orders.order_cancel(order=order)
        except orders.OrderConflict as exc:
            return Response({"detail": str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
        return Response(s.OrderDetailSerializer(self._order(request, order_id)).data)
