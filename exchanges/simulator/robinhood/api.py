"""Robinhood plumbing: Ed25519 request signatures, the error envelope, cursor pagination.

The client signs api_key + timestamp + path (with its query string) + method + body with
its private key; the simulator checks it with the public key registered for the API key,
and the timestamp (unix seconds) must be within 30 s of the server's clock.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchanges.simulator import engine
from exchanges.simulator.common import gateway_error, respond, retry_after_headers, server_time, sim_of
from exchanges.simulator.engine import Venue
from exchanges.simulator.faults import Fault, FaultKind
from exchanges.simulator.markets import ROBINHOOD
from exchanges.simulator.models import Account, Status

TIMESTAMP_WINDOW_S = 30
PAGE_SIZE = 100
STATES = {
    Status.NEW: "open",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.CANCELED: "canceled",
    Status.REJECTED: "failed",
    Status.EXPIRED: "canceled",
}
ORDER_TYPES = {  # Robinhood type -> (engine type, trigger)
    "market": ("market", None),
    "limit": ("limit", None),
    "stop_loss": ("market", "stop_loss"),
    "stop_limit": ("limit", "stop_loss"),
}
MISSING_HEADERS = (
    "Request missing required headers. Required headers: x-api-key, x-signature, x-timestamp. "
    "Please refer to API documentation for more information."
)


class RobinhoodError(Exception):
    def __init__(self, status: int, detail: str, attr: str | None = None):
        self.status, self.detail, self.attr = status, detail, attr
        super().__init__(detail)

    def response(self) -> web.Response:
        kind = "validation_error" if self.status == 400 else "server_error" if self.status >= 500 else "client_error"
        body = {"type": kind, "errors": [{"detail": self.detail, "attr": self.attr}]}
        return web.json_response(body, status=self.status)


def invalid(attr: str, detail: str) -> RobinhoodError:
    return RobinhoodError(400, detail, attr)


@dataclass
class Call:
    request: web.Request
    venue: Venue
    account: Account
    body: str

    def values(self, name: str) -> list[str]:
        return [v for item in self.request.query.getall(name, []) for v in item.split(",") if v]

    def get(self, name: str) -> str | None:
        return self.request.query.get(name) or None

    def symbol(self, market_id: str, attr: str = "symbol") -> str:
        try:
            return self.venue.symbol_for(market_id.upper())
        except engine.UnknownSymbol:
            raise invalid(attr, f"Invalid symbol {market_id}.") from None


Handler = Callable[[Call], Awaitable[object]]


def endpoint(fn: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        venue = sim_of(request).venue(ROBINHOOD)
        try:
            body = await request.text() if request.can_read_body else ""
            with venue.lock:  # a consistent view while a test thread moves prices
                account = _authenticate(request, venue, body)
                result = await fn(Call(request, venue, account, body))
        except RobinhoodError as exc:
            return exc.response()
        return await respond(request, result)

    return handler


def _authenticate(request: web.Request, venue: Venue, body: str) -> Account:
    api_key = request.headers.get("x-api-key", "")
    timestamp = request.headers.get("x-timestamp", "")
    signature = request.headers.get("x-signature", "")
    if not (api_key and timestamp and signature):
        raise RobinhoodError(400, MISSING_HEADERS)
    account = venue.account(api_key)
    if account is None:
        raise RobinhoodError(401, "Invalid API key.")
    if not timestamp.isdigit() or abs(server_time(request) // 1000 - int(timestamp)) > TIMESTAMP_WINDOW_S:
        raise RobinhoodError(401, "Timestamp is invalid or has expired.")
    message = signed_message(api_key, timestamp, request.raw_path, request.method, body)
    if not verify_signature(account.public_key, signature, message):
        raise RobinhoodError(401, "Failed to verify signature.")
    if account.status != "active":
        raise RobinhoodError(403, "You do not have permission to perform this action.")
    return account


def signed_message(api_key: str, timestamp: str, path: str, method: str, body: str) -> bytes:
    """What the client signs: the path includes its query string; a bodiless request signs no body."""
    return f"{api_key}{timestamp}{path}{method}{body}".encode()


def verify_signature(public_key: str, signature: str, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def fault_response(fault: Fault, request: web.Request) -> web.StreamResponse:
    if fault.kind == FaultKind.RATE_LIMIT:
        wait = int(fault.retry_after or 1)
        error = RobinhoodError(fault.status or 429, f"Request was throttled. Expected available in {wait} seconds.")
        response = error.response()
        response.headers.update(retry_after_headers(fault))
        return response
    if fault.kind == FaultKind.MAINTENANCE:
        error = RobinhoodError(fault.status or 503, "Service is temporarily unavailable for maintenance.")
        response = error.response()
        response.headers.update(retry_after_headers(fault))
        return response
    return gateway_error(fault.status or 503)


def paginate(call: Call, rows: list) -> dict:
    """Robinhood's cursor pagination; ``next`` is a full URL on the host the client called."""
    try:
        limit = max(1, min(int(call.get("limit") or PAGE_SIZE), 1000))
        offset = int(base64.urlsafe_b64decode(call.get("cursor") or "MA==").decode() or 0)
    except (ValueError, binascii.Error):
        raise invalid("cursor", "Invalid cursor.") from None

    def link(start: int) -> str:
        query = {k: v for k, v in call.request.query.items() if k != "cursor"}
        query["cursor"] = base64.urlsafe_b64encode(str(start).encode()).decode()
        url = call.request.url.with_query(query)
        return str(url)

    page = rows[offset : offset + limit]
    return {
        "next": link(offset + limit) if offset + limit < len(rows) else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": page,
    }
