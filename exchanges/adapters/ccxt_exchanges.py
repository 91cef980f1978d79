"""The seed exchanges: each subclass declares only what differs from the generic adapter.

Every other ccxt exchange works through CcxtAdapter as it is (see exchanges.factory).
"""

from __future__ import annotations

from exchanges.adapters.ccxt_adapter import CcxtAdapter


class BinanceAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "binance"
    client_order_id_fetch_param = "origClientOrderId"
    duplicate_order_messages = ("Duplicate order sent",)  # -2010, which ccxt maps to InvalidOrder
    ccxt_options = {"defaultType": "spot"}


class BinanceUSAdapter(BinanceAdapter):
    ccxt_id = exchange_id = "binanceus"


class OkxAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "okx"
    client_order_id_fetch_param = "clOrdId"
    duplicate_order_messages = ("Duplicated clOrdId",)  # 51016
    ccxt_options = {"defaultType": "spot"}


class CoinbaseAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "coinbase"  # Advanced Trade; fetch by client id: searched in the lists


class KrakenAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "kraken"  # XBT is BTC; ccxt's commonCurrencies handles the codes


class KucoinAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "kucoin"
    client_order_id_fetch_param = "clientOid"


class BitstampAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "bitstamp"


class BybitAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "bybit"
    client_order_id_fetch_param = "orderLinkId"
    ccxt_options = {"defaultType": "spot"}


class BitgetAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "bitget"
    client_order_id_fetch_param = "clientOid"
    ccxt_options = {"defaultType": "spot"}


class GateAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "gate"


class BingxAdapter(CcxtAdapter):
    ccxt_id = exchange_id = "bingx"
    client_order_id_fetch_param = "clientOrderId"


SEED_ADAPTERS: dict[str, type[CcxtAdapter]] = {
    cls.exchange_id: cls
    for cls in (
        BinanceAdapter,
        BinanceUSAdapter,
        OkxAdapter,
        CoinbaseAdapter,
        KrakenAdapter,
        KucoinAdapter,
        BitstampAdapter,
        BybitAdapter,
        BitgetAdapter,
        GateAdapter,
        BingxAdapter,
    )
}
