"""Monitoring pages inside the admin: exchange health, the order pipeline, workers and queues.

Superusers see every tenant. Staff see the rows of the tenant they work in (its connections,
its orders) with any role there; the platform-wide page (workers, queues, periodic tasks) is
a superuser's. The views only read (monitoring.selectors, exchanges.health_view) and render;
admin.site.admin_view (in admin_urls) sends anyone who is not active staff to the login page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from exchanges.health_view import health_overview
from exchanges.models import ExchangeConnection
from monitoring import selectors
from tenancy.scoping import scoped

EVERY_TENANT = None  # the scope of a superuser's pages


def _tenant_scope(request):
    """EVERY_TENANT for a superuser, the request's tenant for its staff; 403 for anyone else."""
    if request.user.is_superuser:
        return EVERY_TENANT
    if getattr(request, "tenant", None) is None or getattr(request, "tenant_role", None) is None:
        raise PermissionDenied
    return request.tenant


def _render(request, template: str, title: str, **context) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "scope_tenant": getattr(request, "tenant", None) if not request.user.is_superuser else None,
        "monitoring_pages": monitoring_links(request.user),
        **context,
    }
    return TemplateResponse(request, template, context)


def monitoring_links(user) -> list[dict]:
    """The pages a user may open, for the admin index and the pages' own navigation."""
    links = [
        {"name": "exchanges", "title": "Exchange health", "url_name": "monitoring-admin:exchanges",
         "description": "status, latency, circuit breakers and rate-limit budgets"},
        {"name": "orders", "title": "Order pipeline", "url_name": "monitoring-admin:orders",
         "description": "orders per status, unknown orders awaiting reconciliation, stuck sends, failures"},
    ]  # fmt: skip
    if user.is_superuser:
        links.append(
            {
                "name": "workers",
                "title": "Workers, queues and periodic tasks",
                "url_name": "monitoring-admin:workers",
                "description": "Celery workers, queue lengths, the beat heartbeat, the schedule",
            }  # fmt: skip
        )
    return links


def _timestamp(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def exchange_health(request):
    tenant = _tenant_scope(request)
    connections = ExchangeConnection.objects.select_related("tenant").order_by("tenant__name", "priority", "label")
    if tenant is not EVERY_TENANT:
        connections = scoped(connections, tenant=tenant)
    overview = health_overview(connections=connections, all_venues=tenant is EVERY_TENANT)
    for venue in overview["venues"]:
        venue["last_success"] = _timestamp(venue["last_success_at"])
        venue["budget"]["paused_until_at"] = _timestamp(venue["budget"]["paused_until"])
    for row in overview["connections"]:
        row["last_success"] = datetime.fromisoformat(row["last_success_at"]) if row["last_success_at"] else None
    return _render(request, "admin/monitoring/exchanges.html", "Exchange health", **overview)


def order_pipeline(request):
    tenant = _tenant_scope(request)
    return _render(request, "admin/monitoring/orders.html", "Order pipeline", **selectors.order_pipeline(tenant=tenant))


def workers(request):
    if not request.user.is_superuser:  # the fleet is shared by every tenant
        raise PermissionDenied
    return _render(request, "admin/monitoring/workers.html", "Workers, queues and periodic tasks",
                   platform_wide=True, **selectors.workers_report())  # fmt: skip
