"""Backtests: a bot over historical candles, run by a worker that reports progress."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel
from trading.models.orders import money


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class DataSource(models.TextChoices):
    SAMPLE = "sample", "Shipped sample"
    EXCHANGE = "exchange", "Fetched from an exchange"
    CSV = "csv", "Uploaded CSV"


class Backtest(TenantOwnedModel):
    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="backtests")
    symbol = models.CharField(max_length=40)
    timeframe = models.CharField(max_length=4, default="1h")
    data = models.CharField(max_length=10, choices=DataSource.choices, default=DataSource.SAMPLE)
    connection = models.ForeignKey(
        "exchanges.ExchangeConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    csv_file = models.FileField(upload_to="backtests/", null=True, blank=True)
    strategy_config = models.JSONField(default=dict, blank=True)
    initial_capital = money(default=Decimal(10_000))
    fee = models.DecimalField(
        max_digits=8, decimal_places=6, default=Decimal("0.001"), help_text="per fill, 0.001 = 0.1 %"
    )
    slippage = models.DecimalField(max_digits=8, decimal_places=6, default=Decimal(0))
    status = models.CharField(max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent")
    error = models.TextField(blank=True)
    candles = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=12, blank=True, help_text="vectorized or candle by candle")
    figures = models.JSONField(default=dict, blank=True)
    equity_curve = models.JSONField(default=list, blank=True)
    trades = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"Backtest {self.pk} of {self.bot_id} on {self.symbol} {self.timeframe}"
