"""Orders, their status history and their fills.

An order's intent and its unique client order id are saved before any network call; the
allowed status moves are the one map ``TRANSITIONS``; every move is an ``OrderEvent``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from exchanges.choices import OrderType, Side, TimeInForce
from exchanges.precision import MONEY_DECIMALS, MONEY_DIGITS
from tenancy.models import TenantOwnedModel, tenant_key


def money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_DECIMALS, **kwargs)


def new_client_order_id() -> str:
    """32 characters, letters and digits: inside every exchange's limit (Binance 36, OKX 32)."""
    return "p" + uuid.uuid4().hex[:31]


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # saved, not sent (or waiting for its next attempt)
    SUBMITTING = "submitting", "Submitting"  # a worker is sending it now
    UNKNOWN = "unknown", "Unknown"  # the send's outcome is not known yet: looked up by client id
    OPEN = "open", "Open"
    PARTIALLY_FILLED = "partially_filled", "Partially filled"
    FILLED = "filled", "Filled"
    CANCELED = "canceled", "Canceled"
    REJECTED = "rejected", "Rejected"  # refused by the exchange or a pre-trade check
    FAILED = "failed", "Failed"  # could not be placed (bad keys, every exchange down, retries used up)
    # protective orders the platform watches itself, and split parents, use these too:
    WAITING = "waiting", "Waiting for trigger"


S = OrderStatus
# The one map of allowed moves. ``unknown`` is left only for what the exchange says (or,
# once the exchange confirms it has no such order, back to ``pending`` for another try).
TRANSITIONS: dict[str, set[str]] = {
    S.WAITING: {S.PENDING, S.CANCELED, S.FAILED},
    S.PENDING: {S.SUBMITTING, S.CANCELED, S.REJECTED, S.FAILED, S.OPEN, S.PARTIALLY_FILLED, S.FILLED},
    S.SUBMITTING: {
        S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.FAILED, S.UNKNOWN, S.PENDING,
    },
    S.UNKNOWN: {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.PENDING, S.FAILED},
    S.OPEN: {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED},
    S.PARTIALLY_FILLED: {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED},
    S.FILLED: set(),
    S.CANCELED: set(),
    S.REJECTED: set(),
    S.FAILED: set(),
}  # fmt: skip
ACTIVE = (S.WAITING, S.PENDING, S.SUBMITTING, S.UNKNOWN, S.OPEN, S.PARTIALLY_FILLED)
AT_EXCHANGE = (S.OPEN, S.PARTIALLY_FILLED)
FINAL = (S.FILLED, S.CANCELED, S.REJECTED, S.FAILED)


class InvalidTransition(Exception):
    def __init__(self, order: Order, to: str):
        self.order, self.to = order, to
        super().__init__(f"order {order.pk} cannot move from {order.status} to {to}")


class Routing(models.TextChoices):
    EXPLICIT = "explicit", "The given connection"
    PRIORITY = "priority", "Priority order"
    BEST_PRICE = "best_price", "Best price"


class Purpose(models.TextChoices):
    ENTRY = "entry", "Entry"
    STOP_LOSS = "stop_loss", "Stop-loss"
    TAKE_PROFIT = "take_profit", "Take-profit"
    SPLIT = "split", "Split parent"  # sent nowhere itself: its children are


class TriggerMode(models.TextChoices):
    EXCHANGE = "exchange", "Placed on the exchange"
    PLATFORM = "platform", "Watched by the platform"


