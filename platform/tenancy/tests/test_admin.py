"""The admin: superusers see everything; staff see and edit only their tenant's rows,
with the rights of their role there."""

import pytest

from tenancy.models import Membership, Role
from tenancy.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_superuser_sees_every_tenant(client, superuser, owner, outsider):
    client.force_login(superuser)
    page = client.get("/admin/tenancy/tenant/").content.decode()
    assert "Acme Capital" in page and "Globex Trading" in page


def test_staff_see_only_their_tenants_rows(client, staff_owner, outsider):
    client.force_login(staff_owner)
    tenants = client.get("/admin/tenancy/tenant/")
    assert tenants.status_code == 200
    assert "Acme Capital" in tenants.content.decode()
    assert "Globex" not in tenants.content.decode()
    members = client.get("/admin/tenancy/membership/").content.decode()
    assert "olivia" in members
    assert "oscar" not in members


def test_staff_cannot_open_another_tenants_row(client, staff_owner, outsider, other_tenant):
    client.force_login(staff_owner)
    foreign = Membership.objects.get(user=outsider)
    for url in (
        f"/admin/tenancy/membership/{foreign.pk}/change/",
        f"/admin/tenancy/tenant/{other_tenant.pk}/change/",
    ):
        response = client.get(url, follow=True)
        assert "oscar" not in response.content.decode()
        assert "doesn’t exist" in response.content.decode()
    response = client.post(f"/admin/tenancy/membership/{foreign.pk}/delete/", {"post": "yes"})
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_staff_cannot_move_a_row_to_another_tenant(client, staff_owner, tenant, other_tenant):
    client.force_login(staff_owner)
    newbie = UserFactory(username="newbie")
    response = client.post(
        "/admin/tenancy/membership/add/", {"tenant": other_tenant.pk, "user": newbie.pk, "role": "viewer"}
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "Select a valid choice" in response.content.decode()
    assert not Membership.objects.filter(user=newbie).exists()
    client.post("/admin/tenancy/membership/add/", {"tenant": tenant.pk, "user": newbie.pk, "role": "viewer"})
    assert Membership.objects.get(user=newbie).tenant == tenant


def test_a_viewer_looks_but_does_not_change(client, staff_viewer, owner):
    client.force_login(staff_viewer)
    assert client.get("/admin/tenancy/membership/").status_code == 200
    target = Membership.objects.get(user=owner)
    client.post(
        f"/admin/tenancy/membership/{target.pk}/change/",
        {"tenant": target.tenant_id, "user": owner.pk, "role": "viewer"},
    )
    target.refresh_from_db()
    assert target.role == Role.OWNER
    assert client.get("/admin/tenancy/membership/add/").status_code == 403


def test_staff_without_a_tenant_see_nothing(client, db):
    loner = UserFactory(username="loner", is_staff=True)
    client.force_login(loner)
    assert client.get("/admin/tenancy/membership/").status_code == 403


def test_the_switcher_moves_a_staff_users_admin(client, staff_owner, other_tenant, outsider):
    MembershipFactory(tenant=other_tenant, user=staff_owner, role=Role.ADMIN)
    client.force_login(staff_owner)
    client.post("/tenants/switch/", {"tenant": other_tenant.pk})
    members = client.get("/admin/tenancy/membership/").content.decode()
    assert "oscar" in members


def test_api_tokens_are_masked_in_the_admin(client, superuser, owner, api):
    from rest_framework.authtoken.models import Token

    api(owner)  # creates the token
    key = Token.objects.get(user=owner).key
    client.force_login(superuser)
    page = client.get("/admin/tenancy/apitoken/").content.decode()
    assert "olivia" in page
    assert key not in page
    assert key[-4:] in page
    for url in (f"/admin/tenancy/apitoken/{owner.pk}/change/", f"/admin/tenancy/apitoken/{owner.pk}/delete/",
                f"/admin/tenancy/apitoken/{owner.pk}/history/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200 and key not in response.content.decode(), url
    client.post(f"/admin/tenancy/apitoken/{owner.pk}/delete/", {"post": "yes"})
    from django.contrib.admin.models import LogEntry

    assert not Token.objects.filter(user=owner).exists()
    assert LogEntry.objects.exists() and not LogEntry.objects.filter(object_repr__contains=key).exists()


@pytest.fixture
def staff_admin(tenant):
    user = UserFactory(username="ada", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role=Role.ADMIN)
    return user


def test_an_admin_cannot_make_anyone_owner(client, staff_admin, tenant):
    client.force_login(staff_admin)
    mine = Membership.objects.get(user=staff_admin)
    response = client.post(f"/admin/tenancy/membership/{mine.pk}/change/", {"role": "owner"})
    assert response.status_code == 200 and "Only a tenant owner or above may grant the owner role" in (
        response.content.decode()
    )
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN
    newbie = UserFactory(username="newbie")
    client.post("/admin/tenancy/membership/add/", {"tenant": tenant.pk, "user": newbie.pk, "role": "owner"})
    assert not Membership.objects.filter(user=newbie).exists()
    client.post("/admin/tenancy/membership/add/", {"tenant": tenant.pk, "user": newbie.pk, "role": "trader"})
    assert Membership.objects.get(user=newbie).role == Role.TRADER


def test_the_last_owner_stays(client, staff_owner, staff_admin):
    client.force_login(staff_owner)
    own = Membership.objects.get(user=staff_owner)
    response = client.post(f"/admin/tenancy/membership/{own.pk}/change/", {"role": "viewer"})
    assert "A tenant keeps at least one owner." in response.content.decode()
    assert client.post(f"/admin/tenancy/membership/{own.pk}/delete/", {"post": "yes"}).status_code == 403
    client.force_login(staff_admin)
    client.post(
        "/admin/tenancy/membership/", {"action": "delete_selected", "_selected_action": [own.pk], "post": "yes"}
    )
    own.refresh_from_db()
    assert own.role == Role.OWNER
