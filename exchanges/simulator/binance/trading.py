"""Binance signed endpoints: account, sapi coin and fee lists, orders and trades."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.binance.api import ORDER_TYPES, STATUSES, BinanceError, Call, endpoint, missing
from exchanges.simulator.common import Accepted, claim_order_faults, server_time
from exchanges.simulator.engine import Venue
from exchanges.simulator.markets import fixed
from exchanges.simulator.models import Account, Fill, Order


# --- account -------------------------------------------------------------------------------
def _assets(venue: Venue, account: Account) -> list[str]:
    listed = {asset for market in venue.markets.values() for asset in (market.base, market.quote)}
    return sorted(listed | set(account.free) | set(account.locked))


@endpoint(signed=True)
async def get_account(call: Call) -> object:
    balances = call.venue.balances(call.account.api_key)
    zero = (Decimal(0), Decimal(0))
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": server_time(call.request),
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": fixed(balances.get(asset, zero)[0]), "locked": fixed(balances.get(asset, zero)[1])}
            for asset in _assets(call.venue, call.account)
        ],
        "permissions": ["SPOT"],
        "uid": int(call.account.number),
    }


@endpoint(signed=True)
async def capital_config(call: Call) -> object:
    balances = call.venue.balances(call.account.api_key)
    coins = []
    for asset in _assets(call.venue, call.account):
        free, locked = balances.get(asset, (Decimal(0), Decimal(0)))
        fiat = asset == "USD"
        network = {
            "network": asset if asset != "USDT" else "ETH",
            "coin": asset,
            "withdrawIntegerMultiple": "0.00000001",
            "isDefault": True,
            "depositEnable": True,
            "withdrawEnable": True,
            "depositDesc": "",
            "withdrawDesc": "",
            "specialTips": "",
            "name": asset,
            "resetAddressStatus": False,
            "addressRegex": "",
            "memoRegex": "",
            "withdrawFee": "0.0001",
            "withdrawMin": "0.001",
            "withdrawMax": "9999999999.99999999",
            "minConfirm": 1,
            "unLockConfirm": 2,
            "sameAddress": False,
            "estimatedArrivalTime": 5,
            "busy": False,
        }
        coins.append(
            {
                "coin": asset,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "name": asset,
                "free": fixed(free),
                "locked": fixed(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": fiat,
                "trading": True,
                "networkList": [] if fiat else [network],
            }
        )
    return coins


@endpoint(signed=True)
async def no_margin_pairs(call: Call) -> object:
    """sapi margin pair lists: the simulator offers spot only."""
    return []


@endpoint(signed=True)
async def trade_fee(call: Call) -> object:
    fee = fixed(call.venue.spec.taker_fee)
    maker = fixed(call.venue.spec.maker_fee)
    symbols = [call.symbol()] if call.get("symbol") else list(call.venue.markets)
    return [
        {"symbol": call.venue.books[s].market_id, "makerCommission": maker, "takerCommission": fee} for s in symbols
    ]


# --- orders --------------------------------------------------------------------------------
def order_json(venue: Venue, order: Order) -> dict:
    amount = order.amount if order.amount is not None else order.filled
    return {
        "symbol": venue.books[order.symbol].market_id,
        "orderId": int(order.id),
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fixed(order.price),
        "origQty": fixed(amount),
        "executedQty": fixed(order.filled),
        "cummulativeQuoteQty": fixed(order.cost),
        "status": STATUSES[order.status],
        "timeInForce": order.time_in_force,
        "type": order.extra.get("type", order.type.upper()),
        "side": order.side.upper(),
        "stopPrice": fixed(order.stop_price),
        "icebergQty": fixed(Decimal(0)),
        "time": order.created_at,
        "updateTime": order.updated_at,
        "isWorking": order.triggered,
        "workingTime": order.created_at if order.triggered else -1,
        "origQuoteOrderQty": fixed(order.quote_amount),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def _new_order_json(venue: Venue, order: Order, response_type: str) -> dict:
    ack = {
        "symbol": venue.books[order.symbol].market_id,
        "orderId": int(order.id),
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": order.created_at,
    }
    if response_type == "ACK":
        return ack
    full = order_json(venue, order)
    result = ack | {
        key: full[key]
        for key in (
            "price",
            "origQty",
            "executedQty",
            "origQuoteOrderQty",
            "cummulativeQuoteQty",
            "status",
            "timeInForce",
            "type",
            "side",
            "workingTime",
            "selfTradePreventionMode",
        )
    }
    if order.stop_price is not None:
        result["stopPrice"] = full["stopPrice"]
    if response_type == "FULL":
        result["fills"] = [
            {
                "price": fixed(fill.price),
                "qty": fixed(fill.amount),
                "commission": fixed(fill.fee),
                "commissionAsset": fill.fee_asset,
                "tradeId": fill.id,
            }
            for fill in order.fills
        ]
    return result


def _order_request(call: Call) -> dict:
    """The engine's place_order arguments from Binance's parameters."""
    symbol = call.symbol()
    side = call.require("side").upper()
    if side not in ("BUY", "SELL"):
        raise BinanceError(-1117, "Invalid side.")
    binance_type = call.require("type").upper()
    if binance_type not in ORDER_TYPES:
        raise BinanceError(-1116, "Invalid orderType.")
    kind, trigger = ORDER_TYPES[binance_type]
    amount, quote_amount = call.decimal("quantity"), call.decimal("quoteOrderQty")
    price, stop_price = call.decimal("price"), call.decimal("stopPrice")
    time_in_force = (call.get("timeInForce") or "GTC").upper()
    if binance_type == "MARKET":
        if amount is None and quote_amount is None:
            raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
        if price is not None:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
    else:
        if amount is None:
            raise missing("quantity")
        quote_amount = None
    if kind == "limit" and price is None:
        raise missing("price")
    if kind == "limit" and binance_type != "LIMIT_MAKER" and not call.get("timeInForce"):
        raise missing("timeInForce")
    if time_in_force not in ("GTC", "IOC", "FOK"):
        raise BinanceError(-1115, "Invalid timeInForce.")
    if trigger and stop_price is None:
        raise missing("stopPrice")
    return {
        "api_key": call.account.api_key,
        "symbol": symbol,
        "side": side.lower(),
        "type": kind,
        "amount": amount,
        "quote_amount": quote_amount,
        "price": price,
        "stop_price": stop_price if trigger else None,
        "trigger": trigger,
        "time_in_force": time_in_force,
        "post_only": binance_type == "LIMIT_MAKER",
        "reject_immediate_trigger": True,
        "client_order_id": call.get("newClientOrderId"),
        "extra": {"type": binance_type},
    }


@endpoint(signed=True)
async def new_order(call: Call) -> object:
    order = call.venue.place_order(**_order_request(call))
    faults = claim_order_faults(call.request, order)
    default_type = "FULL" if order.type == "market" or order.extra["type"] == "LIMIT" else "ACK"
    response_type = (call.get("newOrderRespType") or default_type).upper()
    response = web.json_response(_new_order_json(call.venue, order, response_type))
    return Accepted(response, faults)


@endpoint(signed=True)
async def test_order(call: Call) -> object:
    call.venue.place_order(**_order_request(call), validate_only=True)
    return {}


def _lookup(call: Call) -> tuple[str | None, str | None]:
    order_id, client_id = call.get("orderId"), call.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return order_id, client_id


@endpoint(signed=True)
async def get_order(call: Call) -> object:
    symbol = call.symbol()
    order_id, client_id = _lookup(call)
    order = call.venue.get_order(call.account.api_key, order_id=order_id, client_order_id=client_id)
    if order.symbol != symbol:
        raise BinanceError(-2013, "Order does not exist.")
    return order_json(call.venue, order)


@endpoint(signed=True)
async def cancel_order(call: Call) -> object:
    symbol = call.symbol()
    order_id, client_id = _lookup(call)
    try:
        order = call.venue.cancel_order(call.account.api_key, order_id=order_id, client_order_id=client_id)
    except engine.OrderNotFound:
        raise BinanceError(-2011, "Unknown order sent.") from None
    if order.symbol != symbol:
        raise BinanceError(-2011, "Unknown order sent.")
    return _canceled_json(call, order)


def _canceled_json(call: Call, order: Order) -> dict:
    full = order_json(call.venue, order)
    return {
        "symbol": full["symbol"],
        "origClientOrderId": order.client_order_id,
        "orderId": full["orderId"],
        "orderListId": -1,
        "clientOrderId": call.get("newClientOrderId") or f"cancel-{order.id}",
        "transactTime": order.updated_at,
        **{k: full[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status")},
        **{k: full[k] for k in ("timeInForce", "type", "side", "selfTradePreventionMode")},
    }


@endpoint(signed=True)
async def cancel_open_orders(call: Call) -> object:
    symbol = call.symbol()
    orders = call.venue.list_orders(call.account.api_key, symbol=symbol, open_only=True)
    return [_canceled_json(call, call.venue.cancel_order(call.account.api_key, order_id=o.id)) for o in orders]


@endpoint(signed=True)
async def open_orders(call: Call) -> object:
    symbol = call.symbol() if call.get("symbol") else None
    orders = call.venue.list_orders(call.account.api_key, symbol=symbol, open_only=True)
    return [order_json(call.venue, order) for order in orders]


@endpoint(signed=True)
async def all_orders(call: Call) -> object:
    symbol = call.symbol()
    start, end = call.integer("startTime"), call.integer("endTime")
    from_id = call.integer("orderId")
    limit = min(call.integer("limit") or 500, 1000)
    orders = [
        order
        for order in call.venue.list_orders(call.account.api_key, symbol=symbol)
        if (start is None or order.created_at >= start)
        and (end is None or order.created_at <= end)
        and (from_id is None or int(order.id) >= from_id)
    ]
    return [order_json(call.venue, order) for order in orders[:limit]]


def _trade_json(venue: Venue, fill: Fill) -> dict:
    return {
        "symbol": venue.books[fill.symbol].market_id,
        "id": fill.id,
        "orderId": int(fill.order_id),
        "orderListId": -1,
        "price": fixed(fill.price),
        "qty": fixed(fill.amount),
        "quoteQty": fixed(fill.cost),
        "commission": fixed(fill.fee),
        "commissionAsset": fill.fee_asset,
        "time": fill.timestamp,
        "isBuyer": fill.side == "buy",
        "isMaker": fill.maker,
        "isBestMatch": True,
    }


@endpoint(signed=True)
async def my_trades(call: Call) -> object:
    symbol = call.symbol()
    start, end = call.integer("startTime"), call.integer("endTime")
    from_id = call.integer("fromId")
    limit = min(call.integer("limit") or 500, 1000)
    fills = [
        fill
        for fill in call.venue.list_fills(call.account.api_key, symbol=symbol, order_id=call.get("orderId"))
        if (start is None or fill.timestamp >= start)
        and (end is None or fill.timestamp <= end)
        and (from_id is None or fill.id >= from_id)
    ]
    return [_trade_json(call.venue, fill) for fill in fills[:limit]]
