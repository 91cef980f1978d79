"""Robinhood trading: account, trading pairs, holdings, orders (place, list, get, cancel)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.common import Accepted, claim_order_faults, iso, parse_iso, to_decimal
from exchanges.simulator.markets import floor_to, plain
from exchanges.simulator.models import Order
from exchanges.simulator.robinhood.api import ORDER_TYPES, STATES, Call, RobinhoodError, endpoint, invalid, paginate


# --- account -------------------------------------------------------------------------------
@endpoint
async def accounts(call: Call) -> object:
    free, _ = call.venue.balances(call.account.api_key).get("USD", (Decimal(0), Decimal(0)))
    return {
        "account_number": call.account.number,
        "status": call.account.status,
        "buying_power": plain(free),
        "buying_power_currency": "USD",
    }


@endpoint
async def trading_pairs(call: Call) -> object:
    wanted = {call.symbol(s) for s in call.values("symbol")}
    rows = []
    for symbol, market in call.venue.markets.items():
        if wanted and symbol not in wanted:
            continue
        rows.append(
            {
                "asset_code": market.base,
                "quote_code": market.quote,
                "quote_increment": plain(market.tick_size),
                "asset_increment": plain(market.step_size),
                "max_order_size": plain(market.max_amount),
                "min_order_size": plain(market.min_amount),
                "status": "tradable",
                "symbol": call.venue.books[symbol].market_id,
            }
        )
    return paginate(call, rows)


@endpoint
async def holdings(call: Call) -> object:
    wanted = sorted({code.upper() for code in call.values("asset_code")})
    balances = call.venue.balances(call.account.api_key)
    zero = (Decimal(0), Decimal(0))
    rows = []
    for asset in wanted or list(balances):
        free, locked = balances.get(asset, zero)
        if asset == "USD" or (not wanted and free + locked == 0):
            continue
        rows.append(
            {
                "account_number": call.account.number,
                "asset_code": asset,
                "total_quantity": plain(free + locked),
                "quantity_available_for_trading": plain(free),
            }
        )
    return paginate(call, rows)


# --- orders --------------------------------------------------------------------------------
def order_json(call: Call, order: Order) -> dict:
    rh_type = order.extra.get("type", order.type)
    return {
        "id": order.id,
        "account_number": call.account.number,
        "symbol": call.venue.books[order.symbol].market_id,
        "client_order_id": order.client_order_id,
        "side": order.side,
        "executions": [
            {"effective_price": plain(f.price), "quantity": plain(f.amount), "timestamp": iso(f.timestamp)}
            for f in order.fills
        ],
        "type": rh_type,
        "state": STATES[order.status],
        "average_price": plain(order.average) if order.filled else None,
        "filled_asset_quantity": plain(order.filled),
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        f"{rh_type}_order_config": order.extra.get("config", {}),
    }


def _order_args(call: Call, body: dict) -> dict:
    """The engine's place_order arguments from a Robinhood order body."""
    client_order_id = body.get("client_order_id")
    if not client_order_id:
        raise invalid("client_order_id", "This field is required.")
    try:
        client_order_id = str(uuid.UUID(str(client_order_id)))
    except ValueError:
        raise invalid("client_order_id", "Must be a valid UUID.") from None
    side, rh_type = body.get("side"), body.get("type")
    if side not in ("buy", "sell"):
        raise invalid("side", f'"{side}" is not a valid choice.')
    if rh_type not in ORDER_TYPES:
        raise invalid("type", f'"{rh_type}" is not a valid choice.')
    symbol = call.symbol(str(body.get("symbol") or ""))
    market = call.venue.markets[symbol]
    config_name = f"{rh_type}_order_config"
    config = body.get(config_name)
    if not isinstance(config, dict):
        raise invalid(config_name, "This field is required.")
    kind, trigger = ORDER_TYPES[rh_type]
    quantity, quote_amount = to_decimal(config.get("asset_quantity")), to_decimal(config.get("quote_amount"))
    if (quantity is None) == (quote_amount is None):
        raise invalid(config_name, "Provide exactly one of asset_quantity or quote_amount.")
    limit_price = to_decimal(config.get("limit_price")) if kind == "limit" else None
    stop_price = to_decimal(config.get("stop_price")) if trigger else None
    if kind == "limit" and limit_price is None:
        raise invalid("limit_price", "This field is required.")
    if trigger and stop_price is None:
        raise invalid("stop_price", "This field is required.")
    if quote_amount is not None and (kind == "limit" or trigger):
        # a non-market order sized in dollars becomes a quantity at its own price
        quantity, quote_amount = floor_to(quote_amount / (limit_price or stop_price), market.step_size), None
    return {
        "api_key": call.account.api_key,
        "symbol": symbol,
        "side": side,
        "type": kind,
        "amount": quantity,
        "quote_amount": quote_amount,
        "price": limit_price,
        "stop_price": stop_price,
        "trigger": trigger,
        "time_in_force": "GTC",
        "client_order_id": client_order_id,
        "extra": {"type": rh_type, "config": config},
    }


