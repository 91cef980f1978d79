"""Robinhood market data: best bid/ask (spread included) and estimated execution prices."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.common import iso, server_time, to_decimal
from exchanges.simulator.markets import plain
from exchanges.simulator.robinhood.api import Call, endpoint, invalid


def _quote(call: Call, symbol: str) -> dict:
    book = call.venue.book(symbol)
    bid, ask, mid = book.best_bid(), book.best_ask(), book.mid
    return {
        "symbol": book.market_id,
        "price": plain(mid),
        "bid_inclusive_of_sell_spread": plain(bid),
        "sell_spread": plain(((mid - bid) / mid).quantize(Decimal("0.000001"))),
        "ask_inclusive_of_buy_spread": plain(ask),
        "buy_spread": plain(((ask - mid) / mid).quantize(Decimal("0.000001"))),
        "timestamp": iso(server_time(call.request)),
    }


@endpoint
async def best_bid_ask(call: Call) -> object:
    symbols = [call.symbol(s) for s in call.values("symbol")] or list(call.venue.markets)
    return {"results": [_quote(call, symbol) for symbol in symbols]}


@endpoint
async def estimated_price(call: Call) -> object:
    symbol = call.symbol(call.get("symbol") or "")
    side = call.get("side")
    if side not in ("bid", "ask", "both"):
        raise invalid("side", "Side must be one of bid, ask, both.")
    quantities = [to_decimal(q) for q in call.values("quantity")]
    if not quantities or len(quantities) > 10 or any(q is None or q <= 0 for q in quantities):
        raise invalid("quantity", "Give one to ten positive quantities, separated by commas.")
    book = call.venue.book(symbol)
    market = book.market
    results = []
    for quantity in quantities:
        if quantity < market.min_amount or quantity > market.max_amount:
            raise invalid("quantity", "Quantity is outside the allowed order size.")
        for one_side in ("bid", "ask") if side == "both" else (side,):
            fills = book.walk("sell" if one_side == "bid" else "buy", amount=quantity)
            filled = sum((amount for _, amount in fills), Decimal(0))
            average = sum((p * a for p, a in fills), Decimal(0)) / filled
            row = _quote(call, symbol) | {"side": one_side, "quantity": plain(quantity)}
            row["price"] = plain(average.quantize(market.tick_size))
            results.append(row)
    return {"results": results}