class Order(TenantOwnedModel):
    # Every status move rewrites the row's index entries (three or more per order): no index
    # here that another one already serves. The tenant, the status and the order (events)
    # lead composite indexes; unique and looked-up strings get no LIKE index; columns that
    # most orders leave empty (parent, position, exchange order id before the answer) are
    # indexed where set only.
    tenant = tenant_key(db_index=False)
    connection = models.ForeignKey(
        "exchanges.ExchangeConnection", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", db_index=False,
        help_text="a split's parent, or the order a stop-loss / take-profit protects",
    )  # fmt: skip
    position = models.ForeignKey(
        "trading.Position", null=True, blank=True, on_delete=models.SET_NULL, related_name="protective_orders",
        db_index=False,
    )  # fmt: skip
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.ENTRY)
    symbol = models.CharField(max_length=40)
    side = models.CharField(max_length=4, choices=Side.choices)
    type = models.CharField(max_length=10, choices=OrderType.choices, default=OrderType.MARKET)
    amount = money()
    price = money(null=True, blank=True)
    stop_price = money(null=True, blank=True)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices, default=TimeInForce.GTC)
    routing = models.CharField(max_length=10, choices=Routing.choices, default=Routing.EXPLICIT)
    allow_split = models.BooleanField(default=False)
    # protection requested with an entry order, placed once it fills
    stop_loss_price = money(null=True, blank=True)
    take_profit_price = money(null=True, blank=True)
    trigger_mode = models.CharField(max_length=8, choices=TriggerMode.choices, blank=True)

    client_order_id = models.CharField(max_length=40, default=new_client_order_id, editable=False)
    exchange_order_id = models.CharField(max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    filled = money(default=Decimal(0))
    remaining = money(default=Decimal(0))
    average_price = money(null=True, blank=True)
    fee = money(default=Decimal(0))
    fee_currency = models.CharField(max_length=16, blank=True)
    fill_count = models.PositiveIntegerField(default=0, editable=False, help_text="fills recorded as trades")
    reason = models.TextField(blank=True, help_text="why it was rejected, failed or canceled, in the exchange's words")
    error_code = models.CharField(max_length=40, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0, help_text="sends on the current connection")
    lookups = models.PositiveSmallIntegerField(default=0, help_text="lookups by client order id that found nothing")
    tried_connections = models.JSONField(default=list, blank=True, help_text="connections failed over from")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    discrepancy = models.TextField(blank=True, help_text="what reconciliation found different at the exchange")

    source = models.CharField(max_length=20, default="api")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client_order_id"], name="uniq_order_client_order_id"),
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="uniq_order_idempotency_key_per_tenant",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="order_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["status", "updated_at"]),
            models.Index(
                fields=["exchange_order_id"], condition=~models.Q(exchange_order_id=""), name="order_exchange_id_set"
            ),
            models.Index(fields=["parent"], condition=models.Q(parent__isnull=False), name="order_parent_set"),
            models.Index(fields=["position"], condition=models.Q(position__isnull=False), name="order_position_set"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.amount} {self.symbol} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    def set_status(self, status: str, *, reason: str = "", data: dict | None = None) -> OrderEvent:
        """Move to ``status`` through the map (InvalidTransition otherwise) and record why.

        The caller saves the order; the event is saved here, in the caller's transaction.
        """
        if status != self.status and not self.can_move_to(status):
            raise InvalidTransition(self, status)
        previous, self.status = self.status, status
        if status in FINAL and self.closed_at is None:
            self.closed_at = timezone.now()
        return self._event(from_status=previous, to_status=status, reason=reason, data=data or {})

    def note(self, kind: str, reason: str, data: dict | None = None) -> OrderEvent:
        """An event without a status move: a retry scheduled, a failover, a discrepancy."""
        return self._event(from_status=self.status, to_status=self.status, kind=kind, reason=reason, data=data or {})

    #: a list while a caller collects this order's events to write them itself, with the
    #: order's update in one statement (trading.services.sent); None: each is saved at once
    deferred_events: list[OrderEvent] | None = None

    def _event(self, **fields) -> OrderEvent:
        event = OrderEvent(order=self, tenant_id=self.tenant_id, **fields)
        if self.deferred_events is not None:
            self.deferred_events.append(event)
        else:
            event.save(force_insert=True)
        return event


class OrderEvent(TenantOwnedModel):
    # indexed by (order, created_at) below
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, default="status")  # status / retry / failover / discrepancy / lookup / fees
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}: {self.reason}"


class Trade(TenantOwnedModel):
    """A fill of one of our orders (its share of the order's filled amount)."""

    # the tenant and the order lead the indexes below
    tenant = tenant_key(db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="trades", db_index=False)
    connection = models.ForeignKey("exchanges.ExchangeConnection", on_delete=models.PROTECT, related_name="+")
    symbol = models.CharField(max_length=40)
    side = models.CharField(max_length=4, choices=Side.choices)
    amount = money()
    price = money()
    fee = money(default=Decimal(0))
    fee_currency = models.CharField(max_length=16, blank=True)
    sequence = models.PositiveIntegerField(help_text="the n-th fill seen on the order")
    realized_pnl = money(default=Decimal(0))
    executed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-executed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["order", "sequence"], name="uniq_trade_sequence_per_order")]
        indexes = [models.Index(fields=["tenant", "-executed_at"])]

    def __str__(self) -> str:
        return f"{self.side} {self.amount} {self.symbol} @ {self.price}"

    @property
    def notional(self) -> Decimal:
        return self.amount * self.price
