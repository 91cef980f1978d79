"""The base of every tenant-scoped API view.

DRF authenticates (token or session) inside the view, after the middleware ran, so the
tenant is resolved again here, from the ``X-Tenant`` header, the session's switcher
choice or the user's first membership. A header naming a tenant the user cannot act
for answers 404.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission

from tenancy.api.authentication import TENANT_HEADER
from tenancy.models import Role, role_at_least
from tenancy.resolution import SESSION_KEY, TenantNotFound, resolve_tenant

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TenantRolePermission(BasePermission):
    """Reads need ``read_role`` (viewer), writes need ``write_role`` (trader) unless a view says more."""

    def has_permission(self, request, view) -> bool:
        if request.tenant is None:
            raise PermissionDenied("You are not a member of any tenant; ask a tenant owner to add you.")
        needed = getattr(view, "read_role", Role.VIEWER)
        if request.method not in SAFE_METHODS:
            needed = getattr(view, "write_role", Role.TRADER)
        if not role_at_least(request.tenant_role, needed):
            raise PermissionDenied(f"This needs the {needed} role in {request.tenant.name}.")
        return True


class TenantScopedMixin:
    """Sets ``request.tenant`` / ``request.tenant_role`` after authentication."""

    def perform_authentication(self, request):
        super().perform_authentication(request)
        context = getattr(request, "token_tenant_context", None)  # found with the token (TenantTokenAuthentication)
        if context is not None:
            request.tenant = request._request.tenant = context.tenant
            request.tenant_role = request._request.tenant_role = context.role
            return
        session = getattr(request._request, "session", None)
        try:
            context = resolve_tenant(
                user=request.user,
                explicit=request.META.get(TENANT_HEADER),
                session_tenant_id=session.get(SESSION_KEY) if session is not None else None,
            )
        except TenantNotFound:
            raise NotFound("No tenant matches the X-Tenant header.") from None
        request.tenant = request._request.tenant = context.tenant
        request.tenant_role = request._request.tenant_role = context.role
