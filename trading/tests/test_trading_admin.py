"""The trading admin: staff see only their tenant's orders, trades and positions; orders
change only through actions; the kill switch is an action."""

from decimal import Decimal as D

import pytest

from exchanges import runtime
from exchanges.adapters.types import Ticker
from exchanges.tests.factories import ExchangeConnectionFactory
from tenancy.tests.factories import UserFactory
from trading.market import cache
from trading.market.venues import Venue
from trading.models import Order, OrderStatus, TradingSettings
from trading.tests.factories import OrderFactory, PositionFactory, TradeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(tenant, other_tenant):
    mine = ExchangeConnectionFactory(tenant=tenant, label="acme-binance")
    theirs = ExchangeConnectionFactory(tenant=other_tenant, label="globex-binance")
    return {
        "order": OrderFactory(connection=mine, symbol="BTC/USDT", client_order_id="pacmeorder"),
        "foreign_order": OrderFactory(connection=theirs, symbol="DOGE/USDT", client_order_id="pglobexorder"),
        "trade": TradeFactory(order=OrderFactory(connection=mine), price=D("123.45")),
        "foreign_trade": TradeFactory(order=OrderFactory(connection=theirs), price=D("987.65")),
        "position": PositionFactory(connection=mine, symbol="ETH/USDT", quantity=D(2), average_price=D(3000)),
        "foreign_position": PositionFactory(connection=theirs, symbol="SOL/USDT"),
    }


def test_staff_see_only_their_tenants_rows(client, staff_owner, outsider, rows):
    client.force_login(staff_owner)
    orders = client.get("/admin/trading/order/").content.decode()
    assert "acme-binance" in orders and "globex-binance" not in orders and "DOGE/USDT" not in orders
    trades = client.get("/admin/trading/trade/").content.decode()
    assert "123.45" in trades and "987.65" not in trades
    positions = client.get("/admin/trading/position/").content.decode()
    assert "ETH/USDT" in positions and "SOL/USDT" not in positions
    found = client.get("/admin/trading/order/", {"q": "pglobexorder"}).content.decode()
    assert "globex-binance" not in found and "0 orders" in found


@pytest.mark.parametrize("kind", ["order", "trade", "position"])
def test_staff_cannot_open_another_tenants_row(client, staff_owner, outsider, rows, kind):
    client.force_login(staff_owner)
    foreign = rows[f"foreign_{kind}"]
    response = client.get(f"/admin/trading/{kind}/{foreign.pk}/change/")
    assert response.status_code in (302, 404)
    assert (
        "globex-binance" not in client.get(f"/admin/trading/{kind}/{foreign.pk}/change/", follow=True).content.decode()
    )
    assert client.get(f"/admin/trading/{kind}/{rows[kind].pk}/change/").status_code == 200


def test_superuser_sees_every_tenant(client, rows):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    orders = client.get("/admin/trading/order/").content.decode()
    assert "acme-binance" in orders and "globex-binance" in orders


def test_orders_are_read_only_with_their_events(client, staff_owner, rows):
    order = rows["order"]
    order.set_status(OrderStatus.CANCELED, reason="a test reason")
    order.save()
    client.force_login(staff_owner)
    page = client.get(f"/admin/trading/order/{order.pk}/change/").content.decode()
    assert "a test reason" in page and 'name="_save"' not in page
    client.post(f"/admin/trading/order/{order.pk}/change/", {"status": "filled"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert client.get("/admin/trading/order/add/").status_code == 403


def test_cancel_action_cancels_a_pending_order(client, staff_owner, rows):
    order = rows["order"]
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PENDING)
    client.force_login(staff_owner)
    response = client.post(
        "/admin/trading/order/", {"action": "cancel_orders", "_selected_action": [order.pk]}, follow=True
    )
    assert "1 order(s) canceled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order.events.filter(to_status=OrderStatus.CANCELED).exists()


def test_flagged_orders_filter_and_show_their_discrepancy(client, staff_owner, rows):
    Order.objects.filter(pk=rows["order"].pk).update(discrepancy="the exchange says canceled, the platform had open")
    client.force_login(staff_owner)
    flagged = client.get("/admin/trading/order/", {"discrepancy": "yes"}).content.decode()
    assert "the exchange says canceled, the platform had open" in flagged
    assert f'value="{rows["order"].pk}"' in flagged and f'value="{rows["trade"].order_id}"' not in flagged
    unflagged = client.get("/admin/trading/order/", {"discrepancy": "no"}).content.decode()
    assert f'value="{rows["trade"].order_id}"' in unflagged and f'value="{rows["order"].pk}"' not in unflagged


def test_reconcile_action_adopts_what_the_exchange_says(client, staff_owner, tenant, exchange_simulator, settings):
    settings.ORDER_UNKNOWN_CONFIRMATIONS = 1
    from exchanges.adapters.types import Credentials

    account = exchange_simulator.add_account("binance", balances={"USDT": 1000})
    connection = ExchangeConnectionFactory(
        tenant=tenant, exchange="binance", api_base_url=exchange_simulator.base_url,
        credentials=Credentials(**account.credentials()),
    )  # fmt: skip
    order = OrderFactory(connection=connection, status=OrderStatus.OPEN, exchange_order_id="no-such-order")
    client.force_login(staff_owner)
    response = client.post(
        "/admin/trading/order/", {"action": "reconcile_orders", "_selected_action": [order.pk]}, follow=True
    )
    assert "1 order(s) reconciled with the exchange" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and "no such order" in order.discrepancy


def test_viewer_has_no_order_actions(client, staff_viewer, rows):
    client.force_login(staff_viewer)
    page = client.get("/admin/trading/order/").content.decode()
    assert "acme-binance" in page and "cancel_orders" not in page
    client.post("/admin/trading/order/", {"action": "cancel_orders", "_selected_action": [rows["order"].pk]})
    rows["order"].refresh_from_db()
    assert rows["order"].status == OrderStatus.OPEN


def test_position_changelist_shows_unrealized_pnl_from_cached_prices(client, staff_owner, rows):
    position = rows["position"]
    ticker = Ticker("binance", "ETH/USDT", D(3100), D(3099), D(3101), D(1), None)
    runtime.run(cache.tickers_store(Venue.of(position.connection), {"ETH/USDT": ticker}))
    client.force_login(staff_owner)
    page = client.get("/admin/trading/position/").content.decode()
    assert ">200<" in page  # (3100 - 3000) x 2


def test_halt_and_resume_trading(client, staff_owner, tenant):
    settings_row = TradingSettings.objects.create(tenant=tenant)
    client.force_login(staff_owner)
    client.post("/admin/trading/tradingsettings/", {"action": "halt", "_selected_action": [settings_row.pk]})
    settings_row.refresh_from_db()
    assert settings_row.kill_switch and "olivia" in settings_row.kill_switch_reason
    client.post("/admin/trading/tradingsettings/", {"action": "resume", "_selected_action": [settings_row.pk]})
    settings_row.refresh_from_db()
    assert not settings_row.kill_switch and settings_row.kill_switch_reason == ""
