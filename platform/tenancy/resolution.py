"""Which tenant a request acts for: the same rule for the API, pages and websockets.

1. an explicit choice (the ``X-Tenant`` header of an API call: an id or a slug),
2. else the tenant chosen with the switcher (stored in the session),
3. else the user's first membership.
A choice the user may not act for is ignored for the session and refused (404) for an
explicit header, so a header never confirms that a tenant exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.prepared import Prepared
from tenancy.models import Membership, Role, Tenant, role_at_least

SESSION_KEY = "tenant_id"


class TenantNotFound(Exception):
    """The explicitly requested tenant does not exist or the user is not a member."""


@dataclass(frozen=True)
class TenantContext:
    tenant: Tenant | None
    role: str | None  # the user's role in the tenant; superusers act as owners

    def has_role(self, minimum: str) -> bool:
        return self.role is not None and role_at_least(self.role, minimum)


NO_TENANT = TenantContext(tenant=None, role=None)


def _lookup(value) -> dict:
    value = str(value).strip()
    return {"pk": int(value)} if value.isdigit() else {"slug": value}


def _context_for(user, **lookup) -> TenantContext | None:
    if user.is_superuser:
        tenant = Tenant.objects.filter(**lookup).first()
        return TenantContext(tenant, Role.OWNER) if tenant else None
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant__is_active=True, **{f"tenant__{k}": v for k, v in lookup.items()})
        .first()
    )
    return TenantContext(membership.tenant, membership.role) if membership else None


def _token_memberships(key):
    return Membership.objects.select_related("tenant", "user__auth_token").filter(
        user__auth_token__key=key, user__is_active=True, user__is_superuser=False, tenant__is_active=True
    )


# the token request's one query, compiled once per process (config.prepared)
_TOKEN_FIRST = Prepared(lambda key: _token_memberships(key).order_by("created_at", "pk")[:1], key=str)
_TOKEN_BY_PK = Prepared(lambda key, pk: _token_memberships(key).filter(tenant__pk=pk)[:1], key=str, pk=int)
_TOKEN_BY_SLUG = Prepared(lambda key, slug: _token_memberships(key).filter(tenant__slug=slug)[:1], key=str, slug=str)


def membership_for_token(key: str, explicit=None) -> Membership | None:
    """For an API token's request, in one query: the membership ``resolve_tenant`` would pick
    (the ``explicit`` tenant, else the first one), with its tenant and its active user and
    that user's token. None when there is none (a bad key, an inactive user, no such
    membership) and for superusers, whose rule differs: the caller then authenticates and
    resolves one step at a time, which gives the same answers (401, 404) as always."""
    if explicit in (None, ""):
        return _TOKEN_FIRST.first(key=key)
    lookup = _lookup(explicit)
    if "pk" in lookup:
        return _TOKEN_BY_PK.first(key=key, pk=lookup["pk"])
    return _TOKEN_BY_SLUG.first(key=key, slug=lookup["slug"])


def resolve_tenant(*, user, explicit=None, session_tenant_id=None) -> TenantContext:
    if user is None or not user.is_authenticated:
        return NO_TENANT
    if explicit not in (None, ""):
        context = _context_for(user, **_lookup(explicit))
        if context is None:
            raise TenantNotFound(explicit)
        return context
    if str(session_tenant_id or "").isdigit():
        context = _context_for(user, pk=int(session_tenant_id))
        if context is not None:
            return context
    first = (
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant__is_active=True)
        .order_by("created_at", "pk")
        .first()
    )
    if first is not None:
        return TenantContext(first.tenant, first.role)
    return NO_TENANT
