"""How a send ends when the exchange cannot take it, in-process against the simulator (the
queued sends are captured, then run here as the worker would): bad keys fail at once with a
hint and no retry; an open circuit fails over to the next exchange the policy allows, or fails
the order when there is none; backoff grows and is jittered."""

from unittest.mock import patch

import pytest
from django.conf import settings

from exchanges import runtime
from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.resilience import connection_key
from exchanges.resilience.breaker import breaker
from trading.models import Order
from trading.services import execution, orders
from trading.tests.factories import simulator_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(exchange_simulator):
    exchange_simulator.set_price("BTC/USDT", 60_000)
    return exchange_simulator


def placed(capture, tenant, **kwargs) -> Order:
    """Placed (checks passed, saved); its send queued, not run."""
    intent = orders.intent_clean(symbol="BTC/USDT", side="buy", amount="0.01")
    with capture():
        return orders.order_place(tenant=tenant, intent=intent, **kwargs)


def send(capture, order_id: int) -> Order:
    """Run the send as the worker would; ``queued_sends``: the sends it queued (retry, failover)."""
    from trading import tasks

    queued = []
    recorded = patch.object(tasks.order_send, "apply_async", lambda args, **kw: queued.append(args))
    with recorded, capture(execute=True):  # the callbacks run as capture exits, still inside the patch
        execution.order_send(order_id=order_id)
    order = Order.objects.get(pk=order_id)
    order.queued_sends = queued
    return order


def open_circuit(connection) -> None:
    for _ in range(settings.CIRCUIT_BREAKER_FAILURES):
        runtime.run(breaker.record_failure(connection_key(connection.pk), ExchangeUnavailable("down")))


def test_keys_revoked_after_the_checks_fail_the_order_at_once_without_a_retry(
    sim, tenant, django_capture_on_commit_callbacks
):
    # OKX: ccxt reads Binance's -2015 after a session that authenticated as a temporary IP ban
    # (a rate limit, retried with backoff), which is what Binance means by it most of the time
    okx = simulator_connection(sim, tenant, "okx")
    order = placed(django_capture_on_commit_callbacks, tenant, connection=okx)
    sim.account("okx", okx.credentials.apiKey).status = "revoked"
    order = send(django_capture_on_commit_callbacks, order.pk)
    assert order.status == "failed" and order.attempts == 1 and order.error_code == "authentication"
    assert "Check the connection's API key and its trading permission." in order.reason
    assert order.next_attempt_at is None and order.queued_sends == []
    assert order.events.filter(to_status="pending").count() == 1  # only when it was routed
    assert sim.orders("okx") == []


def test_an_open_circuit_fails_over_to_the_next_exchange_by_priority(sim, tenant, django_capture_on_commit_callbacks):
    binance = simulator_connection(sim, tenant, "binance", priority=1)
    okx = simulator_connection(sim, tenant, "okx", priority=2)
    order = placed(django_capture_on_commit_callbacks, tenant, routing_policy="priority")
    assert order.connection == binance
    open_circuit(binance)  # between the routing and the send
    order = send(django_capture_on_commit_callbacks, order.pk)
    assert order.status == "pending" and order.connection == okx and order.queued_sends == [(order.pk,)]
    assert order.tried_connections == [binance.pk]
    failover = order.events.get(kind="failover")
    assert failover.reason.startswith("failed over from Binance to OKX") and failover.data == {
        "from": binance.pk, "to": okx.pk,
    }  # fmt: skip
    order = send(django_capture_on_commit_callbacks, order.pk)
    assert order.status == "filled"
    assert sim.orders("binance") == [] and len(sim.orders("okx")) == 1


def test_an_open_circuit_with_no_other_exchange_fails_the_order_saying_why(
    sim, tenant, django_capture_on_commit_callbacks
):
    binance = simulator_connection(sim, tenant, "binance", priority=1)
    simulator_connection(sim, tenant, "okx", priority=2, enabled=False)
    order = placed(django_capture_on_commit_callbacks, tenant, routing_policy="priority")
    open_circuit(binance)
    order = send(django_capture_on_commit_callbacks, order.pk)
    assert order.status == "failed"
    assert order.reason.startswith("Binance is down (") and "no other exchange can take it" in order.reason
    assert sim.orders("binance") == []


def test_an_explicit_order_is_not_moved_when_its_exchange_is_down(sim, tenant, django_capture_on_commit_callbacks):
    binance = simulator_connection(sim, tenant, "binance")
    simulator_connection(sim, tenant, "okx")
    order = placed(django_capture_on_commit_callbacks, tenant, connection=binance)
    open_circuit(binance)
    order = send(django_capture_on_commit_callbacks, order.pk)
    assert order.connection == binance and order.status == "pending" and order.next_attempt_at is not None
    assert order.queued_sends == [(order.pk,)]  # retried later, on the same exchange
    assert not order.events.filter(kind="failover").exists()


def test_backoff_grows_exponentially_with_full_jitter_and_honours_retry_after():
    samples = {attempt: [execution.backoff(attempt) for _ in range(400)] for attempt in (1, 2, 3, 4)}
    caps = {attempt: max(values) for attempt, values in samples.items()}
    assert caps[1] < caps[2] < caps[3] < caps[4]  # the ceiling doubles (up to its maximum)
    assert len({round(v, 6) for v in samples[3]}) > 300  # jittered: no two workers retry in step
    assert caps[3] / 2 <= min(samples[3]) < caps[3] * 0.6  # from half the ceiling up
    assert all(execution.backoff(1, retry_after=7.5) >= 7.5 for _ in range(50))
