"""Shared market data against the simulator: one request per venue per tick for everyone,
a cache readers trust while fresh, and comparisons that take as long as the slowest venue."""

import time

import pytest

from exchanges import runtime
from exchanges.tests.factories import ExchangeConnectionFactory
from tenancy.tests.factories import TenantFactory
from trading import services
from trading.market import fetch
from trading.market.demand import market_demand
from trading.market.poller import poll_venue
from trading.market.venues import Venue
from trading.models import WatchedSymbol

pytestmark = pytest.mark.django_db
SYMBOLS = ["BTC/USDT", "ETH/USDT"]


def connect(sim, tenant, exchange="binance", label=None):
    account = sim.add_account(exchange, balances={"USDT": 1000})
    from exchanges.adapters.types import Credentials

    return ExchangeConnectionFactory(
        tenant=tenant,
        exchange=exchange,
        label=label or f"{exchange} {tenant.pk}",
        api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()),
    )


def tick():
    """What beat's market_poll does, run here for every venue in use."""
    demand = market_demand()
    for venue, symbols in demand.items():
        runtime.run(poll_venue(venue, sorted(symbols), claim=False))
    return demand


def ticker_requests(sim):
    return sim.request_count(path="/api/v3/ticker/*") + sim.request_count(path="/api/v5/market/ticker*")


@pytest.mark.parametrize("tenants", [1, 25])
def test_fan_out_costs_one_request_per_venue_per_tick(exchange_simulator, tenants):
    sim = exchange_simulator
    for _ in range(tenants):
        tenant = TenantFactory()
        connect(sim, tenant, "binance")
        connect(sim, tenant, "okx")
        for symbol in SYMBOLS:
            WatchedSymbol.objects.create(tenant=tenant, symbol=symbol)
    demand = tick()  # loads markets once per venue
    assert {v.exchange: s for v, s in demand.items()} == {"binance": set(SYMBOLS), "okx": set(SYMBOLS)}
    before = ticker_requests(sim)
    tick()
    assert ticker_requests(sim) - before == 2  # one batched fetch_tickers per venue, whatever the tenants


def test_cached_prices_are_served_without_calling_the_exchange(exchange_simulator, settings):
    venue = Venue("binance", exchange_simulator.base_url)
    runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
    before = ticker_requests(exchange_simulator)
    for _ in range(5):
        ticker, fetched_at = runtime.run(fetch.ticker(venue, "BTC/USDT"))
        assert ticker.price and time.time() - fetched_at < settings.MARKET_CACHE_TTL["ticker"]
    assert ticker_requests(exchange_simulator) == before
    time.sleep(settings.MARKET_CACHE_TTL["ticker"] + 0.1)  # stale now: the next read asks the exchange
    runtime.run(fetch.ticker(venue, "BTC/USDT"))
    assert ticker_requests(exchange_simulator) == before + 1


def test_a_poll_of_a_sick_venue_is_recorded_not_raised(exchange_simulator):
    venue = Venue("okx", exchange_simulator.base_url)
    runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
    exchange_simulator.add_fault("maintenance", protocol="okx")
    result = runtime.run(poll_venue(venue, ["BTC/USDT"], claim=False))
    assert result.polled and result.error and result.symbols == 0


def test_only_one_worker_polls_a_venue_per_tick(exchange_simulator):
    venue = Venue("binance", exchange_simulator.base_url)
    first = runtime.run(poll_venue(venue, ["BTC/USDT"]))
    second = runtime.run(poll_venue(venue, ["BTC/USDT"]))
    assert (first.polled, second.polled) == (True, False)


