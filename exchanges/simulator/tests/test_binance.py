"""ccxt's real binance client against the simulator: the whole spot surface the platform uses."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from exchanges.simulator.tests.helpers import ccxt_client

BTC = "BTC/USDT"


@pytest.fixture
def account(sim):
    return sim.add_account("binance", balances={"USDT": "100000", "BTC": "1"})


async def test_load_markets_reads_precision_and_filters(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        markets = await exchange.load_markets()

    assert {"BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD"} <= set(markets)
    btc = markets[BTC]
    assert btc["id"] == "BTCUSDT"
    assert btc["precision"] == {"amount": 0.00001, "price": 0.01, "base": 1e-08, "quote": 1e-08}
    assert btc["limits"]["amount"]["min"] == 0.00001
    assert btc["limits"]["cost"]["min"] == 5
    # with keys set, ccxt also loads currencies and margin pairs from sapi
    assert sim.request_count("binance", "/sapi/v1/capital/config/getall") == 1
    assert sim.request_count("binance", "/api/v3/exchangeInfo") == 1
    assert "BTC" in exchange.currencies


async def test_public_market_data(sim):
    sim.set_price(BTC, 60000, exchange="binance")
    async with ccxt_client("binance", sim.base_url) as exchange:
        ticker = await exchange.fetch_ticker(BTC)
        tickers = await exchange.fetch_tickers([BTC, "ETH/USDT"])
        book = await exchange.fetch_order_book(BTC, limit=10)
        candles = await exchange.fetch_ohlcv(BTC, "1h", limit=24)
        server_time = await exchange.fetch_time()

    assert ticker["last"] == 60000
    assert ticker["bid"] < 60000 < ticker["ask"]
    assert set(tickers) == {BTC, "ETH/USDT"}
    assert len(book["bids"]) == len(book["asks"]) == 10
    assert book["bids"][0][0] == ticker["bid"] and book["asks"][0][0] == ticker["ask"]
    assert [level[0] for level in book["asks"]] == sorted(level[0] for level in book["asks"])
    assert len(candles) == 24
    assert candles[-1][4] == 60000  # the newest candle closes at the current price
    assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in candles)
    assert candles[1][0] - candles[0][0] == 3_600_000
    assert abs(server_time - time.time() * 1000) < 5000


async def test_best_prices_last_prices_and_public_trades(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        bids_asks = await exchange.fetch_bids_asks([BTC])
        last_prices = await exchange.fetch_last_prices([BTC, "ETH/USDT"])
        await exchange.create_order(BTC, "market", "buy", 0.01)
        trades = await exchange.fetch_trades(BTC)

    assert bids_asks[BTC]["bid"] < 65000 < bids_asks[BTC]["ask"]
    assert last_prices["ETH/USDT"]["price"] == 3500
    assert [(t["side"], t["amount"]) for t in trades] == [("buy", 0.01)]
    assert sim.request_count("binance", "/api/v3/aggTrades") == 1


async def test_ohlcv_since_is_stable_between_calls(sim):
    since = int(time.time() * 1000) - 50 * 60_000
    async with ccxt_client("binance", sim.base_url) as exchange:
        first = await exchange.fetch_ohlcv(BTC, "1m", since=since, limit=20)
        second = await exchange.fetch_ohlcv(BTC, "1m", since=since, limit=20)

    assert first == second
    assert first[0][0] >= since and len(first) == 20


async def test_balance(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        balance = await exchange.fetch_balance()

    assert balance["USDT"] == {"free": 100000, "used": 0, "total": 100000}
    assert balance["BTC"]["free"] == 1


async def test_market_buy_walks_the_book_and_pays_a_fee(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        order = await exchange.create_order(BTC, "market", "buy", 0.5)
        balance = await exchange.fetch_balance()

    assert order["status"] == "closed"
    assert order["filled"] == 0.5
    assert order["average"] > 65000  # paid the ask, not the mid
    assert order["fee"] == {"currency": "BTC", "cost": 0.0005}
    assert balance["BTC"]["total"] == pytest.approx(1 + 0.5 - 0.0005)
    assert balance["USDT"]["total"] == pytest.approx(100000 - order["cost"])
    assert sim.request_count("binance", "/api/v3/order", "POST") == 1


async def test_market_buy_by_cost_uses_quote_order_qty(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        order = await exchange.create_order(BTC, "market", "buy", None, None, {"cost": 1000})

    assert order["status"] == "closed"
    assert order["cost"] == pytest.approx(1000, abs=1)
    assert order["info"]["origQuoteOrderQty"] == "1000.00000000"


async def test_limit_order_lifecycle_by_client_order_id(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "buy", 0.1, 60000, {"clientOrderId": "plat-0001"})
        by_client_id = await exchange.fetch_order(None, BTC, {"clientOrderId": "plat-0001"})
        by_id = await exchange.fetch_order(placed["id"], BTC)
        open_orders = await exchange.fetch_open_orders(BTC)
        held = await exchange.fetch_balance()
        canceled = await exchange.cancel_order(placed["id"], BTC)
        after = await exchange.fetch_balance()
        closed = await exchange.fetch_orders(BTC)

    assert placed["status"] == "open" and placed["clientOrderId"] == "plat-0001"
    assert by_client_id["id"] == by_id["id"] == placed["id"]
    assert [o["id"] for o in open_orders] == [placed["id"]]
    assert held["USDT"]["used"] == 6000  # the buy holds amount * limit price
    assert canceled["status"] == "canceled"
    assert after["USDT"] == {"free": 100000, "used": 0, "total": 100000}
    assert [o["status"] for o in closed] == ["canceled"]


async def test_resting_limit_order_fills_when_the_price_crosses(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "buy", 0.1, 60000)
        sim.set_price(BTC, 59000, exchange="binance")
        filled = await exchange.fetch_order(placed["id"], BTC)
        trades = await exchange.fetch_my_trades(BTC)

    assert filled["status"] == "closed" and filled["average"] == 60000
    assert len(trades) == 1
    assert trades[0]["order"] == placed["id"] and trades[0]["takerOrMaker"] == "maker"
    assert trades[0]["price"] == 60000 and trades[0]["amount"] == 0.1


async def test_partial_fill_is_reported(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "sell", 0.5, 70000)
        sim.fill_order("binance", placed["id"], amount="0.2")
        order = await exchange.fetch_order(placed["id"], BTC)

    assert order["status"] == "open"
    assert order["filled"] == 0.2 and order["remaining"] == 0.3
    assert order["info"]["status"] == "PARTIALLY_FILLED"


async def test_stop_loss_limit_order_triggers_on_the_way_down(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        placed = await exchange.create_order(BTC, "limit", "sell", 0.2, 61000, {"stopLossPrice": 62000})
        waiting = await exchange.fetch_order(placed["id"], BTC)
        sim.set_price(BTC, 61500, exchange="binance")
        triggered = await exchange.fetch_order(placed["id"], BTC)

    assert placed["info"]["type"] == "STOP_LOSS_LIMIT"
    assert waiting["status"] == "open" and waiting["filled"] == 0
    assert triggered["status"] == "closed"  # became a limit sell at 61000 under a 61500 market


async def test_fetch_closed_orders_and_trades(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        await exchange.create_order(BTC, "market", "buy", 0.01)
        await exchange.create_order(BTC, "market", "sell", 0.01)
        closed = await exchange.fetch_closed_orders(BTC)
        trades = await exchange.fetch_my_trades(BTC)

    assert [o["side"] for o in closed] == ["buy", "sell"]
    assert [t["side"] for t in trades] == ["buy", "sell"]
    assert trades[1]["fee"]["currency"] == "USDT"


async def test_invalid_amount_is_refused_with_the_lot_size_filter(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        await exchange.load_markets()
        with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
            await exchange.private_post_order(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.000001",
                    "price": "60000",
                }
            )
        with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
            await exchange.create_order(BTC, "limit", "buy", 0.00001, 60000)


async def test_insufficient_balance(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.InsufficientFunds, match="insufficient balance"):
            await exchange.create_order(BTC, "limit", "buy", 2, 60000)
        with pytest.raises(ccxt.InsufficientFunds):
            await exchange.create_order(BTC, "market", "sell", 1.5)
    assert sim.request_count("binance", "/api/v3/order", "POST") == 2
    assert sim.orders("binance") == []


async def test_unknown_symbol_is_binance_1121(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.BadSymbol, match="-1121"):
            await exchange.public_get_depth({"symbol": "PEPEUSDT"})
        with pytest.raises(ccxt.BadSymbol, match="-1121"):
            await exchange.private_post_order({"symbol": "PEPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"})
    assert sim.request_count("binance", "/api/v3/depth") == 1


async def test_unknown_order(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        with pytest.raises(ccxt.OrderNotFound, match="-2013"):
            await exchange.fetch_order("42", BTC)
        with pytest.raises(ccxt.OrderNotFound, match="-2011"):
            await exchange.cancel_order("42", BTC)


async def test_wrong_secret_and_wrong_key(sim, account):
    async with ccxt_client("binance", sim.base_url, apiKey=account.api_key, secret="not-the-secret") as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await exchange.private_get_account()
    async with ccxt_client("binance", sim.base_url, apiKey="unknown-key", secret=account.secret) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await exchange.private_get_account()


async def test_stale_timestamp_is_outside_recv_window(sim, account):
    async with ccxt_client("binance", sim.base_url, account, options={"recvWindow": 5000}) as exchange:
        exchange.options["timeDifference"] = 6000  # the client's clock runs 6 s behind
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            await exchange.private_get_account()


async def test_order_test_endpoint_validates_without_placing(sim, account):
    async with ccxt_client("binance", sim.base_url, account) as exchange:
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"test": True})
    assert sim.orders("binance") == []
    assert sim.request_count("binance", "/api/v3/order/test", "POST") == 1
    assert sim.balance("binance", account.api_key)["USDT"] == (Decimal("100000"), Decimal(0))
