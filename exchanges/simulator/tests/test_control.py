"""The /_sim/ control API and the standalone server (``python -m exchanges.simulator``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from exchanges.simulator.tests.helpers import ccxt_client

ROOT = Path(__file__).resolve().parents[3]


async def test_control_api_drives_prices_accounts_faults_and_counters(sim):
    async with aiohttp.ClientSession(base_url=sim.base_url) as http:
        response = await http.post("/_sim/prices", json={"symbol": "BTC/USDT", "price": "61000", "exchange": "okx"})
        assert response.status == 200
        response = await http.post("/_sim/accounts", json={"exchange": "binance", "balances": {"USDT": "500"}})
        created = await response.json()
        assert response.status == 201 and created["balances"] == {"USDT": "500"} and created["secret"]
        response = await http.post("/_sim/faults", json={"kind": "http_error", "protocol": "binance", "times": 1})
        fault = await response.json()
        assert response.status == 201 and fault["kind"] == "http_error"

        async with ccxt_client("binance", sim.base_url, apiKey=created["api_key"], secret=created["secret"]) as binance:
            with pytest.raises(Exception, match="503"):
                await binance.fetch_time()
            assert (await binance.fetch_balance())["USDT"]["free"] == 500

        state = await (await http.get("/_sim/")).json()
        assert state["exchanges"]["okx"]["markets"]["BTC/USDT"]["price"] == "61000"
        assert state["exchanges"]["binance"]["accounts"] == 1
        counters = await (
            await http.get("/_sim/counters", params={"protocol": "binance", "path": "/api/v3/time"})
        ).json()
        assert counters["count"] == 1
        listed = await (await http.get("/_sim/accounts", params={"exchange": "binance"})).json()
        assert [a["api_key"] for a in listed] == [created["api_key"]] and "secret" not in listed[0]

        await http.post("/_sim/faults", json={"kind": "maintenance", "protocol": "okx"})
        assert len(await (await http.get("/_sim/faults")).json()) == 1
        assert (await http.delete("/_sim/faults")).status == 200
        assert await (await http.get("/_sim/faults")).json() == []
        assert (await http.post("/_sim/faults", json={"kind": "no-such-fault"})).status == 400

        assert (await http.post("/_sim/reset")).status == 200
    assert sim.request_count() == 0
    assert sim.venue("binance").accounts == {}


async def test_control_api_fills_an_order_by_hand(sim):
    account = sim.add_account("okx", balances={"USDT": "10000"})
    async with ccxt_client("okx", sim.base_url, account) as okx:
        placed = await okx.create_order("BTC/USDT", "limit", "buy", 0.1, 60000)
        async with aiohttp.ClientSession(base_url=sim.base_url) as http:
            response = await http.post(f"/_sim/orders/okx/{placed['id']}/fill", json={"amount": "0.04"})
            assert response.status == 200
            orders = await (await http.get("/_sim/orders", params={"exchange": "okx"})).json()
        order = await okx.fetch_order(placed["id"], "BTC/USDT")
    assert orders[0]["filled"] == "0.04"
    assert order["filled"] == 0.04 and order["info"]["state"] == "partially_filled"


async def test_standalone_server_prints_its_url_and_working_demo_accounts():
    process = subprocess.Popen(
        [sys.executable, "-m", "exchanges.simulator", "--port", "0", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = json.loads(process.stdout.readline())
        binance = next(a for a in started["accounts"] if a["exchange"] == "binance")
        async with ccxt_client(
            "binance", started["base_url"], apiKey=binance["api_key"], secret=binance["secret"]
        ) as ex:
            assert (await ex.fetch_balance())["USDT"]["free"] == 100000
        async with aiohttp.ClientSession(base_url=started["base_url"]) as http:
            demo = await (await http.get("/_sim/demo-accounts")).json()
            await http.post("/_sim/reset")
            after_reset = await (await http.get("/_sim/demo-accounts")).json()
        assert {a["exchange"] for a in demo} == {"binance", "okx", "robinhood"}
        assert after_reset == demo  # the same demo keys after a reset
    finally:
        process.terminate()
        process.wait(timeout=10)
