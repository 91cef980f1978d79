from rest_framework import serializers

from exchanges.adapters.types import Side


class WatchedSymbolSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    symbol = serializers.CharField(max_length=40)
    created_at = serializers.DateTimeField(read_only=True)


class CompareQuerySerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=40)
    public = serializers.BooleanField(required=False, default=False)


class BestPriceQuerySerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=40)
    side = serializers.ChoiceField(choices=[s.value for s in Side])
    amount = serializers.DecimalField(max_digits=38, decimal_places=18)
    split = serializers.BooleanField(required=False, default=True)


class QuoteRowSerializer(serializers.Serializer):
    connection_id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    exchange = serializers.CharField(source="venue.exchange")
    venue = serializers.CharField(source="venue.key")
    symbol = serializers.CharField()
    status = serializers.CharField()
    bid = serializers.CharField(allow_null=True)
    ask = serializers.CharField(allow_null=True)
    last = serializers.CharField(allow_null=True)
    volume = serializers.CharField(allow_null=True)
    age_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    error_code = serializers.CharField(allow_null=True)
    best_bid = serializers.SerializerMethodField()
    best_ask = serializers.SerializerMethodField()

    def get_best_bid(self, row) -> bool:
        return row is self.context["comparison"].best_bid or _same(row, self.context["comparison"].best_bid)

    def get_best_ask(self, row) -> bool:
        return row is self.context["comparison"].best_ask or _same(row, self.context["comparison"].best_ask)


def _same(row, best) -> bool:
    return best is not None and (row.venue, row.connection_id) == (best.venue, best.connection_id)


class MarketQuerySerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    symbol = serializers.CharField(max_length=40)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=20)


class TickerSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    price = serializers.CharField(allow_null=True)
    bid = serializers.CharField(allow_null=True)
    ask = serializers.CharField(allow_null=True)
    volume = serializers.CharField(allow_null=True)
    timestamp = serializers.IntegerField(allow_null=True)
    age_ms = serializers.FloatField(help_text="how old the quote is: the cache serves it while fresh")


class OrderBookSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    bids = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    asks = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    timestamp = serializers.IntegerField(allow_null=True)
    age_ms = serializers.FloatField(help_text="how old the quote is: the cache serves it while fresh")
