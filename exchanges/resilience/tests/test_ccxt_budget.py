"""A real ccxt binance instance against the exchange simulator, paying the shared budget."""

from __future__ import annotations

import asyncio
import time

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from exchanges.adapters.ccxt_pool import rewrite_urls
from exchanges.resilience.ccxt_budget import install_on_ccxt, is_signed, retry_after_seconds
from exchanges.resilience.ratelimit import RateLimiter

VENUE, API_KEY = "venue:binance:sim", "apikey:binance:0123456789abcdef"


class RecordingLimiter(RateLimiter):
    """The real limiter, noting which budget paid what."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.paid: list[tuple[str, float]] = []

    async def acquire(self, key, cost=1.0, **kwargs):
        self.paid.append((key, cost))
        return await super().acquire(key, cost, **kwargs)

    async def acquire_all(self, keys, cost=1.0, **kwargs):
        self.paid.extend((key, cost) for key in keys)
        return await super().acquire_all(keys, cost, **kwargs)


@pytest.fixture
async def close_exchanges():
    made: list = []
    yield made
    for exchange in made:
        await exchange.close()


async def test_signed_endpoints_are_told_from_public_ones():
    exchange = ccxt_async.binance({"apiKey": "k3y", "secret": "s3cret"})
    try:
        assert is_signed(exchange, "account", ["private"], "GET", {})
        assert is_signed(exchange, "capital/config/getall", ["sapi"], "GET", {})  # not named private
        assert is_signed(exchange, "historicalTrades", ["public"], "GET", {})  # key header, no signature
        assert not is_signed(exchange, "system/status", ["sapi"], "GET", {})
        assert not is_signed(exchange, "ticker/24hr", ["public"], "GET", {"symbol": "BTCUSDT"})
        assert not is_signed(exchange, "exchangeInfo", ["fapiPublic"], "GET", {})
    finally:
        await exchange.close()


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after_seconds({"Content-Type": "application/json"}) is None
    assert retry_after_seconds(None) is None


async def test_every_request_pays_its_ccxt_cost_from_the_budget(prefix, exchange_simulator, close_exchanges):
    sim = exchange_simulator
    limiter = RecordingLimiter(prefix=prefix)
    exchange = ccxt_async.binance({"options": {"defaultType": "spot"}})
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], sim.base_url)
    close_exchanges.append(exchange)
    install_on_ccxt(exchange, limiter=limiter, public_key=VENUE, private_key=API_KEY, rate=5, capacity=1)

    started = time.monotonic()
    await exchange.load_markets()  # three requests: spot, linear and inverse exchangeInfo
    await asyncio.gather(*(exchange.fetch_ticker("BTC/USDT") for _ in range(20)))
    elapsed = time.monotonic() - started

    assert sim.request_count(protocol="binance") == len(limiter.paid) == 3 + 20  # each paid, none retried
    assert {key for key, _ in limiter.paid} == {VENUE}  # no credentials: all public
    ticker_cost = exchange.calculate_rate_limiter_cost(
        ["public"], "GET", "ticker/24hr", {"symbol": "BTCUSDT"}, exchange.api["public"]["get"]["ticker/24hr"]
    )
    assert [cost for _, cost in limiter.paid[3:]] == [ticker_cost] * 20
    total = sum(cost for _, cost in limiter.paid)
    expected = (total - 1) / 5  # the capacity at once, the rest at 5 units/s
    assert expected > 2
    assert expected - 0.1 <= elapsed <= expected + 0.8
    assert (await limiter.state(VENUE))["cost_last_minute"] == pytest.approx(total)


async def test_signed_requests_pay_from_the_api_keys_budget(prefix, exchange_simulator, close_exchanges):
    sim = exchange_simulator
    account = sim.add_account("binance", balances={"USDT": 1000})
    limiter = RecordingLimiter(prefix=prefix)
    exchange = ccxt_async.binance({**account.credentials(), "options": {"defaultType": "spot"}})
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], sim.base_url)
    close_exchanges.append(exchange)
    install_on_ccxt(exchange, limiter=limiter, public_key=VENUE, private_key=API_KEY)
    assert exchange.throttle is not type(exchange).throttle  # ccxt's own limiter is off

    await exchange.load_markets()
    public_before = sum(1 for key, _ in limiter.paid if key == VENUE)
    balance = await exchange.fetch_balance()
    await exchange.fetch_ticker("BTC/USDT")

    assert balance["free"]["USDT"] == 1000
    private = [key for key, _ in limiter.paid if key == API_KEY]
    assert len(private) == sim.request_count(path="/api/v3/account") + sim.request_count(path="/sapi/*")
    assert len(private) >= 1
    assert sum(1 for key, _ in limiter.paid if key == VENUE) == public_before + 1
    assert len(limiter.paid) == sim.request_count(protocol="binance")


async def test_a_429_pauses_the_budget_for_every_caller(prefix, exchange_simulator, close_exchanges):
    sim = exchange_simulator
    limiter = RateLimiter(prefix=prefix)
    first, second = (ccxt_async.binance({"options": {"defaultType": "spot"}}) for _ in range(2))  # two workers
    for exchange in (first, second):
        exchange.urls["api"] = rewrite_urls(exchange.urls["api"], sim.base_url)
        close_exchanges.append(exchange)
        install_on_ccxt(exchange, limiter=limiter, public_key=VENUE, rate=50)
    await first.load_markets()
    second.set_markets_from_exchange(first)

    sim.add_fault("rate_limit", protocol="binance", status=429, retry_after=2, times=1)
    with pytest.raises(ccxt.DDoSProtection):
        await first.fetch_ticker("BTC/USDT")
    state = await limiter.state(VENUE)
    assert state["paused_until"] == pytest.approx(time.time() + 2, abs=0.3)
    assert state["rate"] == 25  # and slower for a while

    started = time.monotonic()
    ticker = await second.fetch_ticker("BTC/USDT")
    assert 1.7 <= time.monotonic() - started <= 2.5
    assert ticker["last"] > 0
    assert sim.request_count(path="/api/v3/ticker/24hr") == 2  # nothing was sent into the pause


async def test_on_ip_weighted_exchanges_signed_requests_pay_both_budgets(prefix, exchange_simulator, close_exchanges):
    sim = exchange_simulator
    account = sim.add_account("binance", balances={"USDT": 1000})
    limiter = RecordingLimiter(prefix=prefix)
    exchange = ccxt_async.binance({**account.credentials(), "options": {"defaultType": "spot"}})
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], sim.base_url)
    close_exchanges.append(exchange)
    install_on_ccxt(exchange, limiter=limiter, public_key=VENUE, private_key=API_KEY, signed_pays_public=True)
    await exchange.load_markets()
    limiter.paid.clear()
    await exchange.fetch_balance()
    account_cost = [cost for key, cost in limiter.paid if key == API_KEY]
    assert account_cost and [cost for key, cost in limiter.paid if key == VENUE] == account_cost
