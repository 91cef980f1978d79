"""Robinhood Crypto Trading API v1 (/api/v1/crypto/trading/ and /api/v1/crypto/marketdata/).

Every call is signed: headers ``x-api-key``, ``x-timestamp`` (unix seconds, valid for 30 s)
and ``x-signature``, the base64 Ed25519 signature of api_key + timestamp + path (with its
query string) + method + body, checked with the public key registered for the key.
Errors use Robinhood's envelope ``{"type": ..., "errors": [{"detail": ..., "attr": ...}]}``.
"""

from __future__ import annotations

from aiohttp import web

from exchanges.simulator.robinhood import marketdata, trading
from exchanges.simulator.robinhood.api import fault_response

__all__ = ["fault_response", "register"]


def register(router: web.UrlDispatcher) -> None:
    base = "/api/v1/crypto/trading"
    router.add_get(f"{base}/accounts/", trading.accounts)
    router.add_get(f"{base}/trading_pairs/", trading.trading_pairs)
    router.add_get(f"{base}/holdings/", trading.holdings)
    router.add_get(f"{base}/orders/", trading.orders)
    router.add_post(f"{base}/orders/", trading.orders)
    router.add_get(f"{base}/orders/{{order_id}}/", trading.order)
    router.add_post(f"{base}/orders/{{order_id}}/cancel/", trading.cancel)
    router.add_get("/api/v1/crypto/marketdata/best_bid_ask/", marketdata.best_bid_ask)
    router.add_get("/api/v1/crypto/marketdata/estimated_price/", marketdata.estimated_price)
