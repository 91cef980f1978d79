"""What the three protocol modules share: the app key, request context and order faults."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from aiohttp import web

from exchanges.simulator.faults import Fault, FaultKind

if TYPE_CHECKING:
    from exchanges.simulator.models import Order
    from exchanges.simulator.simulator import Simulator

SIM: web.AppKey[Simulator] = web.AppKey("simulator")
# set on each request by the fault middleware
SKEW: web.RequestKey[int] = web.RequestKey("skew_ms", int)
ORDER_FAULTS: web.RequestKey[list[Fault]] = web.RequestKey("order_faults", list)


def sim_of(request: web.Request) -> Simulator:
    return request.app[SIM]


def server_time(request: web.Request) -> int:
    """The exchange's clock for this request, in ms, skewed by any clock_skew fault."""
    return sim_of(request).clock() + request.get(SKEW, 0)


def claim_order_faults(request: web.Request, order: Order) -> list[Fault]:
    """After an order was created: the order faults that act on it. A late order is hidden now."""
    faults = sim_of(request).faults.claim(request.get(ORDER_FAULTS, []))
    for fault in faults:
        if fault.kind == FaultKind.LATE_VISIBILITY:
            order.visible_at = order.created_at + int(fault.delay * 1000)
    return faults


@dataclass
class Accepted:
    """The answer about an order that exists now; order faults may still delay or lose it."""

    response: web.StreamResponse
    faults: list[Fault]


async def respond(request: web.Request, result: object) -> web.StreamResponse:
    """Render a handler's result. It runs after the venue's lock is released, since it may wait."""
    if isinstance(result, Accepted):
        return await _deliver(request, result.response, result.faults)
    if isinstance(result, web.StreamResponse):
        return result
    return web.json_response(result)


async def _deliver(request: web.Request, response: web.StreamResponse, faults: list[Fault]) -> web.StreamResponse:
    for fault in faults:
        if fault.kind == FaultKind.DROP_AFTER_ACCEPT and request.transport is not None:
            request.transport.close()  # the client sees the connection reset, with no answer
            return response
    delay = sum(fault.delay for fault in faults if fault.kind == FaultKind.TIMEOUT_AFTER_ACCEPT)
    if delay:
        await asyncio.sleep(delay)  # the client has given up by now; the order stays
    return response


def to_decimal(value: object) -> Decimal | None:
    """A decimal from a request field, or None when it is missing or not a plain number."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def iso(ms: int | None) -> str | None:
    """ISO 8601 in UTC with microseconds, as Robinhood writes times."""
    if ms is None:
        return None
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


GATEWAY_PAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def gateway_error(status: int) -> web.Response:
    """The HTML page a load balancer sends when the exchange behind it fails: not the exchange's JSON."""
    reason = GATEWAY_PAGES.get(status, "Error")
    title = f"{status} {reason}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n"
        f"<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def retry_after_headers(fault: Fault) -> dict[str, str]:
    if fault.retry_after is None:
        return {}
    return {"Retry-After": str(max(int(round(fault.retry_after)), 0))}
