"""The API a user calls, all the way to the simulator over HTTP and back."""

import logging

import pytest

from exchanges.adapters import ccxt_pool
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.tasks import connection_test_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_markets():
    ccxt_pool.forget_markets()


@pytest.fixture
def binance(api, owner, exchange_simulator):
    account = exchange_simulator.add_account("binance", balances={"USDT": 25_000, "BTC": "0.5"})
    response = api(owner).post(
        "/api/v1/exchanges/connections/",
        {
            "exchange": "binance",
            "label": "Sim Binance",
            "credentials": account.credentials(),
            "api_base_url": exchange_simulator.base_url,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"], account


def test_connect_test_and_read(api, owner, member, exchange_simulator, binance):
    pk, _ = binance
    result = api(owner).post(f"/api/v1/exchanges/connections/{pk}/test/").json()
    assert result["ok"] is True and result["latency_ms"] > 0
    connection = api(member).get(f"/api/v1/exchanges/connections/{pk}/").json()
    assert connection["status"] == "connected"
    assert connection["last_error"] == ""

    balance = api(member).get(f"/api/v1/exchanges/connections/{pk}/balance/").json()
    assert {a["asset"]: a["free"] for a in balance["assets"]} == {"BTC": "0.5", "USDT": "25000"}

    exchange_simulator.set_price("BTC/USDT", 58_000, exchange="binance")
    ticker = api(member).get(f"/api/v1/market/ticker/?connection={pk}&symbol=BTCUSDT").json()
    assert ticker["symbol"] == "BTC/USDT"
    assert 57_000 < float(ticker["price"]) < 59_000
    book = api(member).get(f"/api/v1/market/orderbook/?connection={pk}&symbol=btc-usdt&limit=3").json()
    assert len(book["bids"]) == 3 and len(book["asks"]) == 3
    assert float(book["bids"][0][0]) < float(book["asks"][0][0])

    symbols = api(member).get(f"/api/v1/exchanges/connections/{pk}/symbols/").json()
    btc = next(m for m in symbols if m["symbol"] == "BTC/USDT")
    assert (btc["id"], btc["amount_precision"], btc["price_precision"]) == ("BTCUSDT", "0.00001", "0.01")
    info = api(member).get(f"/api/v1/exchanges/connections/{pk}/info/").json()
    assert info["capabilities"]["spot"] is True
    assert info["capabilities"]["futures"] is False  # the simulator lists spot markets only
    assert info["markets"] == len(symbols)


def test_unknown_symbol_at_the_exchange_is_a_400(api, member, binance):
    pk, _ = binance
    response = api(member).get(f"/api/v1/market/ticker/?connection={pk}&symbol=DOGE/EUR")
    assert response.status_code == 400
    assert "not listed" in response.json()["symbol"][0]


def test_maintenance_is_a_503_with_retry_after(api, member, exchange_simulator, binance):
    pk, _ = binance
    api(member).get(f"/api/v1/exchanges/connections/{pk}/symbols/")  # markets loaded
    exchange_simulator.add_fault("rate_limit", protocol="binance", status=429, retry_after=5, times=1)
    response = api(member).get(f"/api/v1/market/ticker/?connection={pk}&symbol=BTC/USDT")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "rate_limit"


def test_a_wrong_secret_is_saved_as_failed_by_the_task_without_a_leak(api, owner, exchange_simulator, caplog):
    account = exchange_simulator.add_account("binance", balances={"USDT": 1})
    wrong = account.credentials() | {"secret": "f" * 64}
    with caplog.at_level(logging.DEBUG):
        response = api(owner).post(
            "/api/v1/exchanges/connections/",
            {"exchange": "binance", "label": "Bad", "credentials": wrong, "api_base_url": exchange_simulator.base_url},
            format="json",
        )
        connection_test_task(response.json()["id"])  # what the worker runs after commit
    connection = ExchangeConnection.objects.get(pk=response.json()["id"])
    assert connection.status == ConnectionStatus.FAILED
    assert "Signature" in connection.last_error or "API-key" in connection.last_error
    shown = api(owner).get(f"/api/v1/exchanges/connections/{connection.pk}/").content.decode()
    for secret in ("f" * 64, account.api_key):
        assert secret not in caplog.text and secret not in shown and secret not in connection.last_error
