"""Trading rows. The watchlist says which symbols a tenant follows: with the tenant's
enabled connections it makes the public market data the platform polls."""

from django.db import models

from tenancy.models import TenantOwnedModel


class WatchedSymbol(TenantOwnedModel):
    symbol = models.CharField(max_length=40, help_text="unified, e.g. BTC/USDT")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [models.UniqueConstraint(fields=["tenant", "symbol"], name="uniq_watched_symbol")]

    def __str__(self) -> str:
        return self.symbol
