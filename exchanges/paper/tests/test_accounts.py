"""Paper accounts: creation, reset, the registry entry and the admin."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from exchanges.adapters.errors import AuthenticationFailed
from exchanges.adapters.registry import get_registration
from exchanges.adapters.types import OrderType, Side
from exchanges.models import ExchangeConnection
from exchanges.paper.adapter import PaperAdapter
from exchanges.paper.models import PaperAccount, PaperBalance, PaperOrder
from exchanges.paper.services import (
    paper_account_configure,
    paper_account_ensure,
    paper_account_reset,
    paper_connection_ensure,
)
from tenancy.tests.factories import UserFactory

from .conftest import Sync, paper_connection

pytestmark = pytest.mark.django_db


def balances(account):
    return {b.asset: b.free for b in PaperBalance.objects.filter(account=account)}


def test_the_paper_exchange_is_registered_and_needs_no_keys():
    registration = get_registration("paper")
    assert registration.adapter_class is PaperAdapter
    assert registration.name == "Paper trading" and set(registration.regions) == {"us", "eu", "global"}
    assert PaperAdapter.required_credentials == ()
    capabilities = PaperAdapter().capabilities()
    assert capabilities.spot and capabilities.stop_loss and capabilities.take_profit and capabilities.fetch_tickers
    assert not capabilities.futures


def test_an_account_is_funded_once_and_reset_to_its_starting_balances(connection, make_paper):
    account = paper_account_ensure(connection=connection, starting_balances={"usdt": "2500", "BTC": "0.5"})
    assert balances(account) == {"USDT": 2500, "BTC": D("0.5")}
    assert paper_account_ensure(connection=connection, starting_balances={"USDT": "1"}) == account

    paper = make_paper(connection)
    paper.create_order(symbol="BTC/USDT", side=Side.SELL, type=OrderType.MARKET, amount=D("0.5"))
    assert balances(account)["BTC"] == 0

    paper_account_reset(connection=connection)
    assert balances(account) == {"USDT": 2500, "BTC": D("0.5")}
    assert PaperOrder.objects.filter(account=account).count() == 0


def test_the_adapter_funds_a_new_account_from_its_options(connection, make_paper):
    paper = make_paper(connection, starting_balances={"USD": "5000"})
    assert paper.fetch_balance().free("USD") == 5000
    assert "USDT" not in paper.fetch_balance().assets


def test_only_paper_connections_get_a_paper_account(db):
    binance = ExchangeConnection.objects.create(tenant=paper_connection().tenant, exchange="binance", label="B")
    with pytest.raises(ValidationError):
        paper_account_ensure(connection=binance)
    with pytest.raises(AuthenticationFailed):
        Sync(PaperAdapter(options={"account_id": binance.pk})).fetch_balance()
    with pytest.raises(AuthenticationFailed):
        Sync(PaperAdapter()).fetch_balance()  # private calls need the connection


def test_bad_settings_are_refused(connection):
    with pytest.raises(ValidationError):
        paper_account_ensure(connection=connection, starting_balances={"USDT": "-5"})
    with pytest.raises(ValidationError):
        paper_account_configure(connection=connection, price_source="follow")  # which exchange?
    account = paper_account_configure(connection=connection, fee_rate=D("0.0005"), slippage_bps=D("2.5"))
    assert (account.fee_rate, account.slippage_bps) == (D("0.0005"), D("2.5"))


def test_the_demo_connection_is_created_once_with_its_account(connection):
    tenant = connection.tenant
    first = paper_connection_ensure(tenant=tenant)
    assert paper_connection_ensure(tenant=tenant) == first
    assert first.exchange == "paper" and PaperAccount.objects.filter(connection=first).exists()


def test_test_connection_creates_the_account(connection):
    result = Sync(PaperAdapter(options={"account_id": connection.pk})).test_connection()
    assert result.ok
    assert PaperAccount.objects.filter(connection=connection).exists()


# --- admin: owner, viewer, outsider ---------------------------------------------------------------------
@pytest.fixture
def accounts(tenant, other_tenant):
    mine = paper_account_ensure(connection=paper_connection(tenant, label="Acme paper"))
    theirs = paper_account_ensure(connection=paper_connection(other_tenant, label="Globex paper"))
    return mine, theirs


def staff(user):
    user.is_staff = True
    user.save()
    return user


def test_staff_see_their_tenants_paper_accounts_only(client, owner, outsider, accounts):
    mine, theirs = accounts
    client.force_login(staff(owner))
    listing = client.get("/admin/paper/paperaccount/").content.decode()
    assert "Acme paper" in listing and "Globex paper" not in listing
    page = client.get(f"/admin/paper/paperaccount/{mine.pk}/change/").content.decode()
    assert "USDT" in page and "100000" in page  # the balances inline
    foreign = client.get(f"/admin/paper/paperaccount/{theirs.pk}/change/", follow=True).content.decode()
    assert "Globex paper" not in foreign


def buy_some_btc(account, clock, prices):
    adapter = Sync(PaperAdapter(options={"account_id": account.connection_id, "price_source": prices, "clock": clock}))
    adapter.create_order(symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, amount=D("0.1"))


def test_a_viewer_may_look_but_not_reset(client, member, accounts, clock, prices):
    mine, _ = accounts
    buy_some_btc(mine, clock, prices)
    client.force_login(staff(member))
    page = client.get("/admin/paper/paperaccount/")
    assert page.status_code == 200 and "Acme paper" in page.content.decode()
    assert "reset" not in page.context["cl"].model_admin.get_actions(page.wsgi_request)
    client.post("/admin/paper/paperaccount/", {"action": "reset", "_selected_action": [mine.pk]})
    assert balances(mine)["BTC"] == D("0.1") and PaperOrder.objects.filter(account=mine).count() == 1


def test_an_owner_resets_an_account_from_the_admin(client, owner, accounts, clock, prices):
    mine, _ = accounts
    buy_some_btc(mine, clock, prices)
    client.force_login(staff(owner))
    response = client.post("/admin/paper/paperaccount/", {"action": "reset", "_selected_action": [mine.pk]})
    assert response.status_code == 302
    assert balances(mine) == {"USDT": 100000, "USD": 100000}


def test_a_superuser_filters_accounts_by_price_source(client, accounts):
    mine, theirs = accounts
    paper_account_configure(connection=mine.connection, price_source="candles")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get("/admin/paper/paperaccount/?price_source__exact=candles").content.decode()
    assert "Acme paper" in page and "Globex paper" not in page
    assert client.get("/admin/paper/paperorder/").status_code == 200
    assert client.get("/admin/paper/papertrade/").status_code == 200
