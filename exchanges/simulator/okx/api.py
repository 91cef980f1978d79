"""OKX plumbing: parameters, OK-ACCESS-* request signing, the response envelope, error codes.

The signature is the base64 HMAC-SHA256 of timestamp + method + requestPath (with its query
string) + body; the timestamp must be within 30 s of the server's clock. Authentication
errors are HTTP 401, business errors HTTP 200 with a non-zero ``code`` (per-order ``sCode``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.common import gateway_error, parse_iso, respond, retry_after_headers, server_time, sim_of
from exchanges.simulator.engine import Venue
from exchanges.simulator.faults import Fault, FaultKind
from exchanges.simulator.markets import OKX, plain
from exchanges.simulator.models import Account, Order, Status

TIMESTAMP_WINDOW_MS = 30_000
STATES = {
    Status.NEW: "live",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.CANCELED: "canceled",
    Status.REJECTED: "canceled",
    Status.EXPIRED: "canceled",  # an IOC/FOK remainder is canceled on OKX
}
ORDER_TYPES = {  # ordType -> (engine type, time in force, post only)
    "market": ("market", "GTC", False),
    "limit": ("limit", "GTC", False),
    "post_only": ("limit", "GTC", True),
    "fok": ("limit", "FOK", False),
    "ioc": ("limit", "IOC", False),
    "optimal_limit_ioc": ("market", "IOC", False),
}
BARS = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1H": 3_600_000,
    "2H": 7_200_000,
    "4H": 14_400_000,
    "6H": 21_600_000,
    "12H": 43_200_000,
    "1D": 86_400_000,
    "2D": 172_800_000,
    "3D": 259_200_000,
    "1W": 604_800_000,
    "1M": 2_592_000_000,
}


class OkxError(Exception):
    def __init__(self, code: str, msg: str, status: int = 200, data: list | None = None):
        self.code, self.msg, self.status, self.data = code, msg, status, data or []
        super().__init__(msg)

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "msg": self.msg, "data": self.data}, status=self.status)


def empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.")


@dataclass
class Call:
    request: web.Request
    venue: Venue
    params: dict[str, str]
    body: object
    account: Account | None

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value in (None, "") else value

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise empty(name)
        return value

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if not value.isdigit():
            raise OkxError("51000", f"Parameter {name} error")
        return int(value)

    def symbol(self, value: str | None = None) -> str:
        instrument = value if value is not None else self.require("instId")
        try:
            return self.venue.symbol_for(instrument)
        except engine.UnknownSymbol:
            raise OkxError("51001", "Instrument ID does not exist.") from None

    def market_id(self, symbol: str) -> str:
        return self.venue.books[symbol].market_id


def ok(data: list, **extra) -> dict:
    return {"code": "0", "msg": "", "data": data, **extra}


Handler = Callable[[Call], Awaitable[object]]


def endpoint(*, private: bool = False) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    def wrap(fn: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            venue = sim_of(request).venue(OKX)
            try:
                raw_body = await request.text() if request.can_read_body else ""
                body = _json_body(raw_body)
                params = dict(request.query)
                with venue.lock:  # a consistent view while a test thread moves prices
                    account = _authenticate(request, venue, raw_body) if private else None
                    result = await fn(Call(request, venue, params, body, account))
            except OkxError as exc:
                return exc.response()
            return await respond(request, result)

        return handler

    return wrap


def _json_body(raw: str) -> object:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise OkxError("50002", "Json data format error") from None


def _authenticate(request: web.Request, venue: Venue, body: str) -> Account:
    headers = request.headers
    api_key = headers.get("OK-ACCESS-KEY", "")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
    timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
    signature = headers.get("OK-ACCESS-SIGN", "")
    if not api_key:
        raise OkxError("50103", "Request header OK-ACCESS-KEY cannot be empty.", 401)
    if not passphrase:
        raise OkxError("50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty.", 401)
    if not signature:
        raise OkxError("50106", "Request header OK-ACCESS-SIGN cannot be empty.", 401)
    if not timestamp:
        raise OkxError("50107", "Request header OK-ACCESS-TIMESTAMP cannot be empty.", 401)
    account = venue.account(api_key)
    if account is None or account.status != "active":
        raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
    if not hmac.compare_digest(passphrase, account.passphrase):
        raise OkxError("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.", 401)
    sent_at = parse_iso(timestamp) if timestamp.endswith("Z") else None
    if sent_at is None:
        raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
    if abs(server_time(request) - sent_at) > TIMESTAMP_WINDOW_MS:
        raise OkxError("50102", "Timestamp request expired.", 401)
    prehash = f"{timestamp}{request.method}{request.raw_path}{body}"
    expected = base64.b64encode(hmac.new(account.secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise OkxError("50113", "Invalid Sign.", 401)
    return account


def fault_response(fault: Fault, request: web.Request) -> web.StreamResponse:
    if fault.kind == FaultKind.RATE_LIMIT:
        body = {"msg": "Too Many Requests", "code": "50011"}
        return web.json_response(body, status=fault.status or 429, headers=retry_after_headers(fault))
    if fault.kind == FaultKind.MAINTENANCE:
        body = {"code": "50001", "msg": "Service temporarily unavailable. Please try again later.", "data": []}
        return web.json_response(body, status=fault.status or 503, headers=retry_after_headers(fault))
    return gateway_error(fault.status or 503)


def engine_error(exc: engine.EngineError, symbol: str, venue: Venue) -> tuple[str, str]:
    if isinstance(exc, engine.UnknownSymbol):
        return "51001", "Instrument ID does not exist."
    if isinstance(exc, engine.InsufficientBalance):
        return "51008", f"Order failed. Insufficient {exc.asset} balance in account."
    if isinstance(exc, engine.FilterFailure):
        market = venue.markets[symbol]
        if exc.rule == "lot_size":
            return "51121", f"Order quantity must be a multiple of the lot size {plain(market.step_size)}."
        if exc.rule in ("min_amount", "min_notional"):
            return "51020", "Your order should meet or exceed the minimum order amount."
        if exc.rule == "max_amount":
            return "51202", "Market order amount exceeds the maximum amount."
        return "51000", "Parameter px error"
    if isinstance(exc, engine.DuplicateClientOrderId):
        return "51016", "Duplicated clOrdId"
    return "51000", str(exc)


def rows_response(rows: list[dict]) -> dict:
    failed = sum(row["sCode"] != "0" for row in rows)
    if not failed:
        return ok(rows)
    if failed == len(rows):
        return {"code": "1", "msg": "Operation failed." if len(rows) == 1 else "All operations failed", "data": rows}
    return {"code": "2", "msg": "Bulk operation partially succeeded", "data": rows}


def is_pending_algo(order: Order) -> bool:
    """An algo (trigger) order not triggered yet: OKX lists it with algo orders only."""
    return bool(order.extra.get("algo")) and not order.triggered
