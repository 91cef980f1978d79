"""Robinhood Crypto Trading API v1, with requests signed by a real Ed25519 key made in the test."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import uuid
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchanges.simulator.robinhood.api import signed_message, verify_signature
from exchanges.simulator.tests.helpers import RobinhoodClient

TRADING = "/api/v1/crypto/trading"
MARKETDATA = "/api/v1/crypto/marketdata"


@pytest.fixture
def keypair():
    """A real key pair made here; the simulator only ever sees the public half."""
    private = Ed25519PrivateKey.generate()
    seed = base64.b64encode(private.private_bytes_raw()).decode()
    public = base64.b64encode(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    return seed, public


@pytest.fixture
def account(sim, keypair):
    return sim.add_account("robinhood", public_key=keypair[1], balances={"USD": "10000", "BTC": "0.5"})


@pytest.fixture
async def client(sim, account, keypair):
    async with RobinhoodClient(sim.base_url, account.api_key, keypair[0]) as client:
        yield client


def market_order(side: str = "buy", quantity: str = "0.01", **extra) -> dict:
    return {
        "client_order_id": str(uuid.uuid4()),
        "side": side,
        "type": "market",
        "symbol": "BTC-USD",
        "market_order_config": {"asset_quantity": quantity},
    } | extra


def limit_order(side: str, quantity: str, price: str) -> dict:
    return {
        "client_order_id": str(uuid.uuid4()),
        "side": side,
        "type": "limit",
        "symbol": "BTC-USD",
        "limit_order_config": {"asset_quantity": quantity, "limit_price": price, "time_in_force": "gtc"},
    }


def test_official_signature_test_vector():
    """Robinhood's documented example verifies (its sample client signed ``str(body)``)."""
    body = {
        "client_order_id": "131de903-5a9c-4260-abc1-28d562a5dcf0",
        "side": "buy",
        "symbol": "BTC-USD",
        "type": "market",
        "market_order_config": {"asset_quantity": "0.1"},
    }
    message = signed_message(
        "rh-api-6148effc-c0b1-486c-8940-a1d099456be6", "1698708981", f"{TRADING}/orders/", "POST", str(body)
    )
    signature = "q/nEtxp/P2Or3hph3KejBqnw5o9qeuQ+hYRnB56FaHbjDsNUY9KhB1asMxohDnzdVFSD7StaTqjSd9U9HvaRAw=="
    public_key = "jPItx4TLjcnSUnmnXQQyAKL4eJj3+oWNNMmmm2vATqk="
    assert verify_signature(public_key, signature, message)
    assert not verify_signature(public_key, signature, message + b" ")


async def test_account_and_holdings(client, account):
    status, body = await client.get(f"{TRADING}/accounts/")
    assert status == 200
    assert body == {
        "account_number": account.number,
        "status": "active",
        "buying_power": "10000",
        "buying_power_currency": "USD",
    }
    status, body = await client.get(f"{TRADING}/holdings/")
    assert status == 200 and body["next"] is None
    assert body["results"] == [
        {
            "account_number": account.number,
            "asset_code": "BTC",
            "total_quantity": "0.5",
            "quantity_available_for_trading": "0.5",
        }
    ]
    status, body = await client.get(f"{TRADING}/holdings/?asset_code=ETH")
    assert body["results"] == [
        {
            "account_number": account.number,
            "asset_code": "ETH",
            "total_quantity": "0",
            "quantity_available_for_trading": "0",
        }
    ]


async def test_trading_pairs(client):
    status, body = await client.get(f"{TRADING}/trading_pairs/?symbol=BTC-USD")
    assert status == 200
    assert body["results"] == [
        {
            "asset_code": "BTC",
            "quote_code": "USD",
            "quote_increment": "0.01",
            "asset_increment": "0.00000001",
            "max_order_size": "20",
            "min_order_size": "0.000001",
            "status": "tradable",
            "symbol": "BTC-USD",
        }
    ]
    status, body = await client.get(f"{TRADING}/trading_pairs/")
    assert [pair["symbol"] for pair in body["results"]] == ["BTC-USD", "ETH-USD"]


