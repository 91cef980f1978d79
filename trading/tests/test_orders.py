"""The orders API and the pipeline's services, run in-process against the exchange
simulator: the owner / viewer / outsider trio, bad input, cancel, the status map,
reconciliation of fills and of orders changed at the exchange."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.adapters.types import Credentials
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.models import Order, OrderStatus
from trading.models.orders import InvalidTransition
from trading.services import execution, orders, positions, reconcile
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(exchange_simulator):
    return exchange_simulator


@pytest.fixture
def binance(sim, tenant):
    account = sim.add_account("binance", balances={"USDT": 100_000, "BTC": 2})
    connection = ExchangeConnectionFactory(
        tenant=tenant, exchange="binance", label="Binance", api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()), status="connected",
    )  # fmt: skip
    connection.account = account
    return connection


def post(client, connection, **body):
    body = {"symbol": "BTC/USDT", "side": "buy", "type": "market", "amount": "0.01", "connection": connection.pk} | body
    return client.post("/api/v1/orders/", body, format="json")


def place_and_send(django_capture_on_commit_callbacks, **kwargs) -> Order:
    """Place, then do here what the worker would do with the queued send (the queueing
    itself is captured, not run: no message reaches the broker)."""
    with django_capture_on_commit_callbacks():
        order = orders.order_place(**kwargs)
    for order_id in {order.pk, *order.children.values_list("pk", flat=True)}:
        execution.order_send(order_id=order_id)
    order.refresh_from_db()
    return order


class TestApi:
    def test_owner_places_an_order_and_gets_202_with_its_client_order_id(self, api, owner, binance):
        response = post(api(owner), binance)
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["status"] == "pending" and len(body["client_order_id"]) == 32
        assert body["amount"] == "0.01" and body["connection"] == binance.pk
        order = Order.objects.get(pk=body["id"])
        assert order.events.get().reason == "routed to Binance (explicit)"

    def test_a_viewer_cannot_place_or_cancel(self, api, member, binance):
        assert post(api(member), binance).status_code == 403
        order = OrderFactory(connection=binance)
        assert api(member).delete(f"/api/v1/orders/{order.pk}/").status_code == 403
        assert api(member).get(f"/api/v1/orders/{order.pk}/").status_code == 200

    def test_an_outsider_sees_neither_the_order_nor_the_connection(self, api, outsider, binance):
        order = OrderFactory(connection=binance)
        client = api(outsider)
        assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 404
        assert client.delete(f"/api/v1/orders/{order.pk}/").status_code == 404
        assert client.get("/api/v1/orders/").json()["results"] == []
        response = post(client, binance)
        assert response.status_code == 400 and "connection" in response.json()
        assert Order.objects.count() == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"amount": "-1"}, "amount"),
            ({"amount": "lots"}, "amount"),
            ({"type": "limit"}, "price"),
            ({"type": "stop"}, "stop_price"),
            ({"price": "100"}, "price"),
            ({"symbol": "not a symbol"}, "symbol"),
            ({"side": "hold"}, "side"),
            ({"type": "limit", "price": "60000", "stop_loss": "61000"}, "stop_loss"),
            ({"type": "limit", "price": "60000", "take_profit": "59000"}, "take_profit"),
            ({"amount": "0.00000001"}, "amount"),
            ({"amount": "1e27"}, "amount"),  # larger than any stored amount: not a 500
            ({"type": "limit", "side": "sell", "amount": "0.01", "price": "1e21"}, "price"),
            ({"type": "limit", "price": "60000", "stop_loss": "59000", "take_profit": "1e25"}, "take_profit"),
            ({"amount": "99999999999999999999"}, "amount"),
            ({"stop_loss": "1000000"}, "stop_loss"),  # a market buy's stop above the market: fires at once
            ({"take_profit": "1000"}, "take_profit"),
            ({"side": "sell", "stop_loss": "1000"}, "stop_loss"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, owner, binance, body, field):
        response = post(api(owner), binance, **body)
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()
        assert Order.objects.count() == 0

    def test_an_idempotency_key_reused_for_another_order_is_refused(self, api, owner, binance):
        client = api(owner)
        first = client.post("/api/v1/orders/", {"symbol": "BTC/USDT", "side": "buy", "amount": "0.01",
                            "connection": binance.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1")  # fmt: skip
        again = client.post("/api/v1/orders/", {"symbol": "BTC/USDT", "side": "buy", "amount": "0.02",
                            "connection": binance.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1")  # fmt: skip
        assert first.status_code == 202
        assert again.status_code == 400 and "idempotency_key" in again.json()

    def test_list_open_orders_and_show_one_with_its_events(self, api, owner, binance):
        open_order = OrderFactory(connection=binance, status=OrderStatus.OPEN)
        OrderFactory(connection=binance, status=OrderStatus.FILLED)
        client = api(owner)
        listed = client.get("/api/v1/orders/?status=open").json()["results"]
        assert [row["id"] for row in listed] == [open_order.pk]
        assert client.get("/api/v1/orders/?status=bogus").status_code == 400
        open_order.set_status(OrderStatus.CANCELED, reason="test")
        detail = client.get(f"/api/v1/orders/{open_order.pk}/").json()
        assert detail["events"][-1]["to_status"] == "canceled" and detail["events"][-1]["reason"] == "test"

    def test_kill_switch_refuses_new_orders_with_its_reason(self, api, owner, tenant, binance):
        from trading.tests.factories import TradingSettingsFactory

        TradingSettingsFactory(tenant=tenant, kill_switch=True, kill_switch_reason="drawdown limit hit")
        response = post(api(owner), binance)
        assert response.status_code == 400
        assert "drawdown limit hit" in str(response.json())


class TestStatusMap:
    def test_moves_outside_the_map_raise_and_record_nothing(self, binance):
        order = OrderFactory(connection=binance, status=OrderStatus.FILLED)
        with pytest.raises(InvalidTransition):
            order.set_status(OrderStatus.OPEN)
        assert order.events.count() == 0

    def test_unknown_never_goes_straight_to_submitting(self, binance):
        order = OrderFactory(connection=binance, status=OrderStatus.UNKNOWN)
        assert not order.can_move_to(OrderStatus.SUBMITTING)
        assert order.can_move_to(OrderStatus.PENDING) and order.can_move_to(OrderStatus.FILLED)


class TestPipeline:
    def test_a_market_order_fills_with_a_trade_and_a_position(self, sim, tenant, binance,
                                                              django_capture_on_commit_callbacks):  # fmt: skip
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        assert order.status == "filled" and order.filled == Decimal("0.01")
        trade = order.trades.get()
        assert trade.amount == Decimal("0.01") and trade.price == order.average_price
        position = binance.positions.get(symbol="BTC/USDT")
        assert position.quantity == Decimal("0.01")

    def test_fills_on_a_held_position_move_it_and_realize_pnl(self, sim, tenant, binance,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
        """A buy opens the position; a second buy and a partial sell move the held row (the
        worker writes those in two statements): quantity, average entry and realized PnL as
        the position rules say, each trade's realized PnL adding up to the position's."""
        placed = []
        for side, amount in (("buy", "0.01"), ("buy", "0.02"), ("sell", "0.012")):
            intent = orders.intent_clean(symbol="BTC/USDT", side=side, amount=amount)
            placed.append(place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent,
                                         connection=binance))  # fmt: skip
        assert [order.status for order in placed] == ["filled"] * 3
        first, second, sale = (order.trades.get() for order in placed)
        assert sale.pk and sale.sequence == 1 and sale.connection_id == binance.pk
        average = (first.price * first.amount + second.price * second.amount) / Decimal("0.03")
        position = binance.positions.get(symbol="BTC/USDT")
        assert position.quantity == Decimal("0.018")
        assert abs(position.average_price - average) < Decimal("1e-12")
        fee = positions.fee_in_quote(sale)
        assert abs(sale.realized_pnl - ((sale.price - average) * Decimal("0.012") - fee)) < Decimal("1e-12")
        assert position.realized_pnl == sum(t.realized_pnl for t in (first, second, sale))
        for order in placed:
            moves = list(order.events.values_list("from_status", "to_status"))
            assert moves[1:] == [("pending", "submitting"), ("submitting", "filled")]

    def test_a_second_send_of_the_same_order_does_nothing(self, sim, tenant, binance,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        execution.order_send(order_id=order.pk)  # a redelivered message
        assert len(sim.orders("binance")) == 1
        assert order.trades.count() == 1

    def test_an_answer_for_an_order_moved_on_meanwhile_takes_the_locking_path(self, sim, tenant, binance,
                                                                               django_capture_on_commit_callbacks,
                                                                               monkeypatch):  # fmt: skip
        """The send's answer is applied without reading the order again only while the row is
        still as claimed; here the stale-send check moved it to unknown during the send."""
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
        with django_capture_on_commit_callbacks():
            order = orders.order_place(tenant=tenant, intent=intent, connection=binance)
        send = execution.call

        def slow_send(*args, **kwargs):
            placed = send(*args, **kwargs)
            stuck = Order.objects.get(pk=order.pk)
            stuck.set_status(OrderStatus.UNKNOWN, reason="the worker sending it stopped before the exchange answered")
            stuck.save()
            return placed

        monkeypatch.setattr(execution, "call", slow_send)
        execution.order_send(order_id=order.pk)
        order.refresh_from_db()
        assert order.status == "filled" and order.trades.count() == 1
        moves = list(order.events.values_list("from_status", "to_status"))
        assert moves[-2:] == [("submitting", "unknown"), ("unknown", "filled")]
        assert ("submitting", "filled") not in moves  # the conditional write's events were rolled back
        assert binance.positions.get(symbol="BTC/USDT").quantity == Decimal("0.01")

    def test_cancel_an_open_limit_order_at_the_exchange(self, api, owner, sim, tenant, binance,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", type="limit", amount="0.01", price="50000")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        assert order.status == "open"
        response = api(owner).delete(f"/api/v1/orders/{order.pk}/")
        assert response.status_code == 200 and response.json()["status"] == "canceled"
        [at_exchange] = sim.orders("binance")
        assert at_exchange.status == "canceled"
        again = api(owner).delete(f"/api/v1/orders/{order.pk}/")
        assert again.status_code == 409 and "already canceled" in again.json()["detail"]

    def test_cancel_before_it_was_sent_never_reaches_the_exchange(self, api, owner, sim, binance):
        order_id = post(api(owner), binance).json()["id"]
        assert api(owner).delete(f"/api/v1/orders/{order_id}/").json()["status"] == "canceled"
        execution.order_send(order_id=order_id)  # the queued message arrives late
        assert sim.orders("binance") == []

    def test_reconciliation_records_partial_and_full_fills(self, sim, tenant, binance,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", type="limit", amount="0.02", price="50000")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        sim.fill_order("binance", order.exchange_order_id, amount="0.005", price="50000")
        assert reconcile.connection_sync(connection=binance) == 1
        order.refresh_from_db()
        assert order.status == "partially_filled" and order.filled == Decimal("0.005")
        sim.fill_order("binance", order.exchange_order_id)
        reconcile.connection_sync(connection=binance)
        order.refresh_from_db()
        assert order.status == "filled" and order.filled == Decimal("0.02")
        assert [t.amount for t in order.trades.order_by("sequence")] == [Decimal("0.005"), Decimal("0.015")]
        assert order.average_price == Decimal("50000")

    def test_reconciliation_adopts_a_cancel_made_at_the_exchange(self, sim, tenant, binance,
                                                                 django_capture_on_commit_callbacks):  # fmt: skip
        intent = orders.intent_clean(symbol="BTC/USDT", side="sell", type="limit", amount="0.01", price="90000")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        sim.venue("binance").cancel_order(binance.account.api_key, order_id=order.exchange_order_id)
        reconcile.connection_sync(connection=binance)
        order.refresh_from_db()
        assert order.status == "canceled"
        assert order.events.filter(to_status="canceled", reason="synced with the exchange").exists()

    def test_an_open_order_the_exchange_does_not_have_is_canceled_and_flagged(self, tenant, binance, settings):
        settings.ORDER_UNKNOWN_CONFIRMATIONS = 2
        order = OrderFactory(connection=binance, status=OrderStatus.OPEN, exchange_order_id="no-such-order")
        reconcile.connection_sync(connection=binance)  # not listed, not found: once may be a slow exchange
        order.refresh_from_db()
        assert order.status == "open" and order.lookups == 1 and order.discrepancy == ""
        reconcile.connection_sync(connection=binance)
        order.refresh_from_db()
        assert (
            order.status == "canceled"
            and order.discrepancy == "the exchange has no such order, the platform had it open"
        )
        events = order.events.count()
        reconcile.connection_sync(connection=binance)  # final now: not synced (nor noted) again
        assert order.events.count() == events

    def test_a_split_child_the_exchange_does_not_have_settles_its_parent(self, tenant, binance):
        parent = OrderFactory(connection=None, tenant=tenant, purpose="split", amount=Decimal("2"),
                              status=OrderStatus.PARTIALLY_FILLED, filled=Decimal("1"))  # fmt: skip
        OrderFactory(connection=binance, parent=parent, amount=Decimal("1"), filled=Decimal("1"),
                     average_price=Decimal("60000"), status=OrderStatus.FILLED)  # fmt: skip
        gone = OrderFactory(connection=binance, parent=parent, amount=Decimal("1"), status=OrderStatus.OPEN,
                            exchange_order_id="no-such-order")  # fmt: skip
        execution.gone_at_exchange(gone.pk, reason="not at the exchange")
        parent.refresh_from_db()
        assert parent.status == "canceled" and parent.filled == Decimal("1")  # what filled stays

    def test_cancel_of_an_order_the_exchange_does_not_have(self, api, owner, binance):
        order = OrderFactory(connection=binance, status=OrderStatus.OPEN, exchange_order_id="no-such-order")
        response = api(owner).delete(f"/api/v1/orders/{order.pk}/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "canceled" and "no such order" in response.json()["discrepancy"]

    def test_the_exchange_rejecting_an_open_order_cancels_it_and_flags_it(
        self, sim, tenant, binance, django_capture_on_commit_callbacks
    ):
        from exchanges.simulator.models import Status

        intent = orders.intent_clean(symbol="BTC/USDT", side="sell", type="limit", amount="0.01", price="90000")
        order = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent, connection=binance)
        assert order.status == "open"
        sim.venue("binance").orders[order.exchange_order_id].status = Status.REJECTED  # not a move the map allows
        reconcile.connection_sync(connection=binance)
        order.refresh_from_db()
        assert order.status == "canceled" and order.discrepancy == "the exchange says rejected, the platform had open"
        assert order.events.filter(to_status="canceled", reason__endswith="the exchange says rejected").exists()

    def test_an_unknown_order_the_exchange_never_got_is_sent_again_after_confirmation(
        self, sim, tenant, binance, django_capture_on_commit_callbacks, settings
    ):
        settings.ORDER_UNKNOWN_CONFIRMATIONS = 2
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
        with django_capture_on_commit_callbacks():
            order = orders.order_place(tenant=tenant, intent=intent, connection=binance)
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.UNKNOWN)
        execution.order_send(order_id=order.pk)  # first lookup: not there
        order.refresh_from_db()
        assert order.status == "unknown" and order.lookups == 1
        execution.order_send(order_id=order.pk)  # second lookup: confirmed, back to pending
        order.refresh_from_db()
        assert order.status == "pending"
        execution.order_send(order_id=order.pk)
        order.refresh_from_db()
        assert order.status == "filled" and len(sim.orders("binance")) == 1
        assert order.events.filter(reason__startswith="confirmed not placed").exists()


def test_a_split_order_is_a_parent_whose_children_fill_at_each_exchange(
    sim, tenant, django_capture_on_commit_callbacks
):
    from trading.tests.factories import simulator_connection

    binance = simulator_connection(sim, tenant, "binance", balances={"USDT": 10**6})
    okx = simulator_connection(sim, tenant, "okx", balances={"USDT": 10**6})
    sim.set_price("BTC/USDT", 60_000)
    sim.set_price("BTC/USDT", 59_900, exchange="okx")  # cheaper at the top, but thin
    sim.set_book("BTC/USDT", exchange="okx", level_notional=5_000)
    intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="3")
    parent = place_and_send(django_capture_on_commit_callbacks, tenant=tenant, intent=intent,
                            routing_policy="best_price", allow_split=True)  # fmt: skip
    children = list(parent.children.all())
    assert parent.purpose == "split" and parent.connection is None
    assert {child.connection_id for child in children} == {binance.pk, okx.pk}
    assert all(child.status == "filled" for child in children)
    assert parent.status == "filled" and parent.filled == Decimal("3")
    assert len(sim.orders("binance")) == 1 and len(sim.orders("okx")) == 1
    assert parent.events.filter(reason__startswith="split across exchanges").exists()


@pytest.mark.django_db(transaction=True)
class TestPlacedInOneStatement:
    """Outside a transaction an order and its first event are written in one statement (no
    BEGIN / COMMIT of their own); the send is queued once that statement has committed."""

    def test_the_order_its_event_and_its_queued_send(self, api, owner, binance, monkeypatch):
        from trading import tasks

        queued = []
        monkeypatch.setattr(tasks.order_send, "apply_async", lambda args, **kw: queued.append(args[0]))
        body = {"symbol": "BTC/USDT", "side": "buy", "amount": "0.01", "connection": binance.pk}
        response = api(owner).post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="one-statement")
        assert response.status_code == 202
        order = Order.objects.get(pk=response.json()["id"])
        assert queued == [order.pk]
        assert order.status == "pending" and order.amount == Decimal("0.01") and order.remaining == Decimal("0.01")
        assert order.client_order_id == response.json()["client_order_id"] and order.created_by == owner
        assert order.created_at is not None and order.idempotency_key == "one-statement"
        event = order.events.get()
        assert (event.from_status, event.to_status) == ("pending", "pending")
        assert event.reason == "routed to Binance (explicit)"
        assert event.data == {"considered": [{"ok": True, "label": "Binance", "reason": "", "connection": binance.pk}]}
        assert event.tenant_id == order.tenant_id

    def test_the_same_key_racing_returns_the_order_the_other_request_made(self, tenant, binance, monkeypatch):
        """The insert refused by the idempotency constraint leaves nothing behind (the event
        was in the same statement) and answers with the order that won."""
        from trading import tasks

        monkeypatch.setattr(tasks.order_send, "apply_async", lambda *args, **kw: None)
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
        first = orders.order_place(tenant=tenant, intent=intent, connection=binance, idempotency_key="race")
        real = orders._idempotent
        calls = []

        def not_yet_seen(*args):  # the other request had not committed when this one looked
            calls.append(args)
            return None if len(calls) == 1 else real(*args)

        monkeypatch.setattr(orders, "_idempotent", not_yet_seen)
        second = orders.order_place(tenant=tenant, intent=intent, connection=binance, idempotency_key="race")
        assert second.pk == first.pk
        assert Order.objects.count() == 1 and first.events.count() == 1
