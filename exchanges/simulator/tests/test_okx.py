"""ccxt's real okx client against the simulator (v5 API, signed with key, secret and passphrase)."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from exchanges.simulator.tests.helpers import ccxt_client

BTC = "BTC/USDT"


@pytest.fixture
def account(sim):
    return sim.add_account("okx", balances={"USDT": "50000", "BTC": "1"})


async def test_load_markets_and_currencies(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        markets = await exchange.load_markets()

    assert {"BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD", "SOL/USDT", "OP/USDT"} <= set(markets)
    assert len(markets) == 22
    assert markets[BTC]["id"] == "BTC-USDT"
    assert markets[BTC]["precision"] == {"amount": 1e-08, "price": 0.1}
    assert markets[BTC]["limits"]["amount"]["min"] == 0.00001
    # spot, futures, swap and two option underlyings; then the private currency list
    assert sim.request_count("okx", "/api/v5/public/instruments") == 5
    assert sim.request_count("okx", "/api/v5/asset/currencies") == 1


async def test_public_market_data(sim):
    sim.set_price(BTC, 61000.3, exchange="okx")
    async with ccxt_client("okx", sim.base_url) as exchange:
        ticker = await exchange.fetch_ticker(BTC)
        tickers = await exchange.fetch_tickers()
        book = await exchange.fetch_order_book(BTC, limit=5)
        candles = await exchange.fetch_ohlcv(BTC, "15m", limit=10)
        server_time = await exchange.fetch_time()

    assert ticker["last"] == 61000.3
    assert tickers[BTC]["last"] == 61000.3 and "ETH/USDT" in tickers
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] == ticker["bid"] < ticker["ask"] == book["asks"][0][0]
    assert len(candles) == 10 and candles[-1][4] == 61000.3
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)
    assert server_time > 0


async def test_prices_differ_per_exchange(sim):
    sim.set_price(BTC, 60000, exchange="okx")
    sim.set_price(BTC, 60100, exchange="binance")
    async with ccxt_client("okx", sim.base_url) as okx, ccxt_client("binance", sim.base_url) as binance:
        assert (await okx.fetch_ticker(BTC))["last"] == 60000
        assert (await binance.fetch_ticker(BTC))["last"] == 60100


async def test_balance(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        await exchange.create_order(BTC, "limit", "sell", 0.25, 70000)
        balance = await exchange.fetch_balance()

    assert balance["BTC"] == {"free": 0.75, "used": 0.25, "total": 1.0}
    assert balance["USDT"]["free"] == 50000


async def test_market_order_and_fee(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "market", "buy", 0.1)
        order = await exchange.fetch_order(placed["id"], BTC)
        trades = await exchange.fetch_my_trades(BTC)

    assert order["status"] == "closed" and order["filled"] == 0.1
    assert order["fee"] == {"cost": 0.0001, "currency": "BTC"}  # OKX reports it negative; ccxt flips it
    assert order["average"] > 65000
    assert trades[0]["order"] == placed["id"] and trades[0]["takerOrMaker"] == "taker"
    async with ccxt_client("okx", sim.base_url) as exchange:
        public = await exchange.fetch_trades(BTC)
    assert [(t["side"], t["amount"]) for t in public] == [("buy", 0.1)]
    assert sim.request_count("okx", "/api/v5/trade/batch-orders", "POST") == 1


async def test_limit_order_by_client_order_id(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "buy", 0.1, 60000.5, {"clientOrderId": "plat0001"})
        by_client_id = await exchange.fetch_order(None, BTC, {"clientOrderId": "plat0001"})
        open_orders = await exchange.fetch_open_orders(BTC)
        await exchange.cancel_order(placed["id"], BTC)
        canceled = await exchange.fetch_order(placed["id"], BTC)
        history = await exchange.fetch_canceled_orders(BTC)

    assert placed["clientOrderId"] == "plat0001"
    assert by_client_id["id"] == placed["id"] and by_client_id["status"] == "open"
    assert by_client_id["price"] == 60000.5
    assert [o["id"] for o in open_orders] == [placed["id"]]
    assert canceled["status"] == "canceled"
    assert [o["id"] for o in history] == [placed["id"]]


async def test_closed_orders_are_the_filled_ones(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        filled = await exchange.create_order(BTC, "market", "sell", 0.01)
        resting = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
        await exchange.cancel_order(resting["id"], BTC)
        closed = await exchange.fetch_closed_orders(BTC)

    assert [o["id"] for o in closed] == [filled["id"]]


async def test_post_only_that_would_take_is_canceled(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 70000, {"postOnly": True})
        order = await exchange.fetch_order(placed["id"], BTC)
    assert order["status"] == "canceled" and order["filled"] == 0


async def test_insufficient_balance_is_51008(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.InsufficientFunds, match="51008"):
            await exchange.create_order(BTC, "limit", "buy", 1, 60000)


async def test_lot_size_and_minimum(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        await exchange.load_markets()
        with pytest.raises(ccxt.InvalidOrder, match="51020"):
            await exchange.private_post_trade_order(
                {
                    "instId": "BTC-USDT",
                    "tdMode": "cash",
                    "side": "buy",
                    "ordType": "limit",
                    "sz": "0.000001",
                    "px": "60000",
                }
            )


async def test_unknown_instrument_is_51001(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.BadSymbol, match="51001"):
            await exchange.public_get_market_ticker({"instId": "PEPE-USDT"})
        with pytest.raises(ccxt.BadSymbol, match="51001"):
            await exchange.private_post_trade_order(
                {"instId": "PEPE-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}
            )


async def test_unknown_order_is_51603(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.OrderNotFound, match="51603"):
            await exchange.fetch_order("1234", BTC)
        with pytest.raises(ccxt.OrderNotFound, match="51400"):
            await exchange.cancel_order("1234", BTC)


@pytest.mark.parametrize(
    ("credentials", "code"),
    [({"secret": "WRONG"}, "50113"), ({"apiKey": "not-a-key"}, "50111"), ({"password": "wrong"}, "50105")],
)
async def test_bad_credentials(sim, account, credentials, code):
    settings = account.credentials() | credentials
    async with ccxt_client("okx", sim.base_url, **settings) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match=code):
            await exchange.private_get_account_balance()


async def test_expired_timestamp_is_50102(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        exchange.options["timeDifference"] = 45_000  # the client's clock runs 45 s behind
        with pytest.raises(ccxt.InvalidNonce, match="50102"):
            await exchange.private_get_account_balance()


async def test_market_buy_by_quote_amount(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        await exchange.load_markets()
        response = await exchange.private_post_trade_order(
            {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "650"}
        )
        order = await exchange.fetch_order(response["data"][0]["ordId"], BTC)

    assert order["info"]["tgtCcy"] == "quote_ccy"  # OKX's default for a spot market buy
    assert order["cost"] == pytest.approx(650, abs=1)
    assert sim.balance("okx", account.api_key)["USDT"][0] == pytest.approx(Decimal("49350"), abs=1)


async def test_trigger_order_waits_then_becomes_a_regular_order(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "market", "sell", 0.1, None, {"triggerPrice": 62000})
        waiting = await exchange.fetch_order(placed["id"], BTC, {"trigger": True})
        pending = await exchange.fetch_open_orders(BTC, params={"trigger": True})
        regular = await exchange.fetch_open_orders(BTC)
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order(placed["id"], BTC)  # not a regular order yet
        sim.set_price(BTC, 61900, exchange="okx")
        triggered = await exchange.fetch_order(placed["id"], BTC, {"trigger": True})
        executed = await exchange.fetch_order(placed["id"], BTC)

    assert sim.request_count("okx", "/api/v5/trade/order-algo", "POST") == 1
    assert waiting["status"] == "open" and waiting["triggerPrice"] == 62000
    assert [o["id"] for o in pending] == [placed["id"]] and regular == []
    assert triggered["status"] == "closed" and triggered["info"]["state"] == "effective"
    assert executed["status"] == "closed" and executed["filled"] == 0.1


async def test_cancel_trigger_order(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "buy", 0.1, 70500, {"triggerPrice": 70000})
        held = await exchange.fetch_balance()
        await exchange.cancel_order(placed["id"], BTC, {"trigger": True})
        canceled = await exchange.fetch_order(placed["id"], BTC, {"trigger": True})
        after = await exchange.fetch_balance()
    assert held["USDT"]["used"] == 7050
    assert canceled["status"] == "canceled"
    assert after["USDT"]["used"] == 0


async def test_stop_loss_conditional_order(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "market", "sell", 0.2, None, {"stopLossPrice": 60000})
        sim.set_price(BTC, 59000, exchange="okx")
        done = await exchange.fetch_order(placed["id"], BTC, {"trigger": True})
    assert done["info"]["ordType"] == "conditional"
    assert done["stopLossPrice"] == 60000 and done["status"] == "closed"


async def test_trading_fee_and_account_config(sim, account):
    async with ccxt_client("okx", sim.base_url, account) as exchange:
        fee = await exchange.fetch_trading_fee(BTC)
        config = await exchange.private_get_account_config()
    assert (fee["maker"], fee["taker"]) == (0.0008, 0.001)
    assert config["data"][0]["acctLv"] == "1"
