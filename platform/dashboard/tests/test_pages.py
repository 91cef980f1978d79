import pytest

from tenancy.models import Role
from tenancy.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/").status_code == 302


def test_login_then_the_dashboard_shows_only_the_users_tenant(client, owner, member, outsider):
    response = client.post("/accounts/login/", {"username": "olivia", "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Capital" in page
    assert "mike" in page  # a member of the same tenant
    assert "Globex" not in page and "oscar" not in page


def test_the_switcher_changes_the_tenant_and_refuses_others(client, owner, other_tenant, tenant):
    third = MembershipFactory(user=owner, role=Role.TRADER).tenant
    client.force_login(owner)
    response = client.post("/tenants/switch/", {"tenant": third.pk, "next": "/dashboard/"}, follow=True)
    assert f"<h1>{third.name}</h1>" in response.content.decode()
    assert client.post("/tenants/switch/", {"tenant": other_tenant.pk}).status_code == 404
    assert client.post("/tenants/switch/", {"tenant": ""}).status_code == 404
    # the refused switch left the choice alone
    assert f"<h1>{third.name}</h1>" in client.get("/dashboard/").content.decode()


def test_switcher_ignores_an_offsite_next(client, owner, tenant):
    client.force_login(owner)
    response = client.post("/tenants/switch/", {"tenant": tenant.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_a_user_without_a_tenant_is_told_what_to_do(client, db):
    client.force_login(UserFactory(username="loner"))
    assert "not a member of any tenant" in client.get("/dashboard/").content.decode()
