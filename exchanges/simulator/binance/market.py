"""Binance public market data: exchange info, depth, tickers, klines, trades, server time."""

from __future__ import annotations

import json
from decimal import Decimal

from exchanges.simulator import engine
from exchanges.simulator.binance.api import ORDER_TYPES, BinanceError, Call, endpoint
from exchanges.simulator.common import server_time
from exchanges.simulator.engine import Venue
from exchanges.simulator.history import INTERVALS_MS
from exchanges.simulator.markets import fixed
from exchanges.simulator.models import Fill


@endpoint()
async def ping(call: Call) -> object:
    return {}


@endpoint()
async def get_time(call: Call) -> object:
    return {"serverTime": server_time(call.request)}


@endpoint()
async def system_status(call: Call) -> object:
    return {"status": 0, "msg": "normal"}


def _symbol_info(venue: Venue, symbol: str) -> dict:
    book = venue.books[symbol]
    market = book.market
    return {
        "symbol": book.market_id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(ORDER_TYPES),
        "icebergAllowed": True,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed(market.tick_size),
                "maxPrice": "1000000.00000000",
                "tickSize": fixed(market.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fixed(market.min_amount),
                "maxQty": fixed(market.max_amount),
                "stepSize": fixed(market.step_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": fixed(market.max_amount),
                "stepSize": "0.00000000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fixed(market.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "NONE"],
    }


def _symbols_param(call: Call) -> list[str] | None:
    """``symbol=BTCUSDT`` or ``symbols=["BTCUSDT","ETHUSDT"]`` -> unified symbols; None: all."""
    if call.get("symbol"):
        return [call.symbol()]
    if call.get("symbols"):
        try:
            ids = json.loads(call.params["symbols"])
        except ValueError:
            raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'.") from None
        try:
            return [call.venue.symbol_for(market_id) for market_id in ids]
        except engine.UnknownSymbol:
            raise BinanceError(-1121, "Invalid symbol.") from None
    return None


@endpoint()
async def exchange_info(call: Call) -> object:
    symbols = _symbols_param(call) or list(call.venue.markets)
    return {
        "timezone": "UTC",
        "serverTime": server_time(call.request),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        ],
        "exchangeFilters": [],
        "symbols": [_symbol_info(call.venue, symbol) for symbol in symbols],
    }


@endpoint()
async def derivatives_exchange_info(call: Call) -> object:
    """fapi/dapi: the simulator lists no futures; ccxt's load_markets asks anyway."""
    return {
        "timezone": "UTC",
        "serverTime": server_time(call.request),
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": [],
    }


@endpoint()
async def depth(call: Call) -> object:
    symbol = call.symbol()
    limit = call.integer("limit") or 100
    if limit < 1 or limit > 5000:
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1 - 5000'.")
    book = call.venue.book(symbol)
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fixed(price), fixed(amount)] for price, amount in book.bids(limit)],
        "asks": [[fixed(price), fixed(amount)] for price, amount in book.asks(limit)],
    }


def _ticker(venue: Venue, symbol: str, now: int) -> dict:
    book = venue.book(symbol)
    stats = venue.day_stats(symbol)
    (bid, bid_qty), (ask, ask_qty) = book.bids(1)[0], book.asks(1)[0]
    last = book.mid
    change = last - stats["open"]
    volume = stats["volume"]
    return {
        "symbol": book.market_id,
        "priceChange": fixed(change),
        "priceChangePercent": format((change / stats["open"] * 100).quantize(Decimal("0.001")), "f"),
        "weightedAvgPrice": fixed(stats["quote_volume"] / volume if volume else last),
        "prevClosePrice": fixed(stats["open"]),
        "lastPrice": fixed(last),
        "lastQty": fixed(book.market.min_amount),
        "bidPrice": fixed(bid),
        "bidQty": fixed(bid_qty),
        "askPrice": fixed(ask),
        "askQty": fixed(ask_qty),
        "openPrice": fixed(stats["open"]),
        "highPrice": fixed(stats["high"]),
        "lowPrice": fixed(stats["low"]),
        "volume": fixed(volume),
        "quoteVolume": fixed(stats["quote_volume"]),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": 1,
        "lastId": 1000,
        "count": 1000,
    }


