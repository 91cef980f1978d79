"""Serializers of trades, positions, balances and trading settings. Money goes out as exact
strings (``config.api.json_ready``), never through a float."""

from rest_framework import serializers

from config.api import MoneyField, json_ready


def _money_in(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=38, decimal_places=18, **kwargs)


class TradeQuerySerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=40, required=False)
    connection = serializers.IntegerField(required=False, min_value=1)


class TradeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    client_order_id = serializers.CharField(source="order.client_order_id")
    connection_id = serializers.IntegerField()
    connection_label = serializers.CharField(source="connection.label")
    exchange = serializers.CharField(source="connection.exchange")
    symbol = serializers.CharField()
    side = serializers.CharField()
    amount = MoneyField()
    price = MoneyField()
    notional = MoneyField()
    fee = MoneyField()
    fee_currency = serializers.CharField()
    realized_pnl = MoneyField()
    executed_at = serializers.DateTimeField()


class PositionQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False, default=False, help_text="only positions not flat")


class PositionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    connection_id = serializers.IntegerField()
    connection_label = serializers.CharField(source="connection.label")
    exchange = serializers.CharField(source="connection.exchange")
    symbol = serializers.CharField()
    side = serializers.CharField(help_text="long, short or flat")
    quantity = MoneyField(help_text="signed: negative is short")
    average_price = MoneyField(allow_null=True, help_text="average entry of what is held")
    mark_price = MoneyField(allow_null=True, help_text="the market's last (or mid) price; null when unknown")
    unrealized_pnl = MoneyField(allow_null=True)
    realized_pnl = MoneyField(help_text="of what was closed, fees included")
    fees = MoneyField()
    notional = MoneyField(help_text="|quantity| at the mark price (at the entry when no mark)")
    opened_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class BalanceQuerySerializer(serializers.Serializer):
    quote = serializers.RegexField(
        r"^[A-Za-z0-9]{2,10}$", required=False, error_messages={"invalid": "Give a currency code such as USDT or USD."}
    )
    fresh = serializers.BooleanField(required=False, default=False, help_text="skip the 30 s balance cache")


class TradingSettingsSerializer(serializers.Serializer):
    kill_switch = serializers.BooleanField(required=False, help_text="refuse every new order")
    kill_switch_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    quote_currency = serializers.CharField(max_length=10, required=False)
    max_position_notional = _money_in(required=False, allow_null=True)
    max_order_notional = _money_in(required=False, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in ("max_position_notional", "max_order_notional"):
            value = getattr(instance, name)
            data[name] = None if value is None else json_ready(value)
        return data
