"""Tenants, their members and the roles members hold."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework.authtoken.models import TokenProxy


class Region(models.TextChoices):
    US = "us", "United States"
    EU = "eu", "EU / UK"
    GLOBAL = "global", "Global"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    TRADER = "trader", "Trader"
    VIEWER = "viewer", "Viewer"


# Each role can do everything the roles below it can.
ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def default_equivalent_quotes() -> list[str]:
    return ["USD", "USDT", "USDC"]


class Tenant(models.Model):
    # The scoping helper filters this model by its own key.
    tenant_field = "pk"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    region = models.CharField(max_length=10, choices=Region.choices, default=Region.GLOBAL)
    is_active = models.BooleanField(default=True)
    equivalent_quotes = models.JSONField(
        default=default_equivalent_quotes,
        blank=True,
        help_text="quote currencies compared as one, e.g. USD, USDT, USDC (empty: none)",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="tenants")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    tenant_field = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="uniq_membership_tenant_user")]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


def tenant_key(*, db_index: bool = True) -> models.ForeignKey:
    """The owning tenant's key. ``db_index=False`` for a model whose composite indexes lead
    with the tenant (one index entry fewer per write)."""
    return models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=db_index)


class TenantOwnedModel(models.Model):
    """Base for every domain row: it belongs to exactly one tenant."""

    tenant_field = "tenant"

    tenant = tenant_key()

    class Meta:
        abstract = True


class ApiToken(TokenProxy):
    """DRF's token as the admin shows it: a token is a password, so its name is masked
    (change and delete pages, messages and the admin log use ``str``)."""

    class Meta:
        proxy = True
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.user} ••••••••{self.key[-4:]}" if self.key else f"{self.user} (new token)"
