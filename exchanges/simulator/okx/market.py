"""OKX public data: time, instruments, tickers, books, candles, trades."""

from __future__ import annotations

from exchanges.simulator.common import server_time
from exchanges.simulator.engine import Venue
from exchanges.simulator.markets import plain
from exchanges.simulator.okx.api import BARS, Call, OkxError, endpoint, ok


@endpoint()
async def public_time(call: Call) -> object:
    return ok([{"ts": str(server_time(call.request))}])


@endpoint()
async def system_status(call: Call) -> object:
    return ok([])


def _instrument(venue: Venue, symbol: str) -> dict:
    book = venue.books[symbol]
    market = book.market
    return {
        "alias": "",
        "baseCcy": market.base,
        "category": "1",
        "ctMult": "",
        "ctType": "",
        "ctVal": "",
        "ctValCcy": "",
        "expTime": "",
        "instFamily": "",
        "instId": book.market_id,
        "instType": "SPOT",
        "lever": "",
        "listTime": "1606468572000",
        "lotSz": plain(market.step_size),
        "maxIcebergSz": plain(market.max_amount),
        "maxLmtAmt": "20000000",
        "maxLmtSz": plain(market.max_amount),
        "maxMktAmt": "1000000",
        "maxMktSz": "1000000",
        "maxStopSz": "1000000",
        "maxTriggerSz": plain(market.max_amount),
        "maxTwapSz": plain(market.max_amount),
        "minSz": plain(market.min_amount),
        "optType": "",
        "quoteCcy": market.quote,
        "ruleType": "normal",
        "settleCcy": "",
        "state": "live",
        "stk": "",
        "tickSz": plain(market.tick_size),
        "uly": "",
    }


@endpoint()
async def instruments(call: Call) -> object:
    inst_type = call.require("instType")
    if inst_type != "SPOT":
        return ok([])  # the simulator lists spot markets only; ccxt also asks for the others
    symbols = [call.symbol()] if call.get("instId") else list(call.venue.markets)
    return ok([_instrument(call.venue, symbol) for symbol in symbols])


def _ticker(call: Call, symbol: str) -> dict:
    book = call.venue.book(symbol)
    stats = call.venue.day_stats(symbol)
    (bid, bid_size), (ask, ask_size) = book.bids(1)[0], book.asks(1)[0]
    return {
        "instType": "SPOT",
        "instId": book.market_id,
        "last": plain(book.mid),
        "lastSz": plain(book.market.min_amount),
        "askPx": plain(ask),
        "askSz": plain(ask_size),
        "bidPx": plain(bid),
        "bidSz": plain(bid_size),
        "open24h": plain(stats["open"]),
        "high24h": plain(stats["high"]),
        "low24h": plain(stats["low"]),
        "volCcy24h": plain(stats["quote_volume"]),
        "vol24h": plain(stats["volume"]),
        "ts": str(server_time(call.request)),
        "sodUtc0": plain(stats["open"]),
        "sodUtc8": plain(stats["open"]),
    }


@endpoint()
async def ticker(call: Call) -> object:
    return ok([_ticker(call, call.symbol())])


@endpoint()
async def tickers(call: Call) -> object:
    if call.require("instType") != "SPOT":
        return ok([])
    return ok([_ticker(call, symbol) for symbol in call.venue.markets])


@endpoint()
async def books(call: Call) -> object:
    book = call.venue.book(call.symbol())
    size = min(call.integer("sz") or 1, 5000)  # OKX returns one level per side unless told
    return ok(
        [
            {
                "asks": [[plain(price), plain(amount), "0", "1"] for price, amount in book.asks(size)],
                "bids": [[plain(price), plain(amount), "0", "1"] for price, amount in book.bids(size)],
                "ts": str(server_time(call.request)),
                "seqId": book.update_id,
            }
        ]
    )


@endpoint()
async def candles(call: Call) -> object:
    symbol = call.symbol()
    bar = call.get("bar") or "1m"
    interval_ms = BARS.get(bar.removesuffix("utc"))
    if interval_ms is None:
        raise OkxError("51000", "Parameter bar error")
    limit = min(call.integer("limit") or 100, 300)
    after, before = call.integer("after"), call.integer("before")  # older than after, newer than before
    rows = call.venue.candles(symbol, interval_ms, end_ms=after - 1 if after else None, limit=limit)
    rows = [c for c in rows if before is None or c.open_time > before]
    now = server_time(call.request)
    return ok(
        [
            [
                str(c.open_time),
                plain(c.open),
                plain(c.high),
                plain(c.low),
                plain(c.close),
                plain(c.volume),
                plain(c.quote_volume),
                plain(c.quote_volume),
                "0" if c.open_time + interval_ms > now else "1",
            ]
            for c in reversed(rows)
        ]
    )


@endpoint()
async def public_trades(call: Call) -> object:
    symbol = call.symbol()
    fills = call.venue.public_trades(symbol, min(call.integer("limit") or 100, 500))
    return ok(
        [
            {
                "instId": call.market_id(symbol),
                "side": fill.side if not fill.maker else ("sell" if fill.side == "buy" else "buy"),  # the taker's
                "sz": plain(fill.amount),
                "px": plain(fill.price),
                "tradeId": str(fill.id),
                "ts": str(fill.timestamp),
            }
            for fill in reversed(fills)
        ]
    )
