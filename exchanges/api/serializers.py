from decimal import Decimal

from rest_framework import serializers

from exchanges.models import ExchangeConnection
from tenancy.models import Region


class CapabilitiesSerializer(serializers.Serializer):
    spot = serializers.BooleanField()
    futures = serializers.BooleanField()
    margin = serializers.BooleanField()
    stop_loss = serializers.BooleanField()
    take_profit = serializers.BooleanField()
    advanced_orders = serializers.BooleanField()
    websocket = serializers.BooleanField()
    fetch_tickers = serializers.BooleanField()
    client_order_id = serializers.BooleanField()


class SupportedExchangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    regions = serializers.ListField(child=serializers.CharField())
    required_credentials = serializers.ListField(child=serializers.CharField())
    capabilities = CapabilitiesSerializer()
    seed = serializers.BooleanField()
    via = serializers.CharField()
    has_testnet = serializers.BooleanField()


class SupportedQuerySerializer(serializers.Serializer):
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    seed = serializers.BooleanField(required=False, default=False)


class ConnectionOutputSerializer(serializers.ModelSerializer):
    """Never the credentials: the API key only as its last four characters."""

    api_key = serializers.SerializerMethodField()

    class Meta:
        model = ExchangeConnection
        fields = [
            "id", "exchange", "label", "api_key", "has_credentials", "testnet", "api_base_url", "priority",
            "enabled", "capital_allocation_pct", "max_positions", "status", "latency_ms", "last_error",
            "last_checked_at", "created_at", "updated_at",
        ]  # fmt: skip

    def get_api_key(self, connection) -> str | None:
        return (
            f"••••{connection.api_key_hint}"
            if connection.api_key_hint
            else ("••••" if connection.has_credentials else None)
        )


class CredentialsField(serializers.DictField):
    child = serializers.CharField(allow_blank=True, trim_whitespace=True)


class ConnectionCreateInputSerializer(serializers.Serializer):
    exchange = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=80)
    credentials = CredentialsField(required=False, default=dict)
    api_base_url = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    testnet = serializers.BooleanField(required=False, default=False)
    priority = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=10)
    enabled = serializers.BooleanField(required=False, default=True)
    capital_allocation_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False,
        default=Decimal("100"),
    )  # fmt: skip
    max_positions = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=10)


class ConnectionUpdateInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=80, required=False)
    credentials = CredentialsField(required=False)
    api_base_url = serializers.CharField(max_length=200, required=False, allow_blank=True)
    testnet = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    enabled = serializers.BooleanField(required=False)
    capital_allocation_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    max_positions = serializers.IntegerField(min_value=0, max_value=1000, required=False)


class ValidateCredentialsInputSerializer(serializers.Serializer):
    exchange = serializers.CharField(max_length=40)
    credentials = CredentialsField()
    api_base_url = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    testnet = serializers.BooleanField(required=False, default=False)


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    error_code = serializers.CharField(allow_null=True)


class BalanceEntrySerializer(serializers.Serializer):
    asset = serializers.CharField()
    free = serializers.DecimalField(max_digits=38, decimal_places=18, coerce_to_string=True)
    used = serializers.DecimalField(max_digits=38, decimal_places=18, coerce_to_string=True)
    total = serializers.DecimalField(max_digits=38, decimal_places=18, coerce_to_string=True)


class MarketSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    id = serializers.CharField()
    base = serializers.CharField()
    quote = serializers.CharField()
    type = serializers.CharField()
    active = serializers.BooleanField()
    amount_precision = serializers.CharField(allow_null=True)
    price_precision = serializers.CharField(allow_null=True)
    min_amount = serializers.CharField(allow_null=True)
    min_cost = serializers.CharField(allow_null=True)
