"""A paper account per exchange connection: balances, orders and fills in the database."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from exchanges.adapters.types import OrderStatus as BoundaryStatus
from exchanges.choices import OrderType, Side, TimeInForce
from exchanges.paper.markets import DEFAULT_FEE_RATE, DEFAULT_SLIPPAGE_BPS

MONEY = {"max_digits": 38, "decimal_places": 18}


class PriceSource(models.TextChoices):
    SIMULATED = "simulated", "Simulated price process"
    CANDLES = "candles", "Replayed candles (shipped with the project)"
    FOLLOW = "follow", "Follow a real exchange's public prices"


class PaperAccount(models.Model):
    tenant_field = "connection__tenant"

    connection = models.OneToOneField(
        "exchanges.ExchangeConnection", on_delete=models.CASCADE, related_name="paper_account"
    )
    fee_rate = models.DecimalField(
        max_digits=8,
        decimal_places=6,
        default=DEFAULT_FEE_RATE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.1"))],
        help_text="charged on every fill, in the quote currency (0.001 = 0.1 %)",
    )
    slippage_bps = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=DEFAULT_SLIPPAGE_BPS,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
        help_text="added against the taker on top of walking the book (5 = 0.05 %)",
    )
    price_source = models.CharField(max_length=10, choices=PriceSource.choices, default=PriceSource.SIMULATED)
    follow_exchange = models.CharField(
        max_length=40, blank=True, help_text="with the 'follow' source: the exchange id whose public prices are used"
    )
    starting_balances = models.JSONField(default=dict, help_text="asset -> amount; a reset restores these")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "paper"
        ordering = ["connection_id"]

    def __str__(self) -> str:
        return f"Paper account of {self.connection}"

    def clean(self) -> None:
        if self.price_source == PriceSource.FOLLOW and not self.follow_exchange:
            raise ValidationError({"follow_exchange": "Name the exchange to follow, e.g. binance."})


class PaperBalance(models.Model):
    tenant_field = "account__connection__tenant"

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="balances")
    asset = models.CharField(max_length=20)
    free = models.DecimalField(**MONEY, default=Decimal("0"))
    used = models.DecimalField(**MONEY, default=Decimal("0"), help_text="reserved by open orders")

    class Meta:
        app_label = "paper"
        ordering = ["account", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="uniq_paper_balance_asset"),
            models.CheckConstraint(condition=models.Q(free__gte=0, used__gte=0), name="paper_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.free} free, {self.used} used"

    @property
    def total(self) -> Decimal:
        return self.free + self.used


class OrderStatus(models.TextChoices):
    OPEN = BoundaryStatus.OPEN.value, "Open"
    PARTIALLY_FILLED = BoundaryStatus.PARTIALLY_FILLED.value, "Partially filled"
    FILLED = BoundaryStatus.FILLED.value, "Filled"
    CANCELED = BoundaryStatus.CANCELED.value, "Canceled"
    REJECTED = BoundaryStatus.REJECTED.value, "Rejected"
    EXPIRED = BoundaryStatus.EXPIRED.value, "Expired"


OPEN_STATUSES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class InvalidStatusMove(Exception):
    pass


class PaperOrder(models.Model):
    tenant_field = "account__connection__tenant"

    #: the only status moves there are; a terminal status moves nowhere
    TRANSITIONS = {
        OrderStatus.OPEN: {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        },
        OrderStatus.PARTIALLY_FILLED: {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED},
        OrderStatus.FILLED: set(),
        OrderStatus.CANCELED: set(),
        OrderStatus.REJECTED: set(),
        OrderStatus.EXPIRED: set(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="orders")
    client_order_id = models.CharField(max_length=64, blank=True)
    symbol = models.CharField(max_length=30)
    side = models.CharField(max_length=4, choices=Side.choices)
    type = models.CharField(max_length=10, choices=OrderType.choices)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices, default=TimeInForce.GTC)
    amount = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    stop_price = models.DecimalField(**MONEY, null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    filled = models.DecimalField(**MONEY, default=Decimal("0"))
    cost = models.DecimalField(**MONEY, default=Decimal("0"), help_text="quote spent or received, before fees")
    average = models.DecimalField(**MONEY, null=True, blank=True)
    fee = models.DecimalField(**MONEY, default=Decimal("0"))
    fee_currency = models.CharField(max_length=20)
    fee_rate = models.DecimalField(max_digits=8, decimal_places=6, help_text="the account's rate when placed")
    reserved = models.DecimalField(**MONEY, default=Decimal("0"), help_text="held in 'used' for the remainder")
    reserved_asset = models.CharField(max_length=20, blank=True)
    # All times come from the adapter's clock (the simulated market's time), not the database's.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    triggered_at = models.DateTimeField(null=True, blank=True, help_text="when a stop order's stop price was hit")
    checked_at = models.DateTimeField(help_text="prices up to here have been matched against this order")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "paper"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_order_id"],
                condition=~models.Q(client_order_id=""),
                name="uniq_paper_client_order_id",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["account", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.amount} {self.symbol} {self.type} ({self.status})"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def set_status(self, status: str) -> None:
        if status == self.status:
            return
        if status not in self.TRANSITIONS[OrderStatus(self.status)]:
            raise InvalidStatusMove(f"a {self.status} order cannot become {status}")
        self.status = status


class PaperTrade(models.Model):
    """One fill of an order."""

    tenant_field = "account__connection__tenant"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="trades")
    order = models.ForeignKey(PaperOrder, on_delete=models.CASCADE, related_name="trades")
    symbol = models.CharField(max_length=30)
    side = models.CharField(max_length=4, choices=Side.choices)
    amount = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)
    cost = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY)
    fee_currency = models.CharField(max_length=20)
    taker = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "paper"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"{self.side} {self.amount} {self.symbol} @ {self.price}"
