"""A guard whose breaker check is made by the call's first request, in the same Redis script
as that request's budget (ccxt adapters): a real ccxt binance instance against the exchange
simulator, real Redis."""

from __future__ import annotations

import asyncio

import ccxt.async_support as ccxt_async
import pytest

from exchanges.adapters.ccxt_pool import rewrite_urls
from exchanges.adapters.errors import BadSymbol, ExchangeConnectionError
from exchanges.resilience import breaker as breaker_module
from exchanges.resilience import health
from exchanges.resilience import ratelimit as ratelimit_module
from exchanges.resilience.breaker import CircuitOpen
from exchanges.resilience.ccxt_budget import install_on_ccxt
from exchanges.resilience.guard import guarded
from exchanges.resilience.ratelimit import RateLimiter

VENUE, CONN = "venue:binance:sim", "conn:7"


@pytest.fixture
def breaker(prefix, settings):
    settings.CIRCUIT_BREAKER_FAILURES = 2
    settings.CIRCUIT_BREAKER_OPEN_SECONDS = 0.3
    return breaker_module.breaker  # the default one: settings' prefix and Redis


@pytest.fixture
async def exchange(prefix, exchange_simulator):
    instance = ccxt_async.binance({"options": {"defaultType": "spot"}})
    instance.urls["api"] = rewrite_urls(instance.urls["api"], exchange_simulator.base_url)
    install_on_ccxt(instance, limiter=RateLimiter(prefix=prefix), public_key=VENUE, rate=1000, capacity=1000)
    await instance.load_markets()
    yield instance
    await instance.close()


@pytest.fixture
def scripts(monkeypatch):
    """How often each resilience script runs (each is one Redis round trip)."""
    counts: dict[str, int] = {}
    for module, name in ((breaker_module, "_BEFORE_CALL"), (ratelimit_module, "_ACQUIRE"),
                         (ratelimit_module, "_CHECK_AND_ACQUIRE")):  # fmt: skip
        script = getattr(module, name)

        async def counted(client, keys, args, _script=script, _name=name):
            counts[_name] = counts.get(_name, 0) + 1
            return await _script(client, keys, args)

        monkeypatch.setattr(module, name, counted)
    return counts


async def _open(breaker) -> None:
    for _ in range(2):
        await breaker.record_failure(VENUE, ExchangeConnectionError("down", exchange="binance"))
    assert (await breaker.state(VENUE))["state"] == "open"


async def test_the_check_and_the_budget_take_one_round_trip(breaker, exchange, exchange_simulator, scripts):
    before = exchange_simulator.request_count(path="/api/v3/ticker/24hr")
    async with guarded(VENUE, CONN, check_on_first_request=True) as guard:
        ticker = await exchange.fetch_ticker("BTC/USDT")
    assert ticker["symbol"] == "BTC/USDT"
    assert exchange_simulator.request_count(path="/api/v3/ticker/24hr") == before + 1
    assert scripts == {"_CHECK_AND_ACQUIRE": 1}  # not _BEFORE_CALL, then _ACQUIRE
    assert guard.latency_ms is not None
    assert (await health.summary(CONN))["samples"] == 1  # the outcome is recorded as before


async def test_an_open_circuit_refuses_before_any_request_and_takes_no_budget(breaker, exchange,
                                                                              exchange_simulator, prefix):  # fmt: skip
    await _open(breaker)
    before = exchange_simulator.request_count(protocol="binance")
    budget_before = await RateLimiter(prefix=prefix).state(VENUE)
    with pytest.raises(CircuitOpen) as refused:
        async with guarded(VENUE, CONN, check_on_first_request=True):
            await exchange.fetch_ticker("BTC/USDT")
    assert refused.value.retry_after > 0
    assert exchange_simulator.request_count(protocol="binance") == before
    budget = await RateLimiter(prefix=prefix).state(VENUE)
    assert budget["requests_last_minute"] == budget_before["requests_last_minute"]
    assert (await breaker.state(VENUE))["state"] == "open"


async def test_the_check_tells_which_breakers_a_success_must_reset(breaker, exchange):
    await breaker.record_failure(CONN, ExchangeConnectionError("down", exchange="binance"))
    async with guarded(VENUE, CONN, check_on_first_request=True) as guard:
        await exchange.fetch_ticker("BTC/USDT")
        assert guard.dirty == [CONN]  # the venue has no record: nothing to reset there
    assert (await breaker.state(CONN))["failures"] == 0  # reset at once, not with the health batch


async def test_the_half_open_probe_goes_out_with_the_first_request(breaker, exchange, exchange_simulator):
    await _open(breaker)
    await asyncio.sleep(0.35)
    async with guarded(VENUE, CONN, check_on_first_request=True) as guard:
        assert guard.probes == []  # nothing asked yet
        await exchange.fetch_ticker("BTC/USDT")
        assert guard.probes == [VENUE]  # this call is the probe
        with pytest.raises(CircuitOpen):  # anyone else is still refused meanwhile
            async with guarded(VENUE, check_on_first_request=True):
                await exchange.fetch_ticker("ETH/USDT")
    assert (await breaker.state(VENUE))["state"] == "closed"  # its success closed the circuit


async def test_requests_of_one_call_share_its_one_check(breaker, exchange, exchange_simulator, scripts):
    async with guarded(VENUE, CONN, check_on_first_request=True):
        await asyncio.gather(*(exchange.fetch_ticker(symbol) for symbol in ("BTC/USDT", "ETH/USDT", "BTC/USDT")))
    assert scripts == {"_CHECK_AND_ACQUIRE": 1, "_ACQUIRE": 2}

    await _open(breaker)
    scripts.clear()
    with pytest.raises(CircuitOpen):
        async with guarded(VENUE, CONN, check_on_first_request=True):
            await asyncio.gather(*(exchange.fetch_ticker("BTC/USDT") for _ in range(3)))
    assert scripts == {"_CHECK_AND_ACQUIRE": 1}  # the others waited for its verdict, then were refused too


async def test_a_call_that_sends_nothing_records_nothing(breaker, exchange_simulator):
    await _open(breaker)
    with pytest.raises(BadSymbol):  # refused before any request: not the circuit's business
        async with guarded(VENUE, CONN, check_on_first_request=True):
            raise BadSymbol("NOPE/USDT is not listed", exchange="binance")
    assert (await breaker.state(VENUE))["state"] == "open"  # not closed by a "success"
    assert (await health.summary(CONN))["samples"] == 0
