"""OKX algo orders: ``trigger`` and one-sided ``conditional`` (stop-loss / take-profit) orders.

An algo order waits for the last price to reach its trigger; then OKX places a regular
order (``orderPx`` -1: market). Here both are one engine order: the algo id and the order
id are the same number, the algo endpoints show it while it waits ("live") and after
("effective"), the regular endpoints only once it has triggered.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.common import Accepted, claim_order_faults, server_time
from exchanges.simulator.markets import plain
from exchanges.simulator.models import Order, Status
from exchanges.simulator.okx.api import Call, OkxError, endpoint, engine_error, ok, rows_response

ALGO_TYPES = ("trigger", "conditional")


def algo_state(order: Order) -> str:
    if not order.triggered:
        return "canceled" if order.status == Status.CANCELED else "live"
    return "order_failed" if order.status in (Status.EXPIRED, Status.REJECTED) and not order.filled else "effective"


def algo_json(call: Call, order: Order) -> dict:
    algo = order.extra["algo"]
    return {
        "activePx": "",
        "actualPx": algo["orderPx"] if order.triggered else "",
        "actualSide": algo["actualSide"] if order.triggered else "",
        "actualSz": plain(order.amount) if order.triggered else "",
        "algoClOrdId": order.client_order_id,
        "algoId": order.id,
        "attachAlgoOrds": [],
        "cTime": str(order.created_at),
        "clOrdId": "",
        "closeFraction": "",
        "failCode": "",
        "instId": call.market_id(order.symbol),
        "instType": "SPOT",
        "last": plain(call.venue.book(order.symbol).mid),
        "lever": "",
        "ordId": order.id if order.triggered else "",
        "ordIdList": [order.id] if order.triggered else [],
        "ordPx": "",
        "ordType": order.extra["ordType"],
        "posSide": "net",
        "reduceOnly": "false",
        "side": order.side,
        "slOrdPx": algo.get("slOrdPx", ""),
        "slTriggerPx": algo.get("slTriggerPx", ""),
        "slTriggerPxType": "last" if algo.get("slTriggerPx") else "",
        "state": algo_state(order),
        "sz": plain(order.amount),
        "tag": order.extra.get("tag", ""),
        "tdMode": order.extra.get("tdMode", "cash"),
        "tgtCcy": order.extra.get("tgtCcy", ""),
        "tpOrdPx": algo.get("tpOrdPx", ""),
        "tpTriggerPx": algo.get("tpTriggerPx", ""),
        "tpTriggerPxType": "last" if algo.get("tpTriggerPx") else "",
        "triggerPx": algo.get("triggerPx", ""),
        "triggerPxType": "last" if algo.get("triggerPx") else "",
        "triggerTime": str(order.updated_at) if order.triggered else "",
        "uTime": str(order.updated_at),
    }


def _decimal(item: dict, name: str) -> Decimal:
    try:
        value = Decimal(str(item[name]))
    except (KeyError, InvalidOperation):
        raise OkxError("51000", f"Parameter {name} error") from None
    if not value.is_finite():
        raise OkxError("51000", f"Parameter {name} error")
    return value


def _trigger_spec(call: Call, item: dict, side: str, mid: Decimal) -> tuple[str, Decimal, Decimal | None, dict]:
    """(engine trigger kind, trigger price, limit price or None for market, fields to echo)."""
    if item["ordType"] == "trigger":
        trigger_px, order_px = _decimal(item, "triggerPx"), _decimal(item, "orderPx")
        # a plain trigger fires when the price reaches it from wherever it is now
        above = trigger_px >= mid
        kind = "stop_loss" if above == (side == "buy") else "take_profit"
        echo = {"triggerPx": plain(trigger_px), "orderPx": plain(order_px)}
        return kind, trigger_px, None if order_px == -1 else order_px, echo
    has_sl, has_tp = bool(item.get("slTriggerPx")), bool(item.get("tpTriggerPx"))
    if has_sl == has_tp:
        raise OkxError("51000", "Parameter slTriggerPx error")  # one-sided only; OKX's oco is not simulated
    prefix, kind = ("sl", "stop_loss") if has_sl else ("tp", "take_profit")
    trigger_px = _decimal(item, f"{prefix}TriggerPx")
    order_px = _decimal(item, f"{prefix}OrdPx") if item.get(f"{prefix}OrdPx") not in (None, "") else Decimal(-1)
    echo = {f"{prefix}TriggerPx": plain(trigger_px), f"{prefix}OrdPx": plain(order_px), "orderPx": plain(order_px)}
    return kind, trigger_px, None if order_px == -1 else order_px, echo


@endpoint(private=True)
async def place_algo(call: Call) -> object:
    item = call.body if isinstance(call.body, dict) else {}
    client_id = str(item.get("algoClOrdId") or item.get("clOrdId") or "")
    row = {"algoClOrdId": client_id, "algoId": "", "clOrdId": "", "tag": str(item.get("tag", ""))}
    symbol = ""
    try:
        for name in ("instId", "tdMode", "side", "ordType", "sz"):
            if item.get(name) in (None, ""):
                raise OkxError("50014", f"Parameter {name} can not be empty.")
        if item["ordType"] not in ALGO_TYPES:
            raise OkxError("51000", "Parameter ordType error")
        symbol = call.symbol(str(item["instId"]))
        side = str(item["side"])
        if side not in ("buy", "sell"):
            raise OkxError("51000", "Parameter side error")
        kind, trigger_px, limit_px, echo = _trigger_spec(call, item, side, call.venue.book(symbol).mid)
        order = call.venue.place_order(
            api_key=call.account.api_key,
            symbol=symbol,
            side=side,
            type="market" if limit_px is None else "limit",
            amount=_decimal(item, "sz"),
            price=limit_px,
            stop_price=trigger_px,
            trigger=kind,
            client_order_id=client_id or None,
            extra={
                "ordType": str(item["ordType"]),
                "tag": row["tag"],
                "tdMode": str(item["tdMode"]),
                "tgtCcy": str(item.get("tgtCcy", "")),
                "algo": echo | {"actualSide": "sl" if kind == "stop_loss" else "tp"},
            },
        )
    except OkxError as exc:
        return rows_response([row | {"sCode": exc.code, "sMsg": exc.msg}])
    except engine.EngineError as exc:
        code, msg = engine_error(exc, symbol, call.venue)
        return rows_response([row | {"sCode": code, "sMsg": msg}])
    faults = claim_order_faults(call.request, order)
    placed = row | {"algoId": order.id, "algoClOrdId": order.client_order_id, "sCode": "0", "sMsg": "Order placed"}
    return Accepted(web.json_response(ok([placed])), faults)


def _find(call: Call, algo_id: str | None, client_id: str | None) -> Order:
    order = call.venue.get_order(call.account.api_key, order_id=algo_id, client_order_id=client_id)
    if not order.extra.get("algo"):
        raise engine.OrderNotFound(algo_id or client_id)
    return order


@endpoint(private=True)
async def get_algo(call: Call) -> object:
    algo_id, client_id = call.get("algoId"), call.get("algoClOrdId")
    if not algo_id and not client_id:
        raise OkxError("50014", "Parameter algoId can not be empty.")
    try:
        return ok([algo_json(call, _find(call, algo_id, client_id))])
    except engine.OrderNotFound:
        raise OkxError("51603", "Order does not exist.") from None


def _listed(call: Call, *, pending: bool) -> list[Order]:
    ord_type = call.get("ordType")
    if ord_type is None:
        raise OkxError("50014", "Parameter ordType can not be empty.")
    symbol = call.symbol() if call.get("instId") else None
    state, algo_id = call.get("state"), call.get("algoId")
    orders = [
        o
        for o in call.venue.list_orders(call.account.api_key, symbol=symbol)
        if o.extra.get("algo")
        and o.extra["ordType"] in ord_type.split(",")
        and (algo_state(o) == "live") == pending
        and (state is None or algo_state(o) == state)
        and (algo_id is None or o.id == algo_id)
    ]
    orders.sort(key=lambda o: o.created_at, reverse=True)
    return orders[: min(call.integer("limit") or 100, 100)]


@endpoint(private=True)
async def algo_pending(call: Call) -> object:
    return ok([algo_json(call, order) for order in _listed(call, pending=True)])


@endpoint(private=True)
async def algo_history(call: Call) -> object:
    if call.get("state") is None and call.get("algoId") is None:
        raise OkxError("50014", "Parameter state can not be empty.")
    return ok([algo_json(call, order) for order in _listed(call, pending=False)])


def _cancel_algo(call: Call, item: dict) -> dict:
    algo_id, client_id = str(item.get("algoId") or ""), str(item.get("algoClOrdId") or "")
    row = {"algoClOrdId": client_id, "algoId": algo_id, "clOrdId": "", "tag": ""}
    try:
        symbol = call.symbol(str(item.get("instId") or ""))
        order = _find(call, algo_id or None, client_id or None)
        if order.symbol != symbol or order.triggered:
            raise engine.OrderNotFound(algo_id)
        call.venue.cancel_order(call.account.api_key, order_id=order.id)
    except OkxError as exc:
        return row | {"sCode": exc.code, "sMsg": exc.msg}
    except (engine.OrderNotFound, engine.OrderNotOpen, engine.InvalidRequest):
        return row | {"sCode": "51400", "sMsg": "Cancellation failed as the order does not exist."}
    return row | {"algoId": order.id, "algoClOrdId": order.client_order_id, "sCode": "0", "sMsg": ""}


@endpoint(private=True)
async def cancel_algos(call: Call) -> object:
    items = call.body if isinstance(call.body, list) else []
    if not items:
        raise OkxError("50014", "Parameter request body can not be empty.")
    now = str(server_time(call.request))
    rows = [_cancel_algo(call, item) | {"ts": now} for item in items if isinstance(item, dict)]
    return rows_response(rows)
