"""The admin between tenants and around secrets: a tenant's staff never reach another tenant's
connection (page, list, search, popup, filter or dropdown), and no admin page shows an API
key, secret or passphrase, not even the form that comes back after a failed submit."""

import pytest

from exchanges.adapters.types import Credentials
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.tests.factories import OrderFactory, PositionFactory

pytestmark = pytest.mark.django_db

API_KEY, SECRET, PASSPHRASE = "OKXadminkey000000000a1b2", "okx-admin-secret-value-777", "okx-admin-passphrase-888"
BASE = "/admin/exchanges/exchangeconnection/"


@pytest.fixture
def mine(tenant):
    return ExchangeConnectionFactory(
        tenant=tenant, label="Acme OKX", exchange="okx",
        credentials=Credentials(apiKey=API_KEY, secret=SECRET, password=PASSPHRASE),
    )  # fmt: skip


@pytest.fixture
def theirs(other_tenant):
    return ExchangeConnectionFactory(tenant=other_tenant, label="Globex Kraken", exchange="kraken")


def assert_no_secret(page: str) -> None:
    for value in (API_KEY, SECRET, PASSPHRASE):
        assert value not in page


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_staff_cannot_open_another_tenants_connection(client, staff_owner, mine, theirs, view):
    client.force_login(staff_owner)
    response = client.get(f"{BASE}{theirs.pk}/{view}/", follow=True)
    page = response.content.decode()
    assert "Globex Kraken" not in page
    assert "doesn’t exist" in page
    assert client.get(f"{BASE}{mine.pk}/{view}/").status_code == 200


def test_staff_cannot_delete_or_change_another_tenants_connection(client, staff_owner, theirs):
    client.force_login(staff_owner)
    client.post(f"{BASE}{theirs.pk}/delete/", {"post": "yes"})
    client.post(f"{BASE}{theirs.pk}/change/", {"label": "hijacked"})
    client.post(BASE, {"action": "disable", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert (theirs.label, theirs.enabled) == ("Globex Kraken", True)


def test_another_tenants_connection_is_in_no_list_search_or_popup(client, staff_owner, mine, theirs):
    client.force_login(staff_owner)
    for params in ({}, {"q": "Globex"}, {"q": "kraken"}, {"_popup": "1", "_to_field": "id"}):
        page = client.get(BASE, params).content.decode()
        assert "Globex Kraken" not in page and f"{BASE}{theirs.pk}/" not in page
    assert "Acme OKX" in client.get(BASE).content.decode()


def test_filters_and_dropdowns_offer_only_the_tenants_own(client, staff_owner, tenant, mine, theirs):
    OrderFactory(connection=mine)
    OrderFactory(connection=theirs)
    PositionFactory(connection=theirs, symbol="SOL/USDT")
    client.force_login(staff_owner)
    for url in ("/admin/trading/order/", "/admin/trading/trade/", "/admin/trading/position/", BASE):
        page = client.get(url).content.decode()
        assert "kraken" not in page.lower() and "Globex" not in page, url  # no filter choice of theirs
    orders = client.get("/admin/trading/order/").content.decode()
    assert "connection__exchange=okx" in orders  # the filter is there, with the tenant's own value
    for url in (f"{BASE}add/", "/admin/trading/watchedsymbol/add/", "/admin/trading/tradingsettings/add/"):
        form = client.get(url).content.decode()
        assert "Acme Capital" in form and "Globex" not in form, url


def test_staff_cannot_create_a_connection_for_another_tenant(client, staff_owner, other_tenant):
    client.force_login(staff_owner)
    form = {
        "tenant": other_tenant.pk, "exchange": "kraken", "label": "Planted", "api_base_url": "", "priority": 1,
        "enabled": "on", "capital_allocation_pct": "100", "max_positions": 1, "apiKey": API_KEY, "secret": SECRET,
    }  # fmt: skip
    response = client.post(f"{BASE}add/", form)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert_no_secret(response.content.decode())


def test_no_admin_page_shows_a_secret(client, superuser, staff_owner, mine):
    for user in (superuser, staff_owner):
        client.force_login(user)
        for url in (BASE, f"{BASE}{mine.pk}/change/", f"{BASE}{mine.pk}/history/", f"{BASE}{mine.pk}/delete/",
                    f"{BASE}?q=okx", "/admin/"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 200, url
            assert_no_secret(response.content.decode())
    change = client.get(f"{BASE}{mine.pk}/change/").content.decode()
    assert "••••••••a1b2" in change and change.count('type="password"') == 5


def test_a_failed_submit_does_not_echo_the_secrets(client, staff_owner, tenant, mine):
    client.force_login(staff_owner)
    form = {
        "tenant": tenant.pk, "exchange": "okx", "label": "Acme OKX 2", "api_base_url": "ftp://not-allowed",
        "priority": 1, "enabled": "on", "capital_allocation_pct": "100", "max_positions": 1,
        "apiKey": "NEWkey0000000000000zzzz", "secret": "new-secret-value-typed-in", "password": "new-passphrase-typed",
    }  # fmt: skip
    for url in (f"{BASE}add/", f"{BASE}{mine.pk}/change/"):
        response = client.post(url, form)
        page = response.content.decode()
        assert response.status_code == 200 and "errornote" in page, url  # the form came back with its error
        for typed in ("NEWkey0000000000000zzzz", "new-secret-value-typed-in", "new-passphrase-typed"):
            assert typed not in page, url
        assert_no_secret(page)
    mine.refresh_from_db()
    assert mine.credentials.secret == SECRET  # nothing was saved
