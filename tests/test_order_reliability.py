"""Exactly-once orders against the exchange simulator, a real Celery worker, real Redis and
a real PostgreSQL: what the exchange ends up holding is what the user asked for, once.

The worker runs with a 2 s exchange timeout (tests/fixtures/services.py WORKER_ENV); the
test settings make retries and lookups quick.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection as db_connection

from exchanges.adapters.types import Credentials
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.models import Order
from trading.models.orders import FINAL

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]
AMOUNT = "0.01"


def connect(sim, tenant, exchange="binance", *, priority=10, balances=None, label=None):
    account = sim.add_account(exchange, balances=balances or {"USDT": 1_000_000, "BTC": 10})
    connection = ExchangeConnectionFactory(
        tenant=tenant, exchange=exchange, label=label or exchange.capitalize(), api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()), status="connected", priority=priority,
    )  # fmt: skip
    return connection, account


def place(client, connection=None, *, routing=None, key=None, amount=AMOUNT, side="buy", **extra):
    body = {"symbol": "BTC/USDT", "side": side, "type": "market", "amount": amount, **extra}
    if connection is not None:
        body["connection"] = connection.pk
    if routing:
        body["routing"] = routing
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/orders/", body, format="json", **headers)


def settled(order_id: int, timeout: float = 30) -> Order:
    """The order once it reached a final status (filled, canceled, rejected, failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order = Order.objects.get(pk=order_id)
        if order.status in FINAL:
            return order
        time.sleep(0.05)
    raise AssertionError(f"order {order_id} still {order.status} after {timeout} s: {events(order)}")


def events(order: Order) -> list[str]:
    return [f"{e.to_status}: {e.reason}" for e in order.events.order_by("created_at", "id")]


def sim_orders(sim, account, exchange="binance"):
    return sim.orders(exchange, account.api_key)


@pytest.fixture
def trader(api, owner):
    return api(owner)


def test_a_plain_order_is_sent_by_the_worker_and_filled(exchange_simulator, tenant, trader):
    connection, account = connect(exchange_simulator, tenant)
    response = place(trader, connection)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["client_order_id"]
    order = settled(body["id"])
    assert order.status == "filled", events(order)
    assert order.filled == Decimal(AMOUNT) and order.average_price > 0
    [at_exchange] = sim_orders(exchange_simulator, account)
    assert at_exchange.client_order_id == order.client_order_id
    assert order.trades.count() == 1


def test_timeout_after_the_exchange_accepted_places_exactly_one_order(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    sim.add_fault("timeout_after_accept", protocol="binance", path="/api/v3/order", method="POST", times=1, delay=3)
    order = settled(place(trader, connection).json()["id"])
    assert order.status == "filled", events(order)
    assert len(sim_orders(sim, account)) == 1
    assert any(e.to_status == "unknown" for e in order.events.all()), events(order)
    assert any("client order id" in e.reason for e in order.events.all())


def test_a_dropped_connection_after_accept_is_found_not_resent(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    sim.add_fault("drop_after_accept", protocol="binance", path="/api/v3/order", method="POST", times=1)
    order = settled(place(trader, connection).json()["id"])
    assert order.status == "filled", events(order)
    assert len(sim_orders(sim, account)) == 1
    assert sim.request_count(protocol="binance", path="/api/v3/order", method="POST") == 1


def test_a_5xx_then_success_places_one_order(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    sim.add_fault("http_error", protocol="binance", path="/api/v3/order", method="POST", times=1, status=503)
    order = settled(place(trader, connection).json()["id"])
    assert order.status == "filled", events(order)
    assert len(sim_orders(sim, account)) == 1
    # a 5xx leaves the outcome unknown: it was looked up before the second send
    statuses = [e.to_status for e in order.events.order_by("created_at", "id")]
    assert statuses.index("unknown") < len(statuses) - 1
    assert sim.request_count(protocol="binance", path="/api/v3/order", method="POST") == 2


def test_a_429_backs_off_for_the_exchanges_retry_after_then_succeeds(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    sim.add_fault("rate_limit", protocol="binance", path="/api/v3/order", method="POST", times=1, retry_after=1.5)
    started = time.monotonic()
    order = settled(place(trader, connection).json()["id"])
    assert order.status == "filled", events(order)
    assert time.monotonic() - started >= 1.5
    assert len(sim_orders(sim, account)) == 1
    retry = order.events.get(to_status="pending", reason__startswith="rate_limit")
    assert retry.data["delay"] >= 1.5


def test_exchange_down_fails_over_to_the_next_exchange_with_no_order_at_the_first(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    binance, binance_account = connect(sim, tenant, "binance", priority=1)
    okx, okx_account = connect(sim, tenant, "okx", priority=2)
    sim.add_fault("maintenance", protocol="binance", path="/api/v3/order", method="POST")
    order = settled(place(trader, routing="priority").json()["id"])
    assert order.status == "filled", events(order)
    assert order.connection_id == okx.pk
    assert sim_orders(sim, binance_account, "binance") == []
    assert len(sim_orders(sim, okx_account, "okx")) == 1
    failover = order.events.get(kind="failover")
    assert "Binance" in failover.reason and "Okx" in failover.reason


def test_insufficient_funds_is_rejected_with_the_exchanges_reason(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant, balances={"USDT": 2_000})
    assert trader.get(f"/api/v1/exchanges/connections/{connection.pk}/balance/").status_code == 200  # cached
    sim.account("binance", account.api_key).free["USDT"] = Decimal(5)  # spent elsewhere meanwhile
    order = settled(place(trader, connection).json()["id"])
    assert order.status == "rejected"
    assert "insufficient balance" in order.reason.lower()
    assert sim_orders(sim, account) == []
    detail = trader.get(f"/api/v1/orders/{order.pk}/").json()
    assert "insufficient balance" in detail["reason"].lower()


def test_the_same_idempotency_key_twice_gives_one_order(exchange_simulator, tenant, trader):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    first = place(trader, connection, key="buy-btc-1")
    second = place(trader, connection, key="buy-btc-1")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    settled(first.json()["id"])
    time.sleep(0.5)
    assert len(sim_orders(sim, account)) == 1
    assert Order.objects.filter(tenant=tenant).count() == 1


def test_concurrent_requests_with_one_idempotency_key_give_one_order(exchange_simulator, tenant, api, owner):
    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    answers = []

    def post():
        try:
            answers.append(place(api(owner), connection, key="same-click").json()["id"])
        finally:
            db_connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 1 and len(answers) == 4
    settled(answers[0])
    assert len(sim_orders(sim, account)) == 1


def test_worker_killed_mid_send_then_restarted_places_exactly_one_order(
    exchange_simulator, tenant, trader, celery_worker_process
):
    from trading.tasks import orders_reconcile

    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    sim.add_fault("latency", protocol="binance", path="/api/v3/order", method="POST", times=1, delay=1.0)
    order_id = place(trader, connection).json()["id"]
    deadline = time.monotonic() + 20
    while Order.objects.get(pk=order_id).status != "submitting":
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.01)
    time.sleep(0.3)  # the request is at the exchange, waiting for its answer
    celery_worker_process.kill()
    assert Order.objects.get(pk=order_id).status == "submitting"
    time.sleep(1.5)  # the exchange has finished with the request meanwhile
    celery_worker_process.start()
    time.sleep(4.2)  # ORDER_SUBMIT_STALE_SECONDS: the send counts as lost
    orders_reconcile.delay()
    order = settled(order_id)
    assert order.status == "filled", events(order)
    assert len(sim_orders(sim, account)) == 1
    assert any("worker sending it stopped" in e.reason for e in order.events.all()), events(order)


@pytest.mark.timeout(420)
def test_a_thousand_orders_with_a_fifth_of_requests_faulted_lose_none_and_duplicate_none(
    exchange_simulator, tenant, trader
):
    sim = exchange_simulator
    connection, account = connect(sim, tenant, balances={"USDT": 100_000_000, "BTC": 100})
    order_path = {"protocol": "binance", "path": "/api/v3/order", "method": "POST"}
    sim.add_fault("drop_after_accept", probability=0.06, **order_path)
    sim.add_fault("http_error", status=503, probability=0.05, **order_path)
    sim.add_fault("http_error", status=502, probability=0.03, protocol="binance", path="/api/v3/order", method="GET")
    sim.add_fault("rate_limit", retry_after=0.2, probability=0.04, **order_path)
    sim.add_fault("late_visibility", delay=0.2, probability=0.02, **order_path)
    sim.add_fault("timeout_after_accept", delay=2.5, probability=0.005, **order_path)
    ids = []
    for n in range(1000):
        response = place(trader, connection, amount="0.001", side="buy" if n % 2 == 0 else "sell")
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    deadline = time.monotonic() + 240
    while Order.objects.filter(pk__in=ids).exclude(status__in=FINAL).exists():
        assert time.monotonic() < deadline, Order.objects.filter(pk__in=ids).exclude(status__in=FINAL).count()
        time.sleep(0.5)
    orders = {o.client_order_id: o for o in Order.objects.filter(pk__in=ids)}
    at_exchange = sim_orders(sim, account)
    client_ids = [o.client_order_id for o in at_exchange]
    assert len(client_ids) == len(set(client_ids)), "an order was placed twice"
    assert set(client_ids) <= set(orders), "the exchange holds an order the platform does not know"
    filled = {cid for cid, o in orders.items() if o.status == "filled"}
    assert filled == set(client_ids), "the platform and the exchange disagree"
    lost = [o for o in orders.values() if o.status != "filled"]
    assert not lost, [events(o) for o in lost[:3]]
    faults_hit = sum(f.applied for f in sim.faults.active())
    assert faults_hit >= 100  # about a fifth of the ~1,000 sends met a fault


def test_a_send_lost_with_the_broker_is_sent_by_reconciliation_exactly_once(exchange_simulator, tenant):
    """The row was saved but its message never reached a worker (a broker restart lost it)."""
    from datetime import timedelta

    from django.utils import timezone

    from trading.tasks import orders_reconcile

    sim = exchange_simulator
    connection, account = connect(sim, tenant)
    order = Order.objects.create(tenant=tenant, connection=connection, symbol="BTC/USDT", side="buy",
                                 amount=Decimal(AMOUNT), remaining=Decimal(AMOUNT))  # fmt: skip
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    orders_reconcile.delay()
    orders_reconcile.delay()  # two beats in a row: still one send
    order = settled(order.pk)
    assert order.status == "filled", events(order)
    assert len(sim_orders(sim, account)) == 1
