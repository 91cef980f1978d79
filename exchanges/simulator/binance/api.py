"""Binance plumbing: parameters, HMAC-SHA256 request signing and recvWindow, error codes.

Binance answers ``{"code": -1121, "msg": "Invalid symbol."}`` with HTTP 400 (401 for an
unknown key); ccxt maps the codes and messages, so they are Binance's own, word for word.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from exchanges.simulator import engine
from exchanges.simulator.common import gateway_error, respond, retry_after_headers, server_time, sim_of
from exchanges.simulator.engine import Venue
from exchanges.simulator.faults import Fault, FaultKind
from exchanges.simulator.markets import BINANCE
from exchanges.simulator.models import Account, Status

NUMBER = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
MAX_RECV_WINDOW = 60_000
STATUSES = {
    Status.NEW: "NEW",
    Status.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    Status.FILLED: "FILLED",
    Status.CANCELED: "CANCELED",
    Status.REJECTED: "REJECTED",
    Status.EXPIRED: "EXPIRED",
}
# Binance type -> (engine type, trigger)
ORDER_TYPES = {
    "MARKET": ("market", None),
    "LIMIT": ("limit", None),
    "LIMIT_MAKER": ("limit", None),
    "STOP_LOSS": ("market", "stop_loss"),
    "STOP_LOSS_LIMIT": ("limit", "stop_loss"),
    "TAKE_PROFIT": ("market", "take_profit"),
    "TAKE_PROFIT_LIMIT": ("limit", "take_profit"),
}
FILTER_NAMES = {
    "lot_size": "LOT_SIZE",
    "min_amount": "LOT_SIZE",
    "max_amount": "LOT_SIZE",
    "tick_size": "PRICE_FILTER",
    "min_notional": "NOTIONAL",
}


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400):
        self.code, self.msg, self.status = code, msg, status
        super().__init__(msg)

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "msg": self.msg}, status=self.status)


def missing(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


@dataclass
class Call:
    request: web.Request
    venue: Venue
    params: dict[str, str]
    account: Account | None

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return default if value in (None, "") else value

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise missing(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.get(name)
        if value is None:
            return None
        if not NUMBER.match(value):
            raise BinanceError(
                -1100, f"Illegal characters found in parameter '{name}'; legal range is '{NUMBER.pattern}'."
            )
        return Decimal(value)

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if not value.lstrip("-").isdigit():
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^-?[0-9]+$'.")
        return int(value)

    def symbol(self, name: str = "symbol") -> str:
        """The unified symbol of the ``symbol`` parameter; -1121 for a market Binance does not list."""
        try:
            return self.venue.symbol_for(self.require(name))
        except engine.UnknownSymbol:
            raise BinanceError(-1121, "Invalid symbol.") from None


Handler = Callable[[Call], Awaitable[object]]


def endpoint(*, signed: bool = False) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Parse params, authenticate signed calls, render data as JSON and errors as Binance's."""

    def wrap(fn: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            venue = sim_of(request).venue(BINANCE)
            try:
                params, payload, signature = await _read(request)
                with venue.lock:  # a consistent view while a test thread moves prices
                    account = _authenticate(request, venue, params, payload, signature) if signed else None
                    result = await fn(Call(request, venue, params, account))
            except BinanceError as exc:
                return exc.response()
            except engine.EngineError as exc:
                return _engine_error(exc).response()
            return await respond(request, result)

        return handler

    return wrap


async def _read(request: web.Request) -> tuple[dict[str, str], str, str | None]:
    """Params from query and body, the exact text that was signed, and the signature."""
    raw_query = request.raw_path.partition("?")[2]
    body = await request.text() if request.can_read_body else ""
    query_signed, query_signature = _split_signature(raw_query)
    body_signed, body_signature = _split_signature(body)
    params = dict(parse_qsl(raw_query, keep_blank_values=True)) | dict(parse_qsl(body, keep_blank_values=True))
    params.pop("signature", None)
    return params, query_signed + body_signed, query_signature or body_signature


def _split_signature(raw: str) -> tuple[str, str | None]:
    kept, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = unquote(part.removeprefix("signature="))
        else:
            kept.append(part)
    return "&".join(kept), signature


def _authenticate(request: web.Request, venue: Venue, params: dict, payload: str, signature: str | None) -> Account:
    api_key = request.headers.get("X-MBX-APIKEY", "")
    if not api_key:
        raise BinanceError(-2014, "API-key format invalid.", 401)
    account = venue.account(api_key)
    if account is None or account.status != "active":
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    timestamp = params.get("timestamp")
    if not timestamp or not timestamp.isdigit():
        raise missing("timestamp")
    recv_window = int(params.get("recvWindow") or 5000)
    if recv_window > MAX_RECV_WINDOW:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    now = server_time(request)
    if int(timestamp) >= now + 1000:
        raise BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now - int(timestamp) > recv_window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
    if not signature:
        raise missing("signature")
    expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    return account


def _engine_error(exc: engine.EngineError) -> BinanceError:
    if isinstance(exc, engine.UnknownSymbol):
        return BinanceError(-1121, "Invalid symbol.")
    if isinstance(exc, engine.InsufficientBalance):
        return BinanceError(-2010, "Account has insufficient balance for requested action.")
    if isinstance(exc, engine.FilterFailure):
        return BinanceError(-1013, f"Filter failure: {FILTER_NAMES[exc.rule]}")
    if isinstance(exc, engine.DuplicateClientOrderId):
        return BinanceError(-2010, "Duplicate order sent.")
    if isinstance(exc, engine.WouldTakeLiquidity):
        return BinanceError(-2010, "Order would immediately match and take.")
    if isinstance(exc, engine.WouldTriggerImmediately):
        return BinanceError(-2010, "Stop price would trigger immediately.")
    if isinstance(exc, engine.OrderNotFound):
        return BinanceError(-2013, "Order does not exist.")
    if isinstance(exc, engine.OrderNotOpen):
        return BinanceError(-2011, "Unknown order sent.")
    return BinanceError(-1102, str(exc))


def fault_response(fault: Fault, request: web.Request) -> web.StreamResponse:
    if fault.kind == FaultKind.RATE_LIMIT:
        status = fault.status or 429
        if status == 418:
            until = server_time(request) + int((fault.retry_after or 120) * 1000)
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API."
            )
        return web.json_response({"code": -1003, "msg": msg}, status=status, headers=retry_after_headers(fault))
    if fault.kind == FaultKind.MAINTENANCE:
        if request.path == "/sapi/v1/system/status":
            return web.json_response({"status": 1, "msg": "system maintenance"})
        return web.json_response({"code": 1, "msg": "System is under maintenance."}, status=fault.status or 503)
    return gateway_error(fault.status or 503)
