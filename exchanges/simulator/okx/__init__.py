"""OKX REST v5: public market data, account, trading, as ccxt's okx class calls them.

Private calls are authenticated like OKX does: OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE,
OK-ACCESS-TIMESTAMP (ISO 8601, within 30 s) and OK-ACCESS-SIGN, the base64 HMAC-SHA256 of
timestamp + method + requestPath (with the query string) + body. Errors use OKX's
envelope ``{"code": "51008", "msg": ..., "data": [...]}``: HTTP 401 for authentication,
HTTP 200 for business errors, with per-order ``sCode`` in order results.
"""

from __future__ import annotations

from aiohttp import web

from exchanges.simulator.okx import account, algo, market, trading
from exchanges.simulator.okx.api import fault_response

__all__ = ["fault_response", "register"]


def register(router: web.UrlDispatcher) -> None:
    get, post = router.add_get, router.add_post
    get("/api/v5/public/time", market.public_time)
    get("/api/v5/system/status", market.system_status)
    get("/api/v5/public/instruments", market.instruments)
    get("/api/v5/market/ticker", market.ticker)
    get("/api/v5/market/tickers", market.tickers)
    get("/api/v5/market/books", market.books)
    get("/api/v5/market/books-full", market.books)
    get("/api/v5/market/candles", market.candles)
    get("/api/v5/market/history-candles", market.candles)
    get("/api/v5/market/trades", market.public_trades)
    get("/api/v5/account/balance", account.balance)
    get("/api/v5/account/config", account.account_config)
    get("/api/v5/account/trade-fee", account.trade_fee)
    get("/api/v5/asset/currencies", account.currencies)
    get("/api/v5/asset/balances", account.funding_balances)
    post("/api/v5/trade/order", trading.place_order)
    post("/api/v5/trade/batch-orders", trading.place_batch)
    post("/api/v5/trade/cancel-order", trading.cancel_order)
    post("/api/v5/trade/cancel-batch-orders", trading.cancel_batch)
    get("/api/v5/trade/order", trading.get_order)
    get("/api/v5/trade/orders-pending", trading.orders_pending)
    get("/api/v5/trade/orders-history", trading.orders_history)
    get("/api/v5/trade/orders-history-archive", trading.orders_history)
    get("/api/v5/trade/fills", trading.fills)
    get("/api/v5/trade/fills-history", trading.fills)
    post("/api/v5/trade/order-algo", algo.place_algo)
    get("/api/v5/trade/order-algo", algo.get_algo)
    get("/api/v5/trade/orders-algo-pending", algo.algo_pending)
    get("/api/v5/trade/orders-algo-history", algo.algo_history)
    post("/api/v5/trade/cancel-algos", algo.cancel_algos)