def _engine_error(exc: engine.EngineError) -> RobinhoodError:
    if isinstance(exc, engine.InsufficientBalance):
        detail = "Insufficient buying power." if exc.asset == "USD" else "Insufficient holdings."
        return invalid("non_field_errors", detail)
    if isinstance(exc, engine.FilterFailure):
        details = {
            "lot_size": ("asset_quantity", "Asset quantity has too many decimal places."),
            "min_amount": ("asset_quantity", "Order size is below the minimum order size."),
            "max_amount": ("asset_quantity", "Order size is above the maximum order size."),
            "tick_size": ("limit_price", "Price has too many decimal places."),
            "min_notional": ("quote_amount", "Order value is below the minimum."),
        }
        attr, detail = details[exc.rule]
        return invalid(attr, detail)
    if isinstance(exc, engine.UnknownSymbol):
        return invalid("symbol", "Invalid symbol.")
    return invalid("non_field_errors", str(exc))


@endpoint
async def orders(call: Call) -> object:
    if call.request.method == "POST":
        return await _place(call)
    rows = sorted(call.venue.list_orders(call.account.api_key), key=lambda o: o.created_at, reverse=True)
    filters = {name: call.get(name) for name in ("symbol", "id", "side", "state", "type")}
    times = ("created_at_start", "created_at_end", "updated_at_start", "updated_at_end")
    bounds = {name: parse_iso(call.get(name)) for name in times if call.get(name)}
    for name, value in bounds.items():
        if value is None:
            raise invalid(name, "Enter a valid date/time.")
    selected = []
    for found in rows:
        row = order_json(call, found)
        if any(value and str(row[name]).upper() != value.upper() for name, value in filters.items()):
            continue
        if not _within(found.created_at, bounds.get("created_at_start"), bounds.get("created_at_end")):
            continue
        if not _within(found.updated_at, bounds.get("updated_at_start"), bounds.get("updated_at_end")):
            continue
        selected.append(row)
    return paginate(call, selected)


def _within(moment: int, start: int | None, end: int | None) -> bool:
    return (start is None or moment >= start) and (end is None or moment <= end)


async def _place(call: Call) -> Accepted:
    try:
        body = json.loads(call.body)
    except ValueError:
        raise invalid("non_field_errors", "JSON parse error.") from None
    if not isinstance(body, dict):
        raise invalid("non_field_errors", "Invalid data. Expected a dictionary.")
    args = _order_args(call, body)
    # the client order id is an idempotency key: the same id again answers with the first order
    existing = call.venue.find_client_order(call.account.api_key, args["client_order_id"])
    if existing is not None:
        return Accepted(web.json_response(order_json(call, existing), status=201), [])
    try:
        order = call.venue.place_order(**args)
    except engine.EngineError as exc:
        raise _engine_error(exc) from None
    faults = claim_order_faults(call.request, order)
    return Accepted(web.json_response(order_json(call, order), status=201), faults)


def _own_order(call: Call) -> Order:
    try:
        return call.venue.get_order(call.account.api_key, order_id=call.request.match_info["order_id"])
    except engine.OrderNotFound:
        raise RobinhoodError(404, "Not found.") from None


@endpoint
async def order(call: Call) -> object:
    return order_json(call, _own_order(call))


@endpoint
async def cancel(call: Call) -> object:
    found = _own_order(call)
    try:
        call.venue.cancel_order(call.account.api_key, order_id=found.id)
    except engine.OrderNotOpen:
        raise invalid(
            "non_field_errors", f"Order {found.id} cannot be canceled in state {STATES[found.status]}."
        ) from None
    return web.Response(text=f"Cancel request was submitted for order {found.id}", content_type="text/plain")
