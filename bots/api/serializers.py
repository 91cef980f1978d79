from rest_framework import serializers

from bots.models import Backtest, Bot, BotFile, BotSignal, BotType, DataSource, FileType, Framework, Subscription
from bots.models.subscriptions import TIMEFRAMES
from trading.models import Routing


class BotSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="bot_type")
    author = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField()
    listed = serializers.BooleanField(read_only=True)
    files = serializers.IntegerField(source="file_count", read_only=True, default=0)

    class Meta:
        model = Bot
        fields = ["id", "name", "slug", "type", "description", "version", "author", "mine", "builtin", "visibility",
                  "review_status", "review_note", "listed", "strategy_schema", "execution_schema", "risk_schema",
                  "backtest_summary", "files", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_author(self, bot) -> str:
        return bot.author.name if bot.author_id else "platform"

    def get_mine(self, bot) -> bool:
        tenant = self.context.get("tenant")
        return bool(tenant and bot.author_id == tenant.pk)


class BotWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    type = serializers.ChoiceField(choices=BotType.choices, default=BotType.TECHNICAL, source="bot_type")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.CharField(max_length=40, required=False, default="1.0.0")
    builtin = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="run a built-in strategy (e.g. ml_example) with your own model files",
    )
    strategy_schema = serializers.JSONField(required=False)
    execution_schema = serializers.JSONField(required=False)
    risk_schema = serializers.JSONField(required=False)


class BotUpdateSerializer(BotWriteSerializer):
    name = serializers.CharField(max_length=120, required=False)
    type = serializers.ChoiceField(choices=BotType.choices, required=False, source="bot_type")
    description = serializers.CharField(required=False, allow_blank=True)
    version = serializers.CharField(max_length=40, required=False)
    builtin = None


class BotFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotFile
        fields = ["id", "name", "file_type", "framework", "model_type", "description", "original_filename", "format",
                  "size", "sha256", "created_at"]  # fmt: skip
        read_only_fields = fields


class BotFileUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    file_type = serializers.ChoiceField(choices=FileType.choices)
    framework = serializers.ChoiceField(choices=Framework.choices, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    model_type = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class BotTestSerializer(serializers.Serializer):
    strategy_config = serializers.JSONField(required=False, default=dict)


class BotReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SubscriptionSerializer(serializers.ModelSerializer):
    bot_name = serializers.CharField(source="bot.name", read_only=True)
    connection_label = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = ["id", "name", "bot", "bot_name", "connection", "connection_label", "routing", "symbol", "timeframe",
                  "strategy_config", "execution_config", "risk_config", "status", "error", "last_action",
                  "last_candle_at", "last_evaluated_at", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_connection_label(self, sub) -> str | None:
        return sub.connection.label if sub.connection_id else None


class SubscriptionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    bot = serializers.IntegerField()
    connection = serializers.IntegerField(required=False, allow_null=True, default=None)
    routing = serializers.ChoiceField(choices=Routing.choices, required=False, allow_null=True, default=None)
    symbol = serializers.CharField(max_length=40)
    timeframe = serializers.ChoiceField(choices=[(t, t) for t in TIMEFRAMES], default="1h")
    strategy_config = serializers.JSONField(required=False, default=dict)
    execution_config = serializers.JSONField(required=False, default=dict)
    risk_config = serializers.JSONField(required=False, default=dict)
    status = serializers.ChoiceField(choices=[("running", "running"), ("paused", "paused")], default="running")


class SubscriptionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    timeframe = serializers.ChoiceField(choices=[(t, t) for t in TIMEFRAMES], required=False)
    strategy_config = serializers.JSONField(required=False)
    execution_config = serializers.JSONField(required=False)
    risk_config = serializers.JSONField(required=False)


class SignalSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotSignal
        fields = ["id", "subscription", "candle_at", "action", "price", "reason", "outcome", "detail", "order",
                  "duration_ms", "created_at"]  # fmt: skip
        read_only_fields = fields


class BacktestSerializer(serializers.ModelSerializer):
    bot_name = serializers.CharField(source="bot.name", read_only=True)

    class Meta:
        model = Backtest
        fields = ["id", "bot", "bot_name", "symbol", "timeframe", "data", "connection", "start", "end",
                  "strategy_config", "initial_capital", "fee", "slippage", "status", "progress", "error", "candles",
                  "path", "created_at", "started_at", "finished_at"]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, backtest):
        data = super().to_representation(backtest)
        if self.context.get("detail"):
            data.update(backtest.figures or {})  # the performance endpoint's names: total_trades, win_rate ...
            data["equity_curve"] = backtest.equity_curve
            data["trades"] = backtest.trades
        return data


class BacktestCreateSerializer(serializers.Serializer):
    bot = serializers.IntegerField()
    symbol = serializers.CharField(max_length=40, default="BTC/USDT")
    timeframe = serializers.ChoiceField(choices=[(t, t) for t in TIMEFRAMES], default="1h")
    data = serializers.ChoiceField(choices=DataSource.choices, default=DataSource.SAMPLE)
    connection = serializers.IntegerField(required=False, allow_null=True, default=None)
    start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    csv_file = serializers.FileField(required=False, allow_null=True, default=None)
    strategy_config = serializers.JSONField(required=False, default=dict)
    initial_capital = serializers.DecimalField(max_digits=38, decimal_places=8, required=False, allow_null=True,
                                               default=None)  # fmt: skip
    fee = serializers.DecimalField(max_digits=8, decimal_places=6, required=False, allow_null=True, default=None)
    slippage = serializers.DecimalField(max_digits=8, decimal_places=6, required=False, allow_null=True, default=None)
