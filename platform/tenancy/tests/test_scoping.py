"""The scoping helper and the tenant resolution rule every entry point shares."""

import pytest
from django.http import Http404

from tenancy.models import Membership, Role, Tenant
from tenancy.resolution import TenantNotFound, resolve_tenant
from tenancy.scoping import get_scoped_or_404, scoped
from tenancy.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_scoped_returns_only_the_tenants_rows(owner, outsider, tenant, other_tenant):
    assert list(scoped(Membership, tenant=tenant).values_list("user__username", flat=True)) == ["olivia"]
    assert list(scoped(Tenant, tenant=other_tenant)) == [other_tenant]
    assert list(scoped(Membership, tenant=None)) == []


def test_get_scoped_or_404_hides_other_tenants_rows(owner, outsider, tenant):
    foreign = Membership.objects.get(user=outsider)
    assert get_scoped_or_404(Membership, tenant=tenant, user=owner).user == owner
    for lookup in ({"pk": foreign.pk}, {"pk": "not-a-number"}, {"pk": 10**9}):
        with pytest.raises(Http404):
            get_scoped_or_404(Membership, tenant=tenant, **lookup)


class TestResolution:
    def test_first_membership_by_default(self, owner, tenant, other_tenant):
        MembershipFactory(tenant=other_tenant, user=owner, role=Role.VIEWER)
        context = resolve_tenant(user=owner)
        assert (context.tenant, context.role) == (tenant, Role.OWNER)

    def test_session_choice_beats_the_default(self, owner, other_tenant):
        MembershipFactory(tenant=other_tenant, user=owner, role=Role.VIEWER)
        context = resolve_tenant(user=owner, session_tenant_id=other_tenant.pk)
        assert (context.tenant, context.role) == (other_tenant, Role.VIEWER)

    def test_a_stale_session_choice_falls_back(self, owner, tenant, other_tenant):
        assert resolve_tenant(user=owner, session_tenant_id=other_tenant.pk).tenant == tenant
        assert resolve_tenant(user=owner, session_tenant_id="garbage").tenant == tenant

    def test_an_explicit_choice_outside_the_users_tenants_is_refused(self, owner, other_tenant):
        with pytest.raises(TenantNotFound):
            resolve_tenant(user=owner, explicit=other_tenant.slug)
        with pytest.raises(TenantNotFound):
            resolve_tenant(user=owner, explicit="no-such-tenant")

    def test_superuser_acts_as_owner_of_any_tenant(self, tenant):
        root = UserFactory(username="root", is_superuser=True)
        context = resolve_tenant(user=root, explicit=tenant.slug)
        assert (context.tenant, context.role) == (tenant, Role.OWNER)
        assert context.has_role(Role.ADMIN)

    def test_anonymous_has_no_tenant(self):
        from django.contrib.auth.models import AnonymousUser

        assert resolve_tenant(user=AnonymousUser()).tenant is None
