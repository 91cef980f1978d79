"""The connection admin: masked keys, write-only credentials, tenant-scoped staff."""

import pytest

from exchanges.models import ExchangeConnection
from exchanges.tests.factories import API_KEY, SECRET, ExchangeConnectionFactory
from tenancy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(tenant):
    return ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")


@pytest.fixture
def theirs(other_tenant):
    return ExchangeConnectionFactory(tenant=other_tenant, label="Globex Binance")


def test_secrets_never_appear_in_the_admin(client, mine):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    pages = [
        client.get("/admin/exchanges/exchangeconnection/").content.decode(),
        client.get(f"/admin/exchanges/exchangeconnection/{mine.pk}/change/").content.decode(),
    ]
    for page in pages:
        assert SECRET not in page
        assert API_KEY not in page
    assert "••••••••" + API_KEY[-4:] in pages[0]
    assert 'type="password"' in pages[1]


def test_staff_see_only_their_tenants_connections(client, staff_owner, mine, theirs):
    client.force_login(staff_owner)
    page = client.get("/admin/exchanges/exchangeconnection/").content.decode()
    assert "Acme Binance" in page
    assert "Globex Binance" not in page
    response = client.get(f"/admin/exchanges/exchangeconnection/{theirs.pk}/change/", follow=True)
    assert "Globex Binance" not in response.content.decode()


def test_empty_credential_inputs_keep_the_stored_ones(client, staff_owner, mine, tenant):
    client.force_login(staff_owner)
    form = {
        "tenant": tenant.pk, "exchange": "binance", "label": "Renamed", "api_base_url": "", "priority": 2,
        "enabled": "on", "capital_allocation_pct": "50", "max_positions": 3,
        "apiKey": "", "secret": "", "password": "", "uid": "", "privateKey": "",
    }  # fmt: skip
    response = client.post(f"/admin/exchanges/exchangeconnection/{mine.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    mine.refresh_from_db()
    assert (mine.label, mine.priority, mine.credentials.secret) == ("Renamed", 2, SECRET)
    form["secret"] = "replaced-secret-value"
    client.post(f"/admin/exchanges/exchangeconnection/{mine.pk}/change/", form)
    mine.refresh_from_db()
    assert (mine.credentials.apiKey, mine.credentials.secret) == (API_KEY, "replaced-secret-value")


def test_the_admin_refuses_an_exchange_outside_the_region(client, staff_owner, tenant):
    tenant.region = "eu"
    tenant.save()
    client.force_login(staff_owner)
    form = {
        "tenant": tenant.pk, "exchange": "bybit", "label": "Bybit", "api_base_url": "", "priority": 1,
        "enabled": "on", "capital_allocation_pct": "100", "max_positions": 1, "apiKey": API_KEY, "secret": SECRET,
    }  # fmt: skip
    response = client.post("/admin/exchanges/exchangeconnection/add/", form)
    assert response.status_code == 200
    assert "not available in region" in response.content.decode()
    assert not ExchangeConnection.objects.exists()


def test_disable_action(client, staff_owner, mine):
    client.force_login(staff_owner)
    client.post(
        "/admin/exchanges/exchangeconnection/",
        {"action": "disable", "_selected_action": [mine.pk]},
    )
    mine.refresh_from_db()
    assert mine.enabled is False
