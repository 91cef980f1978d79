from pathlib import Path

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


PAGES = ["/dashboard/", "/dashboard/prices/", "/dashboard/orders/", "/dashboard/bots/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_dashboard_page_sends_anonymous_users_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_pages_show_the_tenants_own_connections_and_never_a_secret(client, owner, outsider, tenant, other_tenant, path):
    from exchanges.tests.factories import API_KEY, SECRET, ExchangeConnectionFactory

    ExchangeConnectionFactory(tenant=tenant, label="Acme Main", status="connected", priority=3)
    ExchangeConnectionFactory(tenant=other_tenant, label="Globex Hidden Desk")
    client.force_login(owner)
    page = client.get(path).content.decode()
    assert "Globex" not in page
    assert API_KEY not in page and API_KEY[-4:] not in page and SECRET not in page
    if path in ("/dashboard/", "/dashboard/orders/", "/dashboard/bots/"):
        assert "Acme Main" in page
    assert '<script src="/static/js/live.js">' in page


def test_the_overview_lists_each_connection_with_status_priority_and_last_error(client, owner, tenant):
    from exchanges.tests.factories import ExchangeConnectionFactory

    ok = ExchangeConnectionFactory(tenant=tenant, label="Up", status="connected", priority=1, latency_ms=42.4)
    down = ExchangeConnectionFactory(tenant=tenant, label="Down", exchange="kraken", status="failed", priority=2,
                                     last_error="Invalid API key")  # fmt: skip
    client.force_login(owner)
    response = client.get("/dashboard/")
    rows = {row["id"]: row for row in response.context["summary"]}
    assert rows[ok.pk]["status"] == "connected" and rows[down.pk]["status"] == "failed"
    page = response.content.decode()
    assert "Invalid API key" in page and "42 ms" in page
    assert response.context["available"] == "1 / 2"


def test_the_switcher_is_shown_only_to_users_in_several_tenants(client, owner, tenant):
    client.force_login(owner)
    assert 'id="tenant-switch"' not in client.get("/dashboard/").content.decode()
    MembershipFactory(user=owner, role=Role.VIEWER)
    assert 'id="tenant-switch"' in client.get("/dashboard/").content.decode()


def test_the_prices_page_takes_any_spelling_of_a_symbol(client, owner, tenant):
    client.force_login(owner)
    assert client.get("/dashboard/prices/?symbol=eth-usdt").context["symbol"] == "ETH/USDT"
    assert client.get("/dashboard/prices/?symbol=%3Cscript%3E").context["symbol"] == "BTC/USDT"


def test_vendored_chart_library_is_served_with_its_license(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/lightweight-charts/lightweight-charts.standalone.production.js")
    assert "Apache License" in Path(finders.find("vendor/lightweight-charts/LICENSE")).read_text()
