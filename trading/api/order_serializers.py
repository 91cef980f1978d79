import copy

from rest_framework import serializers

from config.api import MoneyField
from trading.models import Order, OrderEvent, OrderType, Routing, Side, TimeInForce


class FieldsOnceMixin:
    """A ModelSerializer builds its fields from the model on every instance, which cost more
    than the rest of an order's 202 answer, and a plain Serializer deep-copies its declared
    fields. Built once per class here; each instance binds its own copies: shallow for plain
    fields (bound per instance, never changed after), deep for nested serializers and
    many-related fields, whose child is bound to its parent."""

    def get_fields(self):
        cls = type(self)
        if "_fields_prototype" not in cls.__dict__:
            cls._fields_prototype = super().get_fields()
        return {name: copy.deepcopy(field) if isinstance(field, _NESTED) else copy.copy(field)
                for name, field in cls._fields_prototype.items()}  # fmt: skip


_NESTED = (serializers.BaseSerializer, serializers.ManyRelatedField)


class OrderCreateSerializer(FieldsOnceMixin, serializers.Serializer):
    symbol = serializers.CharField(max_length=40)
    side = serializers.ChoiceField(choices=Side.choices)
    type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.MARKET)
    amount = serializers.CharField(max_length=60)
    price = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)
    stop_price = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, default=TimeInForce.GTC)
    routing = serializers.ChoiceField(choices=Routing.choices, required=False)
    connection = serializers.IntegerField(required=False, allow_null=True)
    allow_split = serializers.BooleanField(default=False)
    stop_loss = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)
    take_profit = serializers.CharField(max_length=60, required=False, allow_null=True, allow_blank=True)


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["kind", "from_status", "to_status", "reason", "data", "created_at"]


class OrderSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    connection_label = serializers.CharField(source="connection.label", default=None, read_only=True)
    exchange = serializers.CharField(source="connection.exchange", default=None, read_only=True)
    amount = MoneyField(allow_null=True)
    price = MoneyField(allow_null=True)
    stop_price = MoneyField(allow_null=True)
    filled = MoneyField(allow_null=True)
    remaining = MoneyField(allow_null=True)
    average_price = MoneyField(allow_null=True)
    fee = MoneyField(allow_null=True)
    stop_loss = MoneyField(source="stop_loss_price", allow_null=True)
    take_profit = MoneyField(source="take_profit_price", allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id", "client_order_id", "exchange_order_id", "connection", "connection_label", "exchange",
            "symbol", "side", "type", "amount", "price", "stop_price", "time_in_force", "routing",
            "allow_split", "purpose", "parent", "position", "stop_loss", "take_profit", "trigger_mode", "status",
            "filled", "remaining", "average_price", "fee", "fee_currency", "reason", "error_code", "attempts",
            "discrepancy", "source", "created_at", "updated_at", "submitted_at", "closed_at",
        ]  # fmt: skip


class OrderDetailSerializer(OrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)
    children = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "children", "events"]


class OrderListQuerySerializer(serializers.Serializer):
    status = serializers.CharField(required=False, help_text="open (every active status) or one status")
    symbol = serializers.CharField(required=False)
    connection = serializers.IntegerField(required=False)