class TestCompare:
    def test_every_connection_with_one_down(self, exchange_simulator, tenant):
        sim = exchange_simulator
        binance, okx = connect(sim, tenant, "binance"), connect(sim, tenant, "okx")
        ExchangeConnectionFactory(tenant=tenant, exchange="kraken", label="Down", api_base_url="http://127.0.0.1:9")
        ExchangeConnectionFactory(tenant=tenant, label="Disabled", enabled=False, api_base_url=sim.base_url)
        sim.set_price("BTC/USDT", 60_000, exchange="binance")
        sim.set_price("BTC/USDT", 60_500, exchange="okx")
        comparison = services.compare_prices(tenant=tenant, symbol="btc-usdt")
        rows = {r.label: r for r in comparison.rows}
        assert set(rows) == {binance.label, okx.label, "Down"}
        assert rows["Down"].status == "failed" and rows["Down"].error_code == "unreachable"
        assert rows[binance.label].status == rows[okx.label].status == "ok"
        assert comparison.best_ask.connection_id == binance.pk  # cheapest to buy
        assert comparison.best_bid.connection_id == okx.pk  # best to sell

    def test_equivalent_quotes_compare_together(self, exchange_simulator, tenant):
        tenant.equivalent_quotes = ["USD", "USDT"]
        tenant.save()
        connect(exchange_simulator, tenant, "binance")
        assert services.equivalent_symbols(tenant=tenant, symbol="BTC/USD") == ["BTC/USD", "BTC/USDT"]
        tenant.equivalent_quotes = []
        assert services.equivalent_symbols(tenant=tenant, symbol="BTC/USD") == ["BTC/USD"]

    def test_venues_are_asked_at_the_same_time(self, exchange_simulator, tenant):
        sim = exchange_simulator
        connect(sim, tenant, "binance")
        connect(sim, tenant, "okx")
        services.compare_prices(tenant=tenant, symbol="BTC/USDT")  # markets loaded
        time.sleep(1.1)  # past the cache TTL
        sim.add_fault("latency", delay=0.6)
        comparison = services.compare_prices(tenant=tenant, symbol="BTC/USDT")
        assert all(r.status == "ok" for r in comparison.rows)
        assert 600 <= comparison.took_ms < 1100  # about one venue's time, not two


class TestApi:
    def test_watchlist_and_compare(self, api, owner, member, outsider, tenant, exchange_simulator):
        connect(exchange_simulator, tenant, "binance")
        created = api(owner).post("/api/v1/market/watchlist/", {"symbol": "ethusdt"}, format="json")
        assert created.status_code == 201 and created.json()["symbol"] == "ETH/USDT"
        assert [w["symbol"] for w in api(member).get("/api/v1/market/watchlist/").json()] == ["ETH/USDT"]
        assert api(outsider).get("/api/v1/market/watchlist/").json() == []
        assert api(outsider).delete(f"/api/v1/market/watchlist/{created.json()['id']}/").status_code == 404
        assert api(member).delete(f"/api/v1/market/watchlist/{created.json()['id']}/").status_code == 403
        body = api(member).get("/api/v1/market/compare/?symbol=BTC/USDT").json()
        assert body["rows"][0]["status"] == "ok" and body["rows"][0]["best_ask"] is True
        assert body["best_ask"]["exchange"] == "binance"
        assert api(outsider).get("/api/v1/market/compare/?symbol=BTC/USDT").json()["rows"] == []

    def test_bad_symbol_is_a_400_naming_it(self, api, member):
        response = api(member).get("/api/v1/market/compare/?symbol=NOT A SYMBOL")
        assert response.status_code == 400 and "symbol" in response.json()


