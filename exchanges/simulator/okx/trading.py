"""OKX orders: place (single and batch), cancel, query, list, and fills."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.common import Accepted, claim_order_faults, server_time
from exchanges.simulator.markets import plain
from exchanges.simulator.models import Fill, Order, Status
from exchanges.simulator.okx.api import (
    ORDER_TYPES,
    STATES,
    Call,
    OkxError,
    empty,
    endpoint,
    engine_error,
    is_pending_algo,
    ok,
    rows_response,
)


def order_json(call: Call, order: Order) -> dict:
    last = order.fills[-1] if order.fills else None
    by_quote = order.extra.get("tgtCcy") == "quote_ccy"
    return {
        "accFillSz": plain(order.filled),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoOrds": [],
        "avgPx": plain(order.average) if order.filled else "",
        "cTime": str(order.created_at),
        "cancelSource": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": order.client_order_id,
        "fee": plain(-order.fee) if order.fills else "0",
        "feeCcy": order.fee_asset or call.venue.markets[order.symbol].quote,
        "fillPx": plain(last.price) if last else "",
        "fillSz": plain(last.amount) if last else "",
        "fillTime": str(last.timestamp) if last else "",
        "instId": call.market_id(order.symbol),
        "instType": "SPOT",
        "lever": "",
        "ordId": order.id,
        "ordType": order.extra.get("ordType", order.type),
        "pnl": "0",
        "posSide": "net",
        "px": plain(order.price),
        "rebate": "0",
        "rebateCcy": call.venue.markets[order.symbol].quote,
        "reduceOnly": "false",
        "side": order.side,
        "slOrdPx": "",
        "slTriggerPx": "",
        "source": "",
        "state": STATES[order.status],
        "stpMode": "cancel_maker",
        "sz": plain(order.quote_amount if by_quote else order.amount),
        "tag": order.extra.get("tag", ""),
        "tdMode": order.extra.get("tdMode", "cash"),
        "tgtCcy": order.extra.get("tgtCcy", ""),
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tradeId": str(last.id) if last else "",
        "uTime": str(order.updated_at),
    }


def _place(call: Call, item: dict) -> tuple[dict, Order | None]:
    """One order of a trade/order or batch-orders call: its result row and the order, if created."""
    base = {"clOrdId": str(item.get("clOrdId", "")), "ordId": "", "tag": str(item.get("tag", ""))}
    base["ts"] = str(server_time(call.request))
    symbol = ""
    try:
        for name in ("instId", "tdMode", "side", "ordType", "sz"):
            if item.get(name) in (None, ""):
                raise OkxError("50014", f"Parameter {name} can not be empty.")
        symbol = call.symbol(str(item["instId"]))
        ord_type = str(item["ordType"])
        if ord_type not in ORDER_TYPES:
            raise OkxError("51000", "Parameter ordType error")
        kind, time_in_force, post_only = ORDER_TYPES[ord_type]
        side = str(item["side"])
        if side not in ("buy", "sell"):
            raise OkxError("51000", "Parameter side error")
        size, price = Decimal(str(item["sz"])), item.get("px")
        # a spot market buy is sized in the quote currency unless tgtCcy says otherwise
        tgt_ccy = str(item.get("tgtCcy") or ("quote_ccy" if kind == "market" and side == "buy" else "base_ccy"))
        by_quote = kind == "market" and tgt_ccy == "quote_ccy"
        if kind == "limit" and price in (None, ""):
            raise OkxError("50014", "Parameter px can not be empty.")
        order = call.venue.place_order(
            api_key=call.account.api_key,
            symbol=symbol,
            side=side,
            type=kind,
            amount=None if by_quote else size,
            quote_amount=size if by_quote else None,
            price=Decimal(str(price)) if kind == "limit" else None,
            time_in_force=time_in_force,
            post_only=post_only,
            cancel_post_only=True,
            client_order_id=base["clOrdId"] or None,
            extra={"ordType": ord_type, "tag": base["tag"], "tgtCcy": tgt_ccy, "tdMode": str(item["tdMode"])},
        )
    except OkxError as exc:
        return base | {"sCode": exc.code, "sMsg": exc.msg}, None
    except engine.EngineError as exc:
        code, msg = engine_error(exc, symbol, call.venue)
        return base | {"sCode": code, "sMsg": msg}, None
    except (ArithmeticError, ValueError):
        return base | {"sCode": "51000", "sMsg": "Parameter sz error"}, None
    return base | {"ordId": order.id, "clOrdId": order.client_order_id, "sCode": "0", "sMsg": "Order placed"}, order


async def _place_orders(call: Call, items: list) -> web.StreamResponse:
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise OkxError("50014", "Parameter request body can not be empty.")
    rows, faults = [], []
    for item in items:
        row, order = _place(call, item)
        rows.append(row)
        if order is not None:
            faults += claim_order_faults(call.request, order)
    failed = sum(row["sCode"] != "0" for row in rows)
    if not failed:
        body = ok(rows)
    elif failed == len(rows):
        body = {"code": "1", "msg": "All operations failed" if len(rows) > 1 else "Operation failed.", "data": rows}
    else:
        body = {"code": "2", "msg": "Bulk operation partially succeeded", "data": rows}
    now = str(server_time(call.request))
    return Accepted(web.json_response(body | {"inTime": now, "outTime": now}), faults)


@endpoint(private=True)
async def place_order(call: Call) -> object:
    if not isinstance(call.body, dict):
        raise OkxError("50014", "Parameter request body can not be empty.")
    return await _place_orders(call, [call.body])


@endpoint(private=True)
async def place_batch(call: Call) -> object:
    return await _place_orders(call, call.body if isinstance(call.body, list) else [])


def _cancel(call: Call, item: dict) -> dict:
    order_id, client_id = str(item.get("ordId") or ""), str(item.get("clOrdId") or "")
    row = {"clOrdId": client_id, "ordId": order_id, "ts": str(server_time(call.request))}
    try:
        symbol = call.symbol(str(item.get("instId") or ""))
        if not order_id and not client_id:
            raise OkxError("50014", "Parameter ordId can not be empty.")
        order = call.venue.get_order(call.account.api_key, order_id=order_id or None, client_order_id=client_id or None)
        if order.symbol != symbol or is_pending_algo(order):
            raise engine.OrderNotFound(order_id)
        call.venue.cancel_order(call.account.api_key, order_id=order.id)
    except OkxError as exc:
        return row | {"sCode": exc.code, "sMsg": exc.msg}
    except engine.OrderNotFound:
        msg = "Order cancellation failed as the order has been filled, canceled or does not exist."
        return row | {"sCode": "51400", "sMsg": msg}
    except engine.OrderNotOpen as exc:
        if exc.order.status == Status.FILLED:
            return row | {"sCode": "51402", "sMsg": "Order cancellation failed as the order has been completed."}
        return row | {"sCode": "51401", "sMsg": "Order cancellation failed as the order has been canceled."}
    return row | {"ordId": order.id, "clOrdId": order.client_order_id, "sCode": "0", "sMsg": ""}


@endpoint(private=True)
async def cancel_order(call: Call) -> object:
    if not isinstance(call.body, dict):
        raise OkxError("50014", "Parameter request body can not be empty.")
    return rows_response([_cancel(call, call.body)])


@endpoint(private=True)
async def cancel_batch(call: Call) -> object:
    items = call.body if isinstance(call.body, list) else []
    if not items:
        raise OkxError("50014", "Parameter request body can not be empty.")
    return rows_response([_cancel(call, item) for item in items if isinstance(item, dict)])


@endpoint(private=True)
async def get_order(call: Call) -> object:
    symbol = call.symbol()
    order_id, client_id = call.get("ordId"), call.get("clOrdId")
    if not order_id and not client_id:
        raise empty("ordId")
    try:
        order = call.venue.get_order(call.account.api_key, order_id=order_id, client_order_id=client_id)
    except engine.OrderNotFound:
        raise OkxError("51603", "Order does not exist.") from None
    if order.symbol != symbol or is_pending_algo(order):
        raise OkxError("51603", "Order does not exist.")
    return ok([order_json(call, order)])


def _filtered_orders(call: Call, *, open_only: bool) -> list[Order]:
    symbol = call.symbol() if call.get("instId") else None
    inst_type = call.get("instType")
    if inst_type and inst_type != "SPOT":
        return []
    orders = call.venue.list_orders(call.account.api_key, symbol=symbol, open_only=open_only)
    ord_type, state = call.get("ordType"), call.get("state")
    begin, end = call.integer("begin"), call.integer("end")
    orders = [
        o
        for o in orders
        if (ord_type is None or o.extra.get("ordType", o.type) == ord_type)
        and (state is None or STATES[o.status] == state)
        and (begin is None or o.created_at >= begin)
        and (end is None or o.created_at <= end)
        and (open_only or not o.is_open)
        and not is_pending_algo(o)
    ]
    orders.sort(key=lambda o: o.created_at, reverse=True)  # OKX lists the newest first
    return orders[: min(call.integer("limit") or 100, 100)]


@endpoint(private=True)
async def orders_pending(call: Call) -> object:
    return ok([order_json(call, order) for order in _filtered_orders(call, open_only=True)])


@endpoint(private=True)
async def orders_history(call: Call) -> object:
    call.require("instType")
    return ok([order_json(call, order) for order in _filtered_orders(call, open_only=False)])


def _fill_json(call: Call, fill: Fill) -> dict:
    order = call.venue.orders[fill.order_id]
    return {
        "instType": "SPOT",
        "instId": call.market_id(fill.symbol),
        "tradeId": str(fill.id),
        "ordId": fill.order_id,
        "clOrdId": order.client_order_id,
        "billId": str(fill.id * 10),
        "subType": "1" if fill.side == "buy" else "2",
        "tag": order.extra.get("tag", ""),
        "fillPx": plain(fill.price),
        "fillSz": plain(fill.amount),
        "fillIdxPx": "",
        "fillPnl": "0",
        "side": fill.side,
        "posSide": "net",
        "execType": "M" if fill.maker else "T",
        "feeCcy": fill.fee_asset,
        "fee": plain(-fill.fee),
        "ts": str(fill.timestamp),
        "fillTime": str(fill.timestamp),
    }


@endpoint(private=True)
async def fills(call: Call) -> object:
    symbol = call.symbol() if call.get("instId") else None
    begin, end = call.integer("begin"), call.integer("end")
    rows = [
        fill
        for fill in call.venue.list_fills(call.account.api_key, symbol=symbol, order_id=call.get("ordId"))
        if (begin is None or fill.timestamp >= begin) and (end is None or fill.timestamp <= end)
    ]
    rows.reverse()
    return ok([_fill_json(call, fill) for fill in rows[: min(call.integer("limit") or 100, 100)]])