@endpoint()
async def ticker_24hr(call: Call) -> object:
    now = server_time(call.request)
    if call.get("symbol"):
        return _ticker(call.venue, call.symbol(), now)
    symbols = _symbols_param(call) or list(call.venue.markets)
    return [_ticker(call.venue, symbol, now) for symbol in symbols]


@endpoint()
async def ticker_price(call: Call) -> object:
    def one(symbol: str) -> dict:
        book = call.venue.book(symbol)
        return {"symbol": book.market_id, "price": fixed(book.mid)}

    if call.get("symbol"):
        return one(call.symbol())
    return [one(symbol) for symbol in _symbols_param(call) or call.venue.markets]


@endpoint()
async def book_ticker(call: Call) -> object:
    def one(symbol: str) -> dict:
        book = call.venue.book(symbol)
        (bid, bid_qty), (ask, ask_qty) = book.bids(1)[0], book.asks(1)[0]
        return {
            "symbol": book.market_id,
            "bidPrice": fixed(bid),
            "bidQty": fixed(bid_qty),
            "askPrice": fixed(ask),
            "askQty": fixed(ask_qty),
        }

    if call.get("symbol"):
        return one(call.symbol())
    return [one(symbol) for symbol in _symbols_param(call) or call.venue.markets]


@endpoint()
async def avg_price(call: Call) -> object:
    book = call.venue.book(call.symbol())
    return {"mins": 5, "price": fixed(book.mid), "closeTime": server_time(call.request)}


@endpoint()
async def klines(call: Call) -> object:
    symbol = call.symbol()
    interval = call.require("interval")
    if interval not in INTERVALS_MS:
        raise BinanceError(-1120, "Invalid interval.")
    limit = min(max(call.integer("limit") or 500, 1), 1000)
    interval_ms = INTERVALS_MS[interval]
    candles = call.venue.candles(
        symbol, interval_ms, start_ms=call.integer("startTime"), end_ms=call.integer("endTime"), limit=limit
    )
    return [
        [
            c.open_time,
            fixed(c.open),
            fixed(c.high),
            fixed(c.low),
            fixed(c.close),
            fixed(c.volume),
            c.open_time + interval_ms - 1,
            fixed(c.quote_volume),
            100,
            fixed(c.volume / 2),
            fixed(c.quote_volume / 2),
            "0",
        ]
        for c in candles
    ]


def _buyer_is_maker(fill: Fill) -> bool:
    return (fill.side == "buy") == fill.maker


@endpoint()
async def trades(call: Call) -> object:
    """Recent trades of the market: the simulator's own fills (the market maker does not print)."""
    symbol = call.symbol()
    limit = min(call.integer("limit") or 500, 1000)
    return [
        {
            "id": fill.id,
            "price": fixed(fill.price),
            "qty": fixed(fill.amount),
            "quoteQty": fixed(fill.cost),
            "time": fill.timestamp,
            "isBuyerMaker": _buyer_is_maker(fill),
            "isBestMatch": True,
        }
        for fill in call.venue.public_trades(symbol, limit)
    ]


@endpoint()
async def agg_trades(call: Call) -> object:
    """ccxt's fetch_trades default. Each fill is its own aggregate."""
    symbol = call.symbol()
    start, end = call.integer("startTime"), call.integer("endTime")
    fills = [
        fill
        for fill in call.venue.public_trades(symbol, 1000)
        if (start is None or fill.timestamp >= start) and (end is None or fill.timestamp <= end)
    ]
    return [
        {
            "a": fill.id,
            "p": fixed(fill.price),
            "q": fixed(fill.amount),
            "f": fill.id,
            "l": fill.id,
            "T": fill.timestamp,
            "m": _buyer_is_maker(fill),
            "M": True,
        }
        for fill in fills[-min(call.integer("limit") or 500, 1000) :]
    ]
