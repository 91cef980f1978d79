"""The real adapters over real HTTP against the exchange simulator: Binance and OKX through
ccxt, Robinhood through its own adapter. What a user would notice: balances move, orders
are found by our client order id, the exchange's refusals arrive as our errors."""

from decimal import Decimal

import pytest

from exchanges.adapters import ccxt_pool
from exchanges.adapters import errors as e
from exchanges.adapters.types import Credentials, OrderStatus, OrderType, Side
from exchanges.factory import build_adapter

QUOTE = {"binance": "USDT", "okx": "USDT", "robinhood": "USD"}
PROTOCOLS = list(QUOTE)
MARKET_CID = "5b0b7a52-62c4-4b5a-9a44-0c2a7d1c0001"  # Robinhood insists on UUIDs
LIMIT_CID = "5b0b7a52-62c4-4b5a-9a44-0c2a7d1c0002"


@pytest.fixture(autouse=True)
async def fresh_pool():
    ccxt_pool.forget_markets()
    yield
    await ccxt_pool.close_all()


def make(sim, exchange, **account_kwargs):
    quote = QUOTE[exchange]
    account = sim.add_account(exchange, balances={quote: 100_000, "BTC": 2}, **account_kwargs)
    adapter = build_adapter(exchange, Credentials(**account.credentials()), api_base_url=sim.base_url)
    return adapter, f"BTC/{quote}"


@pytest.mark.parametrize("exchange", PROTOCOLS)
async def test_full_surface(exchange_simulator, exchange):
    sim = exchange_simulator
    adapter, symbol = make(sim, exchange)
    try:
        assert (await adapter.test_connection()).ok
        markets = await adapter.load_markets()
        assert symbol in markets
        assert isinstance(markets[symbol].amount_precision, Decimal)

        sim.set_price(symbol, 61_000, exchange=exchange)
        ticker = await adapter.fetch_ticker(symbol)
        assert ticker.symbol == symbol
        assert Decimal(60_000) < ticker.price < Decimal(62_000)
        assert ticker.bid <= ticker.ask
        tickers = await adapter.fetch_tickers([symbol, f"ETH/{QUOTE[exchange]}"])
        assert set(tickers) == {symbol, f"ETH/{QUOTE[exchange]}"}

        book = await adapter.fetch_order_book(symbol, limit=5)
        assert book.bids and book.asks and book.bids[0][0] < book.asks[0][0]
        assert all(isinstance(p, Decimal) and isinstance(a, Decimal) for p, a in book.bids + book.asks)

        balance = await adapter.fetch_balance()
        assert balance.free(QUOTE[exchange]) == Decimal(100_000)

        bought = await adapter.create_order(
            symbol=symbol, side=Side.BUY, type=OrderType.MARKET, amount=Decimal("0.01"), client_order_id=MARKET_CID
        )
        assert bought.client_order_id == MARKET_CID
        found = await adapter.fetch_order(symbol=symbol, client_order_id=MARKET_CID)
        assert found.id == bought.id
        assert found.status == OrderStatus.FILLED
        assert found.filled == Decimal("0.01")
        after = await adapter.fetch_balance()
        assert Decimal("2") < after.free("BTC") <= Decimal("2.01")  # less the fee, where taken in BTC
        assert after.free(QUOTE[exchange]) < Decimal(100_000) - Decimal(600)

        resting = await adapter.create_order(
            symbol=symbol,
            side=Side.BUY,
            type=OrderType.LIMIT,
            amount=Decimal("0.01"),
            price=Decimal("30000"),
            client_order_id=LIMIT_CID,
        )
        assert resting.status == OrderStatus.OPEN
        assert [o.client_order_id for o in await adapter.fetch_open_orders(symbol)] == [LIMIT_CID]
        by_id = await adapter.fetch_order(symbol=symbol, order_id=resting.id)
        assert (by_id.price, by_id.type) == (Decimal("30000"), OrderType.LIMIT)
        canceled = await adapter.cancel_order(symbol=symbol, order_id=resting.id)
        assert canceled.id == resting.id
        assert (await adapter.fetch_order(symbol=symbol, order_id=resting.id)).status == OrderStatus.CANCELED
        assert await adapter.fetch_open_orders(symbol) == []

        closed = await adapter.fetch_closed_orders(symbol)
        assert {MARKET_CID, LIMIT_CID} <= {o.client_order_id for o in closed}
        trades = await adapter.fetch_my_trades(symbol)
        assert sum(t.amount for t in trades) == Decimal("0.01")
        assert await adapter.fetch_positions() == []
    finally:
        await adapter.close()