class TestBestPrice:
    def test_depth_beats_top_of_book_for_a_large_amount(self, api, member, tenant, exchange_simulator):
        sim = exchange_simulator
        thin = connect(sim, tenant, "binance", label="Thin but tight")
        deep = connect(sim, tenant, "okx", label="Deep but wider")
        sim.set_price("BTC/USDT", 60_000, exchange="binance")
        sim.set_price("BTC/USDT", 60_000, exchange="okx")
        sim.set_book("BTC/USDT", exchange="binance", spread_bps=1, level_notional=2_000)  # ~0.03 BTC a level
        sim.set_book("BTC/USDT", exchange="okx", spread_bps=6, level_notional=500_000)  # ~8 BTC a level
        small = services.best_price(tenant=tenant, symbol="BTC/USDT", side="buy", amount="0.01")
        assert small.best.key == Venue.of(thin).key  # the tighter top of book wins a small order
        large = services.best_price(tenant=tenant, symbol="BTC/USDT", side="buy", amount="2")
        assert large.best.key == Venue.of(deep).key  # the deep book wins once the thin one is walked
        thin_row = next(c for c in large.candidates if c.key == Venue.of(thin).key)
        assert thin_row.fill.levels_used > 10
        body = api(member).get("/api/v1/market/best-price/?symbol=BTC/USDT&side=buy&amount=2").json()
        assert body["best"]["connection_id"] == deep.pk
        assert body["best"]["label"] == "Deep but wider"

    def test_a_split_is_proposed_when_it_is_cheaper(self, tenant, exchange_simulator):
        sim = exchange_simulator
        connect(sim, tenant, "binance")
        connect(sim, tenant, "okx")
        for exchange in ("binance", "okx"):
            sim.set_price("BTC/USDT", 60_000, exchange=exchange)
            sim.set_book("BTC/USDT", exchange=exchange, spread_bps=1, level_notional=3_000)
        result = services.best_price(tenant=tenant, symbol="BTC/USDT", side="buy", amount="1")
        assert result.split is not None
        assert sum(a.amount for a in result.split.allocations) == 1
        assert result.split.effective_price < result.best.effective_price

    def test_bad_input_names_the_field(self, api, member):
        for query, field in (
            ("symbol=BTC/USDT&side=hold&amount=1", "side"),
            ("symbol=BTC/USDT&side=buy&amount=-1", "amount"),
        ):
            response = api(member).get(f"/api/v1/market/best-price/?{query}")
            assert response.status_code == 400 and field in response.json(), response.json()

    def test_an_outsider_sees_no_venue(self, api, outsider, tenant, exchange_simulator):
        connect(exchange_simulator, tenant, "binance")
        body = api(outsider).get("/api/v1/market/best-price/?symbol=BTC/USDT&side=buy&amount=1").json()
        assert body["candidates"] == [] and body["best"] is None


@pytest.mark.django_db(transaction=True)
async def test_price_updates_reach_platform_code_and_the_price_group(exchange_simulator):
    import asyncio

    from channels.layers import get_channel_layer

    from trading.market.events import subscribe_to_price_updates
    from trading.market.venues import price_group

    venue = Venue("binance", exchange_simulator.base_url)
    exchange_simulator.set_price("BTC/USDT", 61_234, exchange="binance")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(price_group(venue, "BTC/USDT"), channel)
    updates = subscribe_to_price_updates()
    first = asyncio.ensure_future(updates.__anext__())
    await asyncio.sleep(0.2)  # subscribed before the poll publishes
    await asyncio.to_thread(runtime.run, poll_venue(venue, ["BTC/USDT"], claim=False))
    update = await asyncio.wait_for(first, 10)
    assert update["venue"]["exchange"] == "binance"
    assert update["tickers"][0]["symbol"] == "BTC/USDT"
    message = await asyncio.wait_for(layer.receive(channel), 10)
    assert message["event"] == "price" and message["data"]["symbol"] == "BTC/USDT"
    assert 61_000 < float(message["data"]["price"]) < 61_500
    await updates.aclose()


@pytest.mark.django_db(transaction=True)
async def test_connection_status_changes_reach_platform_code(tenant):
    import asyncio

    from channels.db import database_sync_to_async

    from exchanges.services import connection_test
    from trading.market.events import subscribe_to_connection_events

    connection = await database_sync_to_async(ExchangeConnectionFactory)(
        tenant=tenant, exchange="kraken", label="Down", api_base_url="http://127.0.0.1:9"
    )
    events = subscribe_to_connection_events()
    first = asyncio.ensure_future(events.__anext__())
    await asyncio.sleep(0.2)
    await database_sync_to_async(connection_test)(connection=connection)
    event = await asyncio.wait_for(first, 10)
    assert (event["id"], event["tenant_id"], event["status"]) == (connection.pk, tenant.pk, "failed")
    await events.aclose()


def test_the_ticker_endpoint_reads_the_shared_cache(api, member, tenant, exchange_simulator):
    connection = connect(exchange_simulator, tenant, "binance")
    url = f"/api/v1/market/ticker/?connection={connection.pk}&symbol=BTCUSDT"
    first = api(member).get(url).json()
    served = ticker_requests(exchange_simulator)
    again = api(member).get(url).json()
    assert ticker_requests(exchange_simulator) == served  # fresh: no request to the exchange
    assert again["price"] == first["price"] and again["age_ms"] >= 0