async def test_best_bid_ask_and_estimated_price(sim, client):
    sim.set_price("BTC/USD", 60000, exchange="robinhood")
    status, body = await client.get(f"{MARKETDATA}/best_bid_ask/?symbol=BTC-USD&symbol=ETH-USD")
    assert status == 200
    btc, eth = body["results"]
    assert (btc["symbol"], eth["symbol"]) == ("BTC-USD", "ETH-USD")
    assert btc["price"] == "60000"
    assert float(btc["bid_inclusive_of_sell_spread"]) < 60000 < float(btc["ask_inclusive_of_buy_spread"])
    assert btc["buy_spread"] == "0.0015"  # Robinhood's spread is its fee

    status, body = await client.get(f"{MARKETDATA}/estimated_price/?symbol=BTC-USD&side=ask&quantity=0.1,5")
    assert status == 200
    small, large = body["results"]
    assert small["side"] == "ask" and small["quantity"] == "0.1"
    assert float(large["price"]) > float(small["price"])  # a large buy walks the book


async def test_market_order(client):
    order = market_order()
    status, body = await client.post(f"{TRADING}/orders/", order)
    assert status == 201
    assert body["client_order_id"] == order["client_order_id"]
    assert body["state"] == "filled" and body["filled_asset_quantity"] == "0.01"
    assert body["market_order_config"] == {"asset_quantity": "0.01"}
    assert len(body["executions"]) == 1 and float(body["average_price"]) > 65000

    status, fetched = await client.get(f"{TRADING}/orders/{body['id']}/")
    assert status == 200 and fetched == body
    status, holdings = await client.get(f"{TRADING}/holdings/?asset_code=BTC")
    assert holdings["results"][0]["total_quantity"] == "0.51"  # no fee on top of the spread


async def test_client_order_id_is_an_idempotency_key(sim, client):
    order = market_order()
    first = await client.post(f"{TRADING}/orders/", order)
    second = await client.post(f"{TRADING}/orders/", order)
    assert first == second
    assert len(sim.orders("robinhood")) == 1


async def test_limit_order_lifecycle_and_filters(sim, client):
    _, resting = await client.post(f"{TRADING}/orders/", limit_order("buy", "0.1", "60000.00"))
    _, filled = await client.post(f"{TRADING}/orders/", market_order("sell", "0.05"))
    assert resting["state"] == "open"

    _, page = await client.get(f"{TRADING}/orders/?state=open")
    assert [o["id"] for o in page["results"]] == [resting["id"]]
    _, page = await client.get(f"{TRADING}/orders/?side=sell&symbol=BTC-USD")
    assert [o["id"] for o in page["results"]] == [filled["id"]]
    _, page = await client.get(f"{TRADING}/orders/?id={resting['id']}")
    assert [o["client_order_id"] for o in page["results"]] == [resting["client_order_id"]]
    _, account = await client.get(f"{TRADING}/accounts/")
    assert float(account["buying_power"]) < 10000 - 6000 + 3300  # the open buy holds 6000

    status, text = await client.post(f"{TRADING}/orders/{resting['id']}/cancel/")
    assert status == 200 and text == f"Cancel request was submitted for order {resting['id']}"
    _, canceled = await client.get(f"{TRADING}/orders/{resting['id']}/")
    assert canceled["state"] == "canceled"
    status, body = await client.post(f"{TRADING}/orders/{resting['id']}/cancel/")
    assert status == 400 and body["type"] == "validation_error"


async def test_created_at_filter_and_pagination(client):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    for _ in range(3):
        await client.post(f"{TRADING}/orders/", market_order(quantity="0.001"))
    start = quote(before.isoformat().replace("+00:00", "Z"))
    status, page = await client.get(f"{TRADING}/orders/?created_at_start={start}&limit=2")
    assert status == 200 and len(page["results"]) == 2 and page["next"]
    next_path = page["next"].removeprefix(client.base_url)
    _, rest = await client.get(next_path)  # the next link is signed like any other path
    assert len(rest["results"]) == 1 and rest["next"] is None
    _, none = await client.get(f"{TRADING}/orders/?created_at_end={start}")
    assert none["results"] == []


async def test_stop_loss_order_triggers(sim, client):
    order = {
        "client_order_id": str(uuid.uuid4()),
        "side": "sell",
        "type": "stop_loss",
        "symbol": "BTC-USD",
        "stop_loss_order_config": {"asset_quantity": "0.1", "stop_price": "60000.00", "time_in_force": "gtc"},
    }
    _, placed = await client.post(f"{TRADING}/orders/", order)
    assert placed["state"] == "open" and placed["type"] == "stop_loss"
    sim.set_price("BTC/USD", 59000, exchange="robinhood")
    _, triggered = await client.get(f"{TRADING}/orders/{placed['id']}/")
    assert triggered["state"] == "filled" and float(triggered["average_price"]) < 59000


