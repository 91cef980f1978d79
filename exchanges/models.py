"""Exchange connections: a tenant's account on one exchange, credentials encrypted."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from fernet_fields import EncryptedTextField

from exchanges.adapters.types import Credentials
from tenancy.models import TenantOwnedModel


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    CONNECTED = "connected", "Connected"
    LIMITED = "limited", "Limited"  # public data works, private calls do not (or degraded)
    FAILED = "failed", "Failed"


class ExchangeConnection(TenantOwnedModel):
    exchange = models.CharField(max_length=40, db_index=True, help_text="exchange id, e.g. binance, kraken, robinhood")
    label = models.CharField(max_length=80)
    # JSON of the credential fields under ccxt's names, encrypted with FERNET_KEYS[0].
    # Read it only through ``credentials`` in the adapter factory.
    encrypted_credentials = EncryptedTextField(default="{}", editable=False)
    # The last 4 characters of the API key, to recognise a key without decrypting it.
    api_key_hint = models.CharField(max_length=8, blank=True, editable=False)
    testnet = models.BooleanField(default=False)
    api_base_url = models.CharField(
        max_length=200, blank=True, help_text="replaces scheme and host of every REST endpoint (testnets, proxies)"
    )
    priority = models.PositiveSmallIntegerField(default=10, help_text="lower is tried first")
    enabled = models.BooleanField(default=True)
    capital_allocation_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="share of the tenant's total capital this exchange may hold",
    )
    max_positions = models.PositiveSmallIntegerField(default=10)
    status = models.CharField(max_length=10, choices=ConnectionStatus.choices, default=ConnectionStatus.UNTESTED)
    latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "exchange", "label"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "label"], name="uniq_connection_label_per_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "enabled", "priority"])]

    def __str__(self) -> str:
        return f"{self.label} ({self.exchange})"

    # Credentials never leave through repr, str, a serializer or the admin: only these two.
    @property
    def credentials(self) -> Credentials:
        data = json.loads(self.encrypted_credentials or "{}")
        return Credentials(**{k: v for k, v in data.items() if k in Credentials.FIELDS})

    def set_credentials(self, credentials: Credentials) -> None:
        self.encrypted_credentials = json.dumps(credentials.as_ccxt())
        self.api_key_hint = credentials.apiKey[-4:] if len(credentials.apiKey) >= 8 else ""

    @property
    def has_credentials(self) -> bool:
        return self.encrypted_credentials not in ("", "{}")
