"""A tenant running a bot on a pair, and every signal it gave."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel
from trading.models.orders import Routing, money

TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")


class SubscriptionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"  # kept as is; resumes where it stopped
    STOPPED = "stopped", "Stopped"  # by its user, or by the platform after an error (``error`` says)


class Subscription(TenantOwnedModel):
    """A bot instance: evaluated on every closed candle of its timeframe while running."""

    name = models.CharField("instance name", max_length=120)
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="subscriptions")
    connection = models.ForeignKey(
        "exchanges.ExchangeConnection", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions",
        help_text="where it trades and reads candles; empty: the routing policy chooses per order",
    )  # fmt: skip
    routing = models.CharField(max_length=12, choices=Routing.choices, default=Routing.EXPLICIT)
    symbol = models.CharField(max_length=40)
    timeframe = models.CharField(max_length=4, choices=[(t, t) for t in TIMEFRAMES], default="1h")
    strategy_config = models.JSONField(default=dict, blank=True)
    execution_config = models.JSONField(default=dict, blank=True)
    risk_config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.RUNNING)
    error = models.TextField(blank=True, help_text="why the platform stopped it")
    last_candle_at = models.BigIntegerField(
        null=True, blank=True, help_text="open time (ms) of the last candle evaluated: never evaluated twice"
    )
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_action = models.CharField(max_length=4, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "timeframe"]),
            models.Index(fields=["tenant", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.symbol} {self.timeframe})"


class SignalOutcome(models.TextChoices):
    HOLD = "hold", "Hold"  # nothing to do
    ORDER = "order", "Order placed"
    SKIPPED = "skipped", "Skipped"  # e.g. a BUY while already long
    REFUSED = "refused", "Refused"  # the order pipeline's checks said no (reason in ``detail``)
    ERROR = "error", "Error"  # the bot failed; the subscription is stopped


class BotSignal(TenantOwnedModel):
    """One evaluation of a subscription on one closed candle, and what came of it."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="signals")
    candle_at = models.BigIntegerField(help_text="open time (ms) of the candle the signal is for")
    action = models.CharField(max_length=4)  # BUY / SELL / HOLD
    price = money(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=SignalOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    order = models.ForeignKey(
        "trading.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="bot_signals"
    )
    duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-candle_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "candle_at"], name="uniq_signal_per_candle"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.subscription_id} @ {self.candle_at}"
