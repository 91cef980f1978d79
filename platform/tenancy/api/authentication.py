"""Token authentication that finds the caller's tenant in the same query.

Every tenant-scoped API call authenticates (the token and its user: one query), then
resolves the tenant (the membership: another). For a token request without a session
choice of tenant, ``membership_for_token`` reads both at once and the view's
``TenantScopedMixin`` uses the context found; anything it does not find (a bad key, an
inactive user, a tenant the user is not a member of, a superuser) goes the usual way, with
the usual answers.
"""

from __future__ import annotations

from rest_framework.authentication import TokenAuthentication

from tenancy.resolution import SESSION_KEY, TenantContext, membership_for_token

TENANT_HEADER = "HTTP_X_TENANT"


class TenantTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        self._request = request  # DRF makes the authenticators per request
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        request = self._request
        session = getattr(request._request, "session", None)
        if session is None or not session.get(SESSION_KEY):
            membership = membership_for_token(key, request.META.get(TENANT_HEADER))
            if membership is not None:
                request.token_tenant_context = TenantContext(membership.tenant, membership.role)
                return membership.user, membership.user.auth_token
        return super().authenticate_credentials(key)
