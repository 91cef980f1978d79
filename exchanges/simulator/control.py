"""The HTTP control API under /_sim/, for the standalone server and browser benchmarks.

It mirrors the Python API of ``Simulator``: prices, accounts, faults, counters, reset.
It is not an exchange protocol, so its requests are neither counted nor faulted.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from aiohttp import web

from exchanges.simulator.common import sim_of
from exchanges.simulator.engine import EngineError
from exchanges.simulator.faults import Fault
from exchanges.simulator.markets import plain
from exchanges.simulator.models import Account, Order


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body is not JSON"}), content_type="application/json"
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "send a JSON object"}), content_type="application/json")
    return data


def account_json(account: Account, *, credentials: bool) -> dict:
    balances = {asset: plain(account.total(asset)) for asset in sorted(set(account.free) | set(account.locked))}
    data = {"exchange": account.exchange, "api_key": account.api_key, "number": account.number, "balances": balances}
    if credentials:  # simulator keys are fake; the caller that made the account needs them
        data |= {
            "secret": account.secret,
            "passphrase": account.passphrase,
            "public_key": account.public_key,
            "private_key": account.private_key,
        }
    return data


def order_json(order: Order) -> dict:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "api_key": order.api_key,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "trigger": order.trigger,
        "status": str(order.status),
        "amount": plain(order.amount),
        "filled": plain(order.filled),
        "price": plain(order.price),
        "average": plain(order.average),
        "created_at": order.created_at,
        "visible_at": order.visible_at,
    }


async def state(request: web.Request) -> web.Response:
    sim = sim_of(request)
    exchanges = {}
    for name, venue in sim.venues.items():
        markets = {}
        for symbol, book in venue.books.items():
            markets[symbol] = {
                "id": book.market_id,
                "price": plain(book.mid),
                "bid": plain(book.best_bid()),
                "ask": plain(book.best_ask()),
            }
        exchanges[name] = {"markets": markets, "accounts": len(venue.accounts), "orders": len(venue.orders)}
    return web.json_response(
        {
            "base_url": sim.base_url,
            "exchanges": exchanges,
            "faults": [fault.as_dict() for fault in sim.faults.active()],
            "requests": sim.request_count(),
        }
    )


async def set_price(request: web.Request) -> web.Response:
    data = await _body(request)
    try:
        price = Decimal(str(data["price"]))
        sim_of(request).set_price(str(data["symbol"]), price, exchange=data.get("exchange"))
    except (KeyError, InvalidOperation) as exc:
        return _bad(f"send symbol, price and optionally exchange ({exc})")
    return web.json_response({"ok": True})


async def add_account(request: web.Request) -> web.Response:
    data = await _body(request)
    allowed = {"api_key", "secret", "passphrase", "public_key", "balances"}
    try:
        account = sim_of(request).add_account(str(data["exchange"]), **{k: v for k, v in data.items() if k in allowed})
    except (KeyError, InvalidOperation, TypeError) as exc:
        return _bad(f"send exchange and optionally credentials and balances ({exc})")
    return web.json_response(account_json(account, credentials=True), status=201)


async def demo_accounts(request: web.Request) -> web.Response:
    """The demo accounts with their (fake) keys, for a browser benchmark that did not start the server."""
    sim = sim_of(request)
    if not sim.demo_accounts:
        return _bad("this simulator has no demo accounts", 404)
    keys = {(name, saved["api_key"]) for name, saved in sim.demo_keys().items()}
    accounts = [a for name, venue in sim.venues.items() for a in venue.accounts.values() if (name, a.api_key) in keys]
    return web.json_response([account_json(account, credentials=True) for account in accounts])


async def list_accounts(request: web.Request) -> web.Response:
    sim = sim_of(request)
    names = [request.query["exchange"]] if "exchange" in request.query else list(sim.venues)
    try:
        accounts = [account for name in names for account in sim.venue(name).accounts.values()]
    except KeyError as exc:
        return _bad(str(exc), 404)
    return web.json_response([account_json(account, credentials=False) for account in accounts])


async def add_fault(request: web.Request) -> web.Response:
    data = await _body(request)
    fields = {"kind", "protocol", "path", "method", "times", "status", "delay", "retry_after", "skew", "probability"}
    try:
        fault = sim_of(request).faults.add(Fault(**{k: v for k, v in data.items() if k in fields}))
    except (TypeError, ValueError) as exc:
        return _bad(f"bad fault: {exc}")
    return web.json_response(fault.as_dict(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([fault.as_dict() for fault in sim_of(request).faults.active()])


async def clear_faults(request: web.Request) -> web.Response:
    fault_id = request.match_info.get("fault_id")
    if fault_id is None:
        sim_of(request).faults.clear()
    elif not sim_of(request).faults.remove(fault_id):
        return _bad(f"no fault {fault_id}", 404)
    return web.json_response({"ok": True})


async def counters(request: web.Request) -> web.Response:
    sim = sim_of(request)
    query = request.query
    count = sim.request_count(protocol=query.get("protocol"), path=query.get("path"), method=query.get("method"))
    return web.json_response({"count": count, "requests": sim.counters.snapshot()})


async def list_orders(request: web.Request) -> web.Response:
    try:
        orders = sim_of(request).orders(request.query["exchange"], request.query.get("api_key"))
    except KeyError as exc:
        return _bad(f"send ?exchange= ({exc})")
    return web.json_response([order_json(order) for order in orders])


async def fill_order(request: web.Request) -> web.Response:
    data = await _body(request)
    try:
        fill = sim_of(request).fill_order(
            request.match_info["exchange"],
            request.match_info["order_id"],
            amount=data.get("amount"),
            price=data.get("price"),
        )
    except (KeyError, EngineError, InvalidOperation) as exc:
        return _bad(str(exc))
    return web.json_response({"fill_id": fill.id, "amount": plain(fill.amount), "price": plain(fill.price)})


async def reset(request: web.Request) -> web.Response:
    sim_of(request).reset()
    return web.json_response({"ok": True})


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/_sim/", state)
    router.add_post("/_sim/prices", set_price)
    router.add_get("/_sim/accounts", list_accounts)
    router.add_get("/_sim/demo-accounts", demo_accounts)
    router.add_post("/_sim/accounts", add_account)
    router.add_get("/_sim/faults", list_faults)
    router.add_post("/_sim/faults", add_fault)
    router.add_delete("/_sim/faults", clear_faults)
    router.add_delete("/_sim/faults/{fault_id}", clear_faults)
    router.add_get("/_sim/counters", counters)
    router.add_get("/_sim/orders", list_orders)
    router.add_post("/_sim/orders/{exchange}/{order_id}/fill", fill_order)
    router.add_post("/_sim/reset", reset)