async def test_validation_errors(client):
    status, body = await client.post(f"{TRADING}/orders/", market_order(quantity="5"))
    assert status == 400
    assert body == {
        "type": "validation_error",
        "errors": [{"detail": "Insufficient buying power.", "attr": "non_field_errors"}],
    }
    status, body = await client.post(f"{TRADING}/orders/", market_order(symbol="DOGE-USD"))
    assert status == 400 and body["errors"][0]["attr"] == "symbol"
    status, body = await client.post(f"{TRADING}/orders/", market_order(quantity="0.000000001"))
    assert status == 400 and body["errors"][0]["attr"] == "asset_quantity"
    order = market_order()
    del order["client_order_id"]
    status, body = await client.post(f"{TRADING}/orders/", order)
    assert status == 400 and body["errors"][0]["attr"] == "client_order_id"
    status, body = await client.get(f"{TRADING}/orders/{uuid.uuid4()}/")
    assert status == 404 and body["type"] == "client_error"


async def test_wrong_signature_is_401(sim, account, client):
    other_key = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    async with RobinhoodClient(sim.base_url, account.api_key, other_key) as impostor:
        status, body = await impostor.get(f"{TRADING}/accounts/")
    assert status == 401
    assert body == {"type": "client_error", "errors": [{"detail": "Failed to verify signature.", "attr": None}]}

    # a valid signature over a different body does not place the order
    order = market_order()
    headers = client.headers("POST", f"{TRADING}/orders/", json.dumps(market_order(quantity="0.02")))
    status, _ = await client.post(f"{TRADING}/orders/", order, headers=headers)
    assert status == 401
    assert sim.orders("robinhood") == []


async def test_unknown_key_expired_timestamp_and_missing_headers(sim, account, keypair):
    async with RobinhoodClient(sim.base_url, "rh-api-unknown", keypair[0]) as stranger:
        status, body = await stranger.get(f"{TRADING}/accounts/")
    assert status == 401 and body["errors"][0]["detail"] == "Invalid API key."
    async with RobinhoodClient(sim.base_url, account.api_key, keypair[0], clock_offset=-45) as late:
        status, body = await late.get(f"{TRADING}/accounts/")
    assert status == 401 and "Timestamp" in body["errors"][0]["detail"]
    async with RobinhoodClient(sim.base_url, account.api_key, keypair[0]) as client:
        response = await client.session.get(f"{sim.base_url}{TRADING}/accounts/")  # unsigned
        assert response.status == 400
        assert "Request missing required headers" in await response.text()


async def test_deactivated_account_is_403(sim, account, client):
    account.status = "deactivated"
    status, body = await client.get(f"{TRADING}/accounts/")
    assert status == 403 and body["type"] == "client_error"


async def test_faults_and_counters(sim, client):
    sim.add_fault("rate_limit", protocol="robinhood", times=1, retry_after=5)
    status, body = await client.get(f"{MARKETDATA}/best_bid_ask/?symbol=BTC-USD")
    assert status == 429 and "Expected available in 5 seconds" in body["errors"][0]["detail"]
    sim.add_fault("maintenance", protocol="robinhood", times=1)
    status, body = await client.get(f"{TRADING}/accounts/")
    assert status == 503 and body["type"] == "server_error"
    status, _ = await client.get(f"{TRADING}/accounts/")
    assert status == 200
    assert sim.request_count("robinhood") == 3
    assert sim.request_count("robinhood", f"{TRADING}/accounts/", "GET") == 2


async def test_timeout_after_accept_then_found_by_client_order_id(sim, client):
    sim.add_fault("timeout_after_accept", protocol="robinhood", delay=1.5, times=1)
    order = market_order()
    with pytest.raises(asyncio.TimeoutError):
        await client.post(f"{TRADING}/orders/", order, timeout=0.3)
    _, page = await client.get(f"{TRADING}/orders/?symbol=BTC-USD")
    matches = [o for o in page["results"] if o["client_order_id"] == order["client_order_id"]]
    assert [o["state"] for o in matches] == ["filled"]


async def test_reported_late(sim, client):
    sim.add_fault("late_visibility", protocol="robinhood", delay=0.5, times=1)
    status, placed = await client.post(f"{TRADING}/orders/", limit_order("buy", "0.01", "60000.00"))
    assert status == 201
    status, _ = await client.get(f"{TRADING}/orders/{placed['id']}/")
    assert status == 404
    await asyncio.sleep(0.6)
    status, found = await client.get(f"{TRADING}/orders/{placed['id']}/")
    assert status == 200 and found["state"] == "open"
