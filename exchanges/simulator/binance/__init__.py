"""Binance spot REST (api/v3, the sapi calls ccxt makes, empty fapi/dapi market lists).

Signed endpoints check ``X-MBX-APIKEY``, the HMAC-SHA256 ``signature`` over the query
string plus the body, and ``timestamp`` against ``recvWindow`` like Binance does, and
answer with Binance's real error codes and HTTP statuses.
"""

from __future__ import annotations

from aiohttp import web

from exchanges.simulator.binance import market, trading
from exchanges.simulator.binance.api import fault_response

__all__ = ["fault_response", "register"]


def register(router: web.UrlDispatcher) -> None:
    get = router.add_get
    get("/api/v3/ping", market.ping)
    get("/api/v3/time", market.get_time)
    get("/api/v3/exchangeInfo", market.exchange_info)
    get("/api/v3/depth", market.depth)
    get("/api/v3/ticker/24hr", market.ticker_24hr)
    get("/api/v3/ticker/price", market.ticker_price)
    get("/api/v3/ticker/bookTicker", market.book_ticker)
    get("/api/v3/avgPrice", market.avg_price)
    get("/api/v3/klines", market.klines)
    get("/api/v3/uiKlines", market.klines)
    get("/api/v3/trades", market.trades)
    get("/api/v3/aggTrades", market.agg_trades)
    get("/fapi/v1/exchangeInfo", market.derivatives_exchange_info)
    get("/dapi/v1/exchangeInfo", market.derivatives_exchange_info)
    get("/sapi/v1/system/status", market.system_status)
    get("/sapi/v1/capital/config/getall", trading.capital_config)
    get("/sapi/v1/margin/allPairs", trading.no_margin_pairs)
    get("/sapi/v1/margin/isolated/allPairs", trading.no_margin_pairs)
    get("/sapi/v1/asset/tradeFee", trading.trade_fee)
    get("/api/v3/account", trading.get_account)
    router.add_post("/api/v3/order", trading.new_order)
    router.add_post("/api/v3/order/test", trading.test_order)
    get("/api/v3/order", trading.get_order)
    router.add_delete("/api/v3/order", trading.cancel_order)
    get("/api/v3/openOrders", trading.open_orders)
    router.add_delete("/api/v3/openOrders", trading.cancel_open_orders)
    get("/api/v3/allOrders", trading.all_orders)
    get("/api/v3/myTrades", trading.my_trades)
