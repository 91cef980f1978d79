"""A sick exchange is noticed and avoided: the breaker opens after a 5xx storm, polls stop
reaching it, one probe goes through when the rest is over, and it closes when it answers."""

import time

import pytest

from exchanges import runtime
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.market.poller import poll_venue
from trading.market.venues import Venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_breaker(settings):
    settings.CIRCUIT_BREAKER_FAILURES = 3
    settings.CIRCUIT_BREAKER_OPEN_SECONDS = 1


def test_breaker_opens_skips_probes_and_closes(exchange_simulator):
    sim = exchange_simulator
    venue = Venue("okx", sim.base_url)
    assert runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).error is None
    sim.add_fault("http_error", protocol="okx", status=503)  # a 5xx storm
    for _ in range(3):
        assert "503" in runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).error
    served = sim.request_count(protocol="okx")
    for _ in range(5):  # open: polls are skipped without a request
        result = runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
        assert result.polled is False and "circuit" in result.error.lower()
    assert sim.request_count(protocol="okx") == served
    time.sleep(1.1)
    sim.clear_faults()  # the exchange is back: the one probe succeeds and closes the circuit
    assert runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).error is None
    assert sim.request_count(protocol="okx") == served + 1
    assert runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).error is None


def test_a_failed_probe_opens_it_again(exchange_simulator):
    sim = exchange_simulator
    venue = Venue("okx", sim.base_url)
    runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
    sim.add_fault("maintenance", protocol="okx")
    for _ in range(3):
        runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
    time.sleep(1.1)
    served = sim.request_count(protocol="okx")
    assert runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).polled is True  # the probe
    assert runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False)).polled is False  # open again
    assert sim.request_count(protocol="okx") == served + 1


class TestStatusApi:
    def test_status_per_connection_exchange_and_system(self, api, owner, member, outsider, tenant, exchange_simulator):
        sim = exchange_simulator
        account = sim.add_account("binance", balances={"USDT": 10})
        from exchanges.adapters.types import Credentials

        good = ExchangeConnectionFactory(
            tenant=tenant, label="Good", api_base_url=sim.base_url, credentials=Credentials(**account.credentials())
        )
        bad = ExchangeConnectionFactory(
            tenant=tenant, exchange="kraken", label="Bad", api_base_url="http://127.0.0.1:9"
        )
        assert api(owner).post(f"/api/v1/exchanges/connections/{good.pk}/test/").json()["ok"] is True
        assert api(owner).post(f"/api/v1/exchanges/connections/{bad.pk}/test/").json()["ok"] is False
        response = api(member).get("/api/v1/exchanges/status/")
        body = response.json()
        assert response.status_code == 200, body
        assert (body["overall"], body["available_count"], body["total_count"]) == ("degraded", 1, 2)
        rows = {r["label"]: r for r in body["connections"]}
        assert rows["Good"]["status"] == "connected" and rows["Good"]["latency_p50_ms"] > 0
        assert rows["Good"]["last_success_at"]
        assert rows["Bad"]["status"] == "failed" and rows["Bad"]["last_error"]
        assert {e["exchange"] for e in body["exchanges"]} == {"binance", "kraken"}
        other = api(outsider).get("/api/v1/exchanges/status/").json()
        assert (other["overall"], other["connections"]) == ("no_connections", [])


def test_balances_are_cached_per_connection(api, owner, tenant, exchange_simulator):
    from exchanges.adapters.types import Credentials

    sim = exchange_simulator
    account = sim.add_account("binance", balances={"USDT": 100})
    connection = ExchangeConnectionFactory(
        tenant=tenant, api_base_url=sim.base_url, credentials=Credentials(**account.credentials())
    )
    url = f"/api/v1/exchanges/connections/{connection.pk}/balance/"
    assert api(owner).get(url).json()["assets"][0]["free"] == "100"
    served = sim.request_count(path="/api/v3/account")
    sim.deposit("binance", account.api_key, "USDT", 50)
    assert api(owner).get(url).json()["assets"][0]["free"] == "100"  # 30 s cache: no request
    assert sim.request_count(path="/api/v3/account") == served
    assert api(owner).get(url + "?fresh=true").json()["assets"][0]["free"] == "150"


def test_the_status_shows_what_the_exchange_reports(api, owner, member, tenant, exchange_simulator):
    ExchangeConnectionFactory(tenant=tenant, api_base_url=exchange_simulator.base_url)
    body = api(member).get("/api/v1/exchanges/status/").json()
    assert body["exchanges"][0]["reported_status"] == "ok"
    api(member).get("/api/v1/exchanges/status/")
    assert exchange_simulator.request_count(path="/sapi/v1/system/status") == 1  # cached 60 s