@pytest.mark.parametrize("exchange", ["binance", "okx"])
async def test_ohlcv(exchange_simulator, exchange):
    adapter, symbol = make(exchange_simulator, exchange)
    candles = await adapter.fetch_ohlcv(symbol, timeframe="1m", limit=10)
    assert 0 < len(candles) <= 10
    assert all(c.low <= c.open <= c.high and c.low <= c.close <= c.high for c in candles)


@pytest.mark.parametrize("exchange", PROTOCOLS)
async def test_wrong_key_and_wrong_secret_are_authentication_errors(exchange_simulator, exchange):
    adapter, _ = make(exchange_simulator, exchange)
    good = adapter.credentials
    wrong_key = Credentials(**(good.as_ccxt() | {"apiKey": good.apiKey[:-4] + "zzzz"}))
    if exchange == "robinhood":
        from exchanges.simulator.simulator import ed25519_keypair

        wrong_secret = Credentials(**(good.as_ccxt() | {"privateKey": ed25519_keypair()[0]}))
    else:
        wrong_secret = Credentials(**(good.as_ccxt() | {"secret": good.secret[:-4] + "0000"}))
    for credentials in (wrong_key, wrong_secret):
        bad = build_adapter(exchange, credentials, api_base_url=exchange_simulator.base_url)
        with pytest.raises(e.AuthenticationFailed) as caught:
            await bad.fetch_balance()
        assert credentials.secret[:8] not in str(caught.value) if credentials.secret else True
        assert caught.value.temporary is False
        result = await bad.test_connection()
        assert (result.ok, result.error_code) == (False, "authentication")
        await bad.close()


@pytest.mark.parametrize("exchange", PROTOCOLS)
async def test_unknown_symbol_is_bad_symbol(exchange_simulator, exchange):
    adapter, _ = make(exchange_simulator, exchange)
    with pytest.raises(e.BadSymbol):
        await adapter.fetch_ticker("NOPE/USDT")
    await adapter.close()


@pytest.mark.parametrize("exchange", PROTOCOLS)
async def test_5xx_is_exchange_unavailable(exchange_simulator, exchange):
    adapter, symbol = make(exchange_simulator, exchange)
    await adapter.load_markets()
    exchange_simulator.add_fault("http_error", protocol=exchange, status=503, times=1)
    with pytest.raises(e.ExchangeUnavailable) as caught:
        await adapter.fetch_ticker(symbol)
    assert caught.value.temporary is True
    assert (await adapter.fetch_ticker(symbol)).price  # the fault is over: it answers again
    await adapter.close()


@pytest.mark.parametrize("exchange", PROTOCOLS)
async def test_429_is_rate_limited_with_retry_after(exchange_simulator, exchange):
    adapter, symbol = make(exchange_simulator, exchange)
    await adapter.load_markets()
    exchange_simulator.add_fault("rate_limit", protocol=exchange, status=429, retry_after=3, times=1)
    with pytest.raises(e.RateLimited) as caught:
        await adapter.fetch_ticker(symbol)
    assert caught.value.temporary is True
    assert caught.value.retry_after == 3
    await adapter.close()


@pytest.mark.parametrize("exchange", ["binance", "okx"])
async def test_insufficient_funds(exchange_simulator, exchange):
    adapter, symbol = make(exchange_simulator, exchange)
    with pytest.raises(e.InsufficientFunds):
        await adapter.create_order(symbol=symbol, side=Side.BUY, type=OrderType.MARKET, amount=Decimal("50"))
    await adapter.close()


async def test_clock_skew_is_temporary(exchange_simulator):
    adapter, _ = make(exchange_simulator, "binance")
    await adapter.load_markets()
    exchange_simulator.add_fault("clock_skew", protocol="binance", skew=120, path="/api/v3/account")
    with pytest.raises(e.ClockSkew) as caught:
        await adapter.fetch_balance()
    assert caught.value.temporary is True


async def test_instances_and_markets_are_reused(exchange_simulator):
    sim = exchange_simulator
    first, symbol = make(sim, "binance")
    second, _ = make(sim, "binance")  # another account: another instance, same markets
    for _ in range(3):
        await first.fetch_ticker(symbol)
        await second.fetch_ticker(symbol)
    assert sim.request_count(protocol="binance", path="/api/v3/exchangeInfo") == 1
    assert sim.request_count(protocol="binance", path="/api/v3/ticker/24hr") == 6
