"""Trades, positions, balances and trading settings over the API: owner, viewer and outsider,
against the exchange simulator (real HTTP, real Redis, real Postgres)."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from exchanges.adapters.types import Credentials
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.models import TradingSettings
from trading.services import execution
from trading.tests.factories import OrderFactory, PositionFactory, TradeFactory

pytestmark = pytest.mark.django_db


def connect(sim, tenant, exchange="binance", balances=None, **fields):
    account = sim.add_account(exchange, balances=balances or {"USDT": 1000})
    return ExchangeConnectionFactory(
        tenant=tenant, exchange=exchange, label=f"{exchange} {account.number}", api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()), **fields,
    )  # fmt: skip


def trade(connection, symbol="BTC/USDT", minutes_ago=0, **fields):
    order = OrderFactory(connection=connection, symbol=symbol)
    return TradeFactory(order=order, executed_at=timezone.now() - timedelta(minutes=minutes_ago), **fields)


def ticker_requests(sim):
    return sim.request_count(path="/api/v3/ticker/*") + sim.request_count(path="/api/v5/market/ticker*")


# --- trades -------------------------------------------------------------------------------


@pytest.fixture
def trades(tenant, other_tenant):
    mine, other = ExchangeConnectionFactory(tenant=tenant), ExchangeConnectionFactory(tenant=tenant)
    rows = [
        trade(mine, minutes_ago=3, price=D("60000.5"), fee=D("0.25"), fee_currency="USDT"),
        trade(other, minutes_ago=1),
        trade(mine, "ETH/USDT", minutes_ago=2),
    ]
    foreign = trade(ExchangeConnectionFactory(tenant=other_tenant))
    return {"mine": mine, "other": other, "rows": rows, "foreign": foreign}


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_trades_newest_first_with_money_as_strings(api, owner, member, trades):
    response = api(member).get("/api/v1/trades/")
    assert response.status_code == 200
    first, second, third = trades["rows"]
    assert ids(response) == [second.pk, third.pk, first.pk] and response.json()["count"] == 3
    oldest = response.json()["results"][-1]
    assert (oldest["price"], oldest["fee"], oldest["fee_currency"]) == ("60000.5", "0.25", "USDT")
    assert oldest["notional"] == "60000.5" and oldest["client_order_id"] == first.order.client_order_id


def test_trade_filters_and_pagination(api, owner, trades):
    client = api(owner)
    assert ids(client.get("/api/v1/trades/", {"symbol": "eth-usdt"})) == [trades["rows"][2].pk]
    by_connection = client.get("/api/v1/trades/", {"connection": trades["mine"].pk})
    assert set(ids(by_connection)) == {trades["rows"][0].pk, trades["rows"][2].pk}
    page = client.get("/api/v1/trades/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["next"] and page["previous"]


def test_outsider_never_sees_another_tenants_trades(api, outsider, trades):
    client = api(outsider)
    assert ids(client.get("/api/v1/trades/")) == [trades["foreign"].pk]
    assert ids(client.get("/api/v1/trades/", {"connection": trades["mine"].pk})) == []
    assert client.get("/api/v1/trades/", HTTP_X_TENANT="acme").status_code == 404


@pytest.mark.parametrize(("params", "field"), [({"connection": "abc"}, "connection"), ({"symbol": "$$$"}, "symbol")])
def test_bad_trade_filters_are_a_400_naming_the_field(api, owner, params, field):
    response = api(owner).get("/api/v1/trades/", params)
    assert response.status_code == 400 and field in response.json()


# --- positions ----------------------------------------------------------------------------


def test_positions_valued_at_the_market_and_cached(api, owner, member, outsider, tenant, exchange_simulator):
    sim = exchange_simulator
    sim.set_price("BTC/USDT", "60000", exchange="binance")
    conn = connect(sim, tenant)
    long = PositionFactory(connection=conn, quantity=D("0.5"), average_price=D(50000), realized_pnl=D("12.5"))
    PositionFactory(connection=conn, symbol="ETH/USDT", quantity=D(0), average_price=None)
    response = api(member).get("/api/v1/positions/", {"open": "true"})
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == long.pk and row["side"] == "long"
    assert (row["mark_price"], row["unrealized_pnl"], row["realized_pnl"], row["notional"]) == (
        "60000", "5000", "12.5", "30000",
    )  # fmt: skip
    before = ticker_requests(sim)
    assert len(api(owner).get("/api/v1/positions/").json()) == 2  # the flat one too
    assert ticker_requests(sim) == before  # the mark came from the shared cache
    assert api(outsider).get("/api/v1/positions/").json() == []


def test_short_position_and_unknown_mark(api, owner, tenant, exchange_simulator):
    sim = exchange_simulator
    sim.set_price("ETH/USDT", "3000", exchange="binance")
    conn = connect(sim, tenant)
    PositionFactory(connection=conn, symbol="ETH/USDT", quantity=D(-2), average_price=D(3500))
    PositionFactory(connection=conn, symbol="NOPE/USDT", quantity=D(1), average_price=D(7))  # not listed
    rows = {row["symbol"]: row for row in api(owner).get("/api/v1/positions/").json()}
    assert rows["ETH/USDT"]["unrealized_pnl"] == "1000" and rows["ETH/USDT"]["side"] == "short"
    assert rows["NOPE/USDT"]["mark_price"] is None and rows["NOPE/USDT"]["unrealized_pnl"] is None
    assert rows["NOPE/USDT"]["notional"] == "7"  # at the entry when there is no mark


def test_bad_positions_filter_is_a_400(api, owner):
    response = api(owner).get("/api/v1/positions/", {"open": "maybe"})
    assert response.status_code == 400 and "open" in response.json()


# --- balances -----------------------------------------------------------------------------


def test_total_balance_across_exchanges(api, member, tenant, exchange_simulator):
    sim = exchange_simulator
    sim.set_price("BTC/USDT", "60000", exchange="binance")
    sim.set_price("ETH/USDT", "3000", exchange="okx")
    binance = connect(sim, tenant, balances={"USDT": 1000, "BTC": "0.5", "XYZ": 10})
    okx = connect(sim, tenant, "okx", balances={"USDC": 200, "ETH": 2})
    broken = ExchangeConnectionFactory(tenant=tenant, label="bad keys", api_base_url=sim.base_url)
    connect(sim, tenant, balances={"USDT": 5}, enabled=False)
    body = api(member).get("/api/v1/balances/").json()
    assert body["quote"] == "USDT" and body["total"] == "37200"  # 1000 + 30000 + 200 (as USDT) + 6000
    rows = {row["connection_id"]: row for row in body["connections"]}
    assert set(rows) == {binance.pk, okx.pk}
    assert rows[binance.pk]["total"] == "31000" and rows[okx.pk]["total"] == "6200"
    assets = {a["asset"]: a for a in rows[binance.pk]["assets"]}
    assert (assets["BTC"]["price"], assets["BTC"]["value"]) == ("60000", "30000")
    assert assets["XYZ"]["value"] is None and body["unvalued"] == ["XYZ"]
    [failed] = body["failed"]
    assert failed["connection_id"] == broken.pk and failed["error_code"] == "authentication"


def test_balances_in_another_quote_and_fresh(api, owner, tenant, exchange_simulator):
    sim = exchange_simulator
    conn = connect(sim, tenant, balances={"USDT": 1000})
    TradingSettings.objects.create(tenant=tenant, quote_currency="USD")
    body = api(owner).get("/api/v1/balances/").json()
    assert body["quote"] == "USD" and body["total"] == "1000"  # USDT counts 1:1 with USD
    sim.deposit("binance", conn.credentials.apiKey, "USDT", 500)
    assert api(owner).get("/api/v1/balances/", {"quote": "usdc"}).json()["total"] == "1000"  # cached 30 s
    assert api(owner).get("/api/v1/balances/", {"fresh": "true"}).json()["total"] == "1500"


def balance_requests(sim):
    return sim.request_count(path="/api/v3/account")


def test_a_fill_shows_in_the_balances_at_once(
    api, owner, tenant, exchange_simulator, django_capture_on_commit_callbacks
):
    sim = exchange_simulator
    sim.set_price("BTC/USDT", "60000", exchange="binance")
    conn = connect(sim, tenant, balances={"USDT": 100_000}, status="connected")
    other = connect(sim, tenant, balances={"USDT": 50})
    assets = lambda body, c: {a["asset"]: a["total"] for a in rows(body)[c.pk]["assets"]}  # noqa: E731
    assert assets(api(owner).get("/api/v1/balances/").json(), conn) == {"USDT": "100000"}
    with django_capture_on_commit_callbacks():
        response = api(owner).post("/api/v1/orders/", {
            "symbol": "BTC/USDT", "side": "buy", "type": "market", "amount": "0.01", "connection": conn.pk,
        }, format="json")  # fmt: skip
    assert response.status_code == 202, response.content
    execution.order_send(order_id=response.json()["id"])  # what the worker does with the queued send
    before = balance_requests(sim)
    body = api(owner).get("/api/v1/balances/").json()
    assert assets(body, conn)["BTC"] == "0.00999"  # 0.01 less the 0.1 % fee, now rather than 30 s later
    assert D(assets(body, conn)["USDT"]) < 99_500
    assert balance_requests(sim) == before + 1  # read again: only the connection that filled
    api(owner).get("/api/v1/balances/")
    assert balance_requests(sim) == before + 1  # and cached again after that
    assert rows(body)[other.pk]["total"] == "50"


def test_an_old_fill_or_another_tenants_does_not_skip_the_cache(api, owner, tenant, other_tenant, exchange_simulator):
    sim = exchange_simulator
    conn = connect(sim, tenant, balances={"USDT": 1000})
    trade(conn, minutes_ago=5)
    api(owner).get("/api/v1/balances/")
    trade(connect(sim, other_tenant), minutes_ago=0)
    before = balance_requests(sim)
    sim.deposit("binance", conn.credentials.apiKey, "USDT", 500)
    assert api(owner).get("/api/v1/balances/").json()["total"] == "1000"  # the cached copy
    assert balance_requests(sim) == before
    trade(conn, minutes_ago=0)  # a fill recorded after that copy was read
    assert api(owner).get("/api/v1/balances/").json()["total"] == "1500"


def rows(body):
    return {row["connection_id"]: row for row in body["connections"]}


def test_outsider_never_sees_another_tenants_balances(api, outsider, tenant, other_tenant, exchange_simulator):
    connect(exchange_simulator, tenant, balances={"USDT": 1000})
    theirs = connect(exchange_simulator, other_tenant, balances={"USDT": 7})
    body = api(outsider).get("/api/v1/balances/").json()
    assert [row["connection_id"] for row in body["connections"]] == [theirs.pk] and body["total"] == "7"
    assert api(outsider).get("/api/v1/balances/", HTTP_X_TENANT=str(tenant.pk)).status_code == 404


def test_bad_quote_is_a_400_naming_it(api, owner):
    response = api(owner).get("/api/v1/balances/", {"quote": "US$"})
    assert response.status_code == 400 and "quote" in response.json()


# --- trading settings ---------------------------------------------------------------------


def test_settings_defaults_and_owner_halts_trading(api, owner, tenant):
    client = api(owner)
    body = client.get("/api/v1/trading-settings/").json()
    assert body["kill_switch"] is False and body["quote_currency"] == "USDT" and body["max_order_notional"] is None
    response = client.patch(
        "/api/v1/trading-settings/",
        {"kill_switch": True, "kill_switch_reason": "exchange incident", "max_order_notional": "2500.50",
         "quote_currency": "usd"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["max_order_notional"] == "2500.5" and response.json()["quote_currency"] == "USD"
    row = TradingSettings.objects.get(tenant=tenant)
    assert row.kill_switch and row.kill_switch_reason == "exchange incident" and row.max_order_notional == D("2500.5")
    client.patch("/api/v1/trading-settings/", {"kill_switch": False}, format="json")
    row.refresh_from_db()
    assert not row.kill_switch and row.kill_switch_reason == ""


def test_viewer_cannot_change_settings(api, member, tenant):
    response = api(member).patch("/api/v1/trading-settings/", {"kill_switch": True}, format="json")
    assert response.status_code == 403 and "admin" in response.json()["detail"]
    assert not TradingSettings.objects.filter(tenant=tenant, kill_switch=True).exists()


def test_outsider_changes_only_their_own_settings(api, outsider, tenant, other_tenant):
    client = api(outsider)
    assert client.patch("/api/v1/trading-settings/", {"kill_switch": True}, format="json").status_code == 200
    assert TradingSettings.objects.get(tenant=other_tenant).kill_switch
    assert not TradingSettings.objects.filter(tenant=tenant).exists()
    response = client.patch("/api/v1/trading-settings/", {"kill_switch": True}, format="json", HTTP_X_TENANT="acme")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quote_currency": "U"}, "quote_currency"),
        ({"max_order_notional": "-1"}, "max_order_notional"),
        ({"max_position_notional": "lots"}, "max_position_notional"),
        ({"kill_switch": "perhaps"}, "kill_switch"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field(api, owner, payload, field):
    response = api(owner).patch("/api/v1/trading-settings/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
