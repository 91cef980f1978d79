"""Positions per connection and symbol, and a tenant's trading settings (risk limits,
kill switch)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from tenancy.models import TenantOwnedModel, tenant_key
from trading.models.orders import money


class Position(TenantOwnedModel):
    """What the platform's own fills hold on one connection and symbol.

    ``quantity`` is signed (long > 0, short < 0); ``average_price`` is the average entry
    of what is held; ``realized_pnl`` is the quote-currency profit of what was closed,
    fees included. Unrealized PnL is valued at the market on read (positions selectors).
    """

    # the tenant and the connection lead the indexes below
    tenant = tenant_key(db_index=False)
    connection = models.ForeignKey(
        "exchanges.ExchangeConnection", on_delete=models.PROTECT, related_name="positions", db_index=False
    )
    symbol = models.CharField(max_length=40)
    quantity = money(default=Decimal(0))
    average_price = money(null=True, blank=True)
    realized_pnl = money(default=Decimal(0))
    fees = money(default=Decimal(0))
    opened_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connection", "symbol"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "symbol"], name="uniq_position_per_connection_symbol")
        ]
        indexes = [models.Index(fields=["tenant", "symbol"])]

    def __str__(self) -> str:
        return f"{self.quantity} {self.symbol} on {self.connection_id}"

    @property
    def is_open(self) -> bool:
        return self.quantity != 0

    @property
    def side(self) -> str:
        return "long" if self.quantity > 0 else "short" if self.quantity < 0 else "flat"


class TradingSettings(TenantOwnedModel):
    """One per tenant: the limits every new order is checked against."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="trading_settings")
    kill_switch = models.BooleanField(default=False, help_text="refuse every new order (protective ones still run)")
    kill_switch_reason = models.CharField(max_length=200, blank=True)
    quote_currency = models.CharField(max_length=10, default="USDT", help_text="balances and limits are valued in it")
    max_position_notional = money(
        null=True, blank=True, help_text="largest position per connection and symbol, in the quote currency"
    )
    max_order_notional = money(null=True, blank=True, help_text="largest single order, in the quote currency")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "trading settings"

    def __str__(self) -> str:
        return f"Trading settings of {self.tenant}"
