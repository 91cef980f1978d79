"""What ccxt says about its exchanges without a network call: ids, names, countries,
required credentials, testnet URLs and the static ``has`` map. One instance per id, once."""

from __future__ import annotations

from functools import cache

import ccxt
import ccxt.pro


def ccxt_exchange_ids() -> list[str]:
    return list(ccxt.exchanges)


def is_ccxt_exchange(exchange_id: str) -> bool:
    return exchange_id in ccxt.exchanges


@cache
def ccxt_describe(ccxt_id: str) -> dict:
    exchange = getattr(ccxt, ccxt_id)()
    return {
        "name": exchange.name or ccxt_id,
        "countries": tuple(exchange.countries or ()),
        "required": tuple(k for k, needed in exchange.requiredCredentials.items() if needed),
        "testnet": bool(exchange.urls.get("test")),
        "has": dict(exchange.has),
        "websocket": ccxt_id in ccxt.pro.exchanges,
    }
