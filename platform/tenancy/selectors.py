"""Reads of tenants and memberships."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from tenancy.models import Membership, Tenant
from tenancy.scoping import get_scoped_or_404, scoped


def tenant_list_for_user(*, user) -> QuerySet[Tenant]:
    """The tenants a user may open: their memberships; a superuser sees every tenant."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    queryset = Tenant.objects.annotate(member_count=Count("memberships"))
    if user.is_superuser:
        return queryset
    return queryset.filter(memberships__user=user, is_active=True)


def tenant_get_for_user(*, user, tenant_id) -> Tenant:
    """One tenant the user belongs to, else 404."""
    queryset = tenant_list_for_user(user=user)
    try:
        return queryset.get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, TypeError):
        raise Http404("No tenant matches the given query.") from None


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return scoped(Membership, tenant=tenant).select_related("user").order_by("created_at")


def membership_get(*, tenant: Tenant, membership_id) -> Membership:
    return get_scoped_or_404(Membership.objects.select_related("user"), tenant=tenant, pk=membership_id)
