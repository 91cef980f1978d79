"""Attach the current tenant to every page request and every websocket scope."""

from __future__ import annotations

from channels.db import database_sync_to_async

from tenancy.resolution import NO_TENANT, SESSION_KEY, TenantContext, TenantNotFound, resolve_tenant


def resolve_quietly(user, session_tenant_id) -> TenantContext:
    try:
        return resolve_tenant(user=user, session_tenant_id=session_tenant_id)
    except TenantNotFound:
        return NO_TENANT


class TenantMiddleware:
    """``request.tenant`` and ``request.tenant_role`` for pages and the admin (session users).

    API views resolve again after DRF authentication (token users): tenancy.api.mixins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = resolve_quietly(request.user, request.session.get(SESSION_KEY))
        request.tenant = context.tenant
        request.tenant_role = context.role
        return self.get_response(request)


class TenantWebsocketMiddleware:
    """``scope["tenant"]`` and ``scope["tenant_role"]`` for websockets (inside AuthMiddleware)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        session = scope.get("session")
        session_tenant_id = session.get(SESSION_KEY) if session is not None else None
        context = await database_sync_to_async(resolve_quietly)(scope.get("user"), session_tenant_id)
        return await self.inner(dict(scope, tenant=context.tenant, tenant_role=context.role), receive, send)
