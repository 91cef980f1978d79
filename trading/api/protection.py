"""Stop-loss and take-profit on an existing position."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from tenancy.scoping import get_scoped_or_404
from trading.api.order_serializers import OrderSerializer
from trading.api.views import TenantApi
from trading.models import Position
from trading.services.protection_position import position_protect


class PositionProtectApi(TenantApi):
    class InputSerializer(serializers.Serializer):
        stop_loss = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)
        take_profit = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: OrderSerializer(many=True)})
    def post(self, request, position_id: int):
        position = get_scoped_or_404(
            Position.objects.select_related("connection", "tenant"), tenant=request.tenant, pk=position_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = position_protect(position=position, user=request.user, **data.validated_data)
        return Response(OrderSerializer(made, many=True).data, status=status.HTTP_201_CREATED)
