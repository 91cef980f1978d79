"""Scripted faults, seen through ccxt the way the platform's adapters will see them."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import ccxt.async_support as ccxt
import pytest

from exchanges.simulator.tests.helpers import ccxt_client

BTC = "BTC/USDT"


@pytest.fixture
def binance_account(sim):
    return sim.add_account("binance", balances={"USDT": "100000", "BTC": "1"})


@pytest.fixture
def okx_account(sim):
    return sim.add_account("okx", balances={"USDT": "100000", "BTC": "1"})


@pytest.mark.parametrize(("status", "error"), [(500, ccxt.ExchangeNotAvailable), (502, ccxt.ExchangeNotAvailable)])
@pytest.mark.parametrize("exchange_id", ["binance", "okx"])
async def test_5xx_is_exchange_not_available(sim, exchange_id, status, error):
    async with ccxt_client(exchange_id, sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("http_error", protocol=exchange_id, status=status, times=1)
        with pytest.raises(error, match=str(status)):
            await exchange.fetch_ticker(BTC)
        ticker = await exchange.fetch_ticker(BTC)  # used up after one request
    assert ticker["last"] == 65000


async def test_504_is_a_request_timeout(sim):
    async with ccxt_client("binance", sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("http_error", protocol="binance", status=504, times=1)
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.fetch_ticker(BTC)


async def test_binance_429_and_418_with_retry_after(sim):
    async with ccxt_client("binance", sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("rate_limit", protocol="binance", path="/api/v3/ticker/24hr", times=1, retry_after=7)
        with pytest.raises(ccxt.DDoSProtection, match="429"):
            await exchange.fetch_ticker(BTC)
        assert exchange.last_response_headers["Retry-After"] == "7"
        sim.add_fault("rate_limit", protocol="binance", status=418, times=1, retry_after=120)
        with pytest.raises(ccxt.DDoSProtection, match="IP banned until"):
            await exchange.fetch_ticker(BTC)


async def test_okx_429_is_rate_limit_exceeded(sim):
    async with ccxt_client("okx", sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("rate_limit", protocol="okx", times=1, retry_after=2)
        with pytest.raises(ccxt.RateLimitExceeded, match="50011"):
            await exchange.fetch_ticker(BTC)


@pytest.mark.parametrize("exchange_id", ["binance", "okx"])
async def test_maintenance(sim, exchange_id):
    async with ccxt_client(exchange_id, sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("maintenance", protocol=exchange_id)
        for _ in range(2):  # until cleared
            with pytest.raises(ccxt.OnMaintenance):
                await exchange.fetch_order_book(BTC)
        sim.clear_faults()
        await exchange.fetch_order_book(BTC)


async def test_binance_system_status_reports_maintenance(sim):
    async with ccxt_client("binance", sim.base_url) as exchange:
        assert (await exchange.fetch_status())["status"] == "ok"
        sim.add_fault("maintenance", protocol="binance")
        assert (await exchange.fetch_status())["status"] == "maintenance"


@pytest.mark.parametrize(("exchange_id", "code"), [("binance", "-1021"), ("okx", "50102")])
async def test_clock_skew_is_invalid_nonce(sim, binance_account, okx_account, exchange_id, code):
    account = binance_account if exchange_id == "binance" else okx_account
    async with ccxt_client(exchange_id, sim.base_url, account) as exchange:
        await exchange.load_markets()
        sim.add_fault("clock_skew", protocol=exchange_id, skew=60)  # the exchange's clock is a minute ahead
        with pytest.raises(ccxt.InvalidNonce, match=code):
            await exchange.fetch_balance()


async def test_clock_skew_is_survivable_by_adjusting_to_server_time(sim, binance_account):
    sim.add_fault("clock_skew", protocol="binance", skew=60)
    async with ccxt_client("binance", sim.base_url, binance_account) as exchange:
        await exchange.load_time_difference()  # reads the skewed /api/v3/time
        balance = await exchange.fetch_balance()
    assert balance["USDT"]["free"] == 100000


async def test_latency_delays_the_answer(sim):
    async with ccxt_client("binance", sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("latency", protocol="binance", path="/api/v3/depth", delay=0.3, times=1)
        started = time.perf_counter()
        await exchange.fetch_order_book(BTC)
        slow = time.perf_counter() - started
        started = time.perf_counter()
        await exchange.fetch_order_book(BTC)
        fast = time.perf_counter() - started
    assert slow >= 0.3 > fast


async def test_fault_targets_path_and_method(sim, binance_account):
    async with ccxt_client("binance", sim.base_url, binance_account) as exchange:
        await exchange.load_markets()
        sim.add_fault("http_error", protocol="binance", path="/api/v3/order", method="POST", status=503)
        await exchange.fetch_ticker(BTC)  # other paths are fine
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await exchange.create_order(BTC, "market", "buy", 0.01)
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order("1", BTC)  # GET /api/v3/order is not faulted
    assert sim.orders("binance") == []


@pytest.mark.parametrize("exchange_id", ["binance", "okx"])
async def test_timeout_after_accept_leaves_the_order_in_place(sim, binance_account, okx_account, exchange_id):
    account = binance_account if exchange_id == "binance" else okx_account
    async with ccxt_client(exchange_id, sim.base_url, account, timeout=400) as exchange:
        await exchange.load_markets()
        sim.add_fault("timeout_after_accept", protocol=exchange_id, delay=1.5, times=1)
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"clientOrderId": "lost0001"})
        found = await exchange.fetch_order(None, BTC, {"clientOrderId": "lost0001"})
    assert found["status"] == "open" and found["clientOrderId"] == "lost0001"
    assert len(sim.orders(exchange_id)) == 1


async def test_connection_dropped_after_accept(sim, binance_account):
    async with ccxt_client("binance", sim.base_url, binance_account) as exchange:
        await exchange.load_markets()
        sim.add_fault("drop_after_accept", protocol="binance", times=1)
        with pytest.raises(ccxt.NetworkError):
            await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "drop0001"})
        found = await exchange.fetch_order(None, BTC, {"clientOrderId": "drop0001"})
    assert found["status"] == "closed" and found["filled"] == 0.01


async def test_order_faults_are_used_only_by_order_placement(sim, binance_account):
    sim.add_fault("drop_after_accept", protocol="binance", times=1)
    async with ccxt_client("binance", sim.base_url, binance_account) as exchange:
        await exchange.load_markets()
        await exchange.fetch_balance()  # not an order: the fault waits
        with pytest.raises(ccxt.InsufficientFunds):
            await exchange.create_order(BTC, "market", "buy", 5)  # refused: no order, the fault still waits
        assert len(sim.faults.active()) == 1
        with pytest.raises(ccxt.NetworkError):
            await exchange.create_order(BTC, "market", "buy", 0.01)
    assert sim.faults.active() == []


@pytest.mark.parametrize("exchange_id", ["binance", "okx"])
async def test_reported_late(sim, binance_account, okx_account, exchange_id):
    account = binance_account if exchange_id == "binance" else okx_account
    async with ccxt_client(exchange_id, sim.base_url, account) as exchange:
        await exchange.load_markets()
        sim.add_fault("late_visibility", protocol=exchange_id, delay=0.6, times=1)
        placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"clientOrderId": "late0001"})
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order(placed["id"], BTC)
        assert await exchange.fetch_open_orders(BTC) == []
        await asyncio.sleep(0.7)
        found = await exchange.fetch_order(None, BTC, {"clientOrderId": "late0001"})
        assert [o["id"] for o in await exchange.fetch_open_orders(BTC)] == [placed["id"]]
    assert found["id"] == placed["id"]


async def test_times_limits_a_fault_and_counts_every_request(sim):
    async with ccxt_client("binance", sim.base_url) as exchange:
        await exchange.load_markets()
        sim.add_fault("http_error", protocol="binance", path="/api/v3/ticker/*", times=2)
        for _ in range(2):
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await exchange.fetch_ticker(BTC)
        await exchange.fetch_ticker(BTC)
    assert sim.request_count("binance", "/api/v3/ticker/24hr") == 3
    assert sim.request_count("binance", "/api/v3/ticker/*", "GET") == 3
    assert sim.request_count("okx") == 0
    assert sim.faults.active() == []


async def test_faults_of_one_protocol_leave_the_others_alone(sim):
    sim.add_fault("maintenance", protocol="okx")
    async with ccxt_client("binance", sim.base_url) as exchange:
        assert (await exchange.fetch_ticker(BTC))["last"] == 65000


async def test_retry_after_reaches_a_plain_http_client(sim):
    sim.add_fault("rate_limit", protocol="okx", retry_after=3)
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{sim.base_url}/api/v5/market/ticker?instId=BTC-USDT")
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
        assert await response.json() == {"msg": "Too Many Requests", "code": "50011"}
