"""Which exchange an order goes to: ``explicit`` (the given connection), ``priority``
(the first that passes the checks, lowest priority number first) or ``best_price``
(where it fills cheapest, split across exchanges when that is cheaper).

Only the tenant's own connections are ever considered. ``explicit`` takes the given one
when it is enabled and passes the checks; its status and breaker are left to the send,
whose retry and failover decide on them. ``priority`` and ``best_price`` take enabled
connections whose last test said ``connected``, that are not in ``exclude`` (the ones a
failover already tried) and whose circuit breaker (the exchange's or the connection's,
read from Redis without calling the exchange) is not open; then every pre-trade check
(``trading.services.risk``) must pass on the connection. A refusal names each connection
considered and why it could not take the order.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.adapters.errors import BadSymbol, ExchangeError
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.reads import connection_markets
from exchanges.resilience import breaker_state_sync, connection_key, venue_key
from exchanges.selectors import connection_list
from trading.services import risk
from trading.services.intents import Intent, Leg, OrderRefused, Route

POLICIES = ("explicit", "priority", "best_price")


def connection_market(*, connection: ExchangeConnection, symbol: str):
    """The connection's market for ``symbol`` (markets are loaded once per process)."""
    markets = connection_markets(connection=connection)
    if symbol not in markets:
        raise BadSymbol(f"{symbol} is not listed on {connection.label}", exchange=connection.exchange)
    return markets[symbol]


def route(
    *,
    tenant,
    intent: Intent,
    policy: str,
    connection: ExchangeConnection | None = None,
    allow_split: bool = False,
    exclude: tuple[int, ...] = (),
) -> Route:
    """The connection(s) the order goes to, its intent truncated to each one's market."""
    if policy not in POLICIES:
        raise OrderRefused("routing", f"Routing {policy!r} is not available; use one of {', '.join(POLICIES)}.")
    with risk.limits_for(tenant=tenant) as limits:  # read once for every connection considered
        risk.kill_switch_check(tenant=tenant, intent=intent, limits=limits)
        if policy == "explicit":
            return _explicit(tenant=tenant, intent=intent, connection=connection)
        if policy == "priority":
            return _priority(tenant=tenant, intent=intent, exclude=exclude)
        from trading.services.routing_best import best_price_route

        return best_price_route(tenant=tenant, intent=intent, allow_split=allow_split, exclude=exclude)


def _explicit(*, tenant, intent: Intent, connection: ExchangeConnection | None) -> Route:
    if connection is None:
        raise OrderRefused("connection", "Explicit routing needs a connection.", code="required")
    if connection.tenant_id != tenant.pk:  # as if it did not exist: never confirm another tenant's rows
        raise OrderRefused("connection", "No such exchange connection.", code="does_not_exist")
    if not connection.enabled:
        raise OrderRefused("connection", f"{connection.label} is disabled.", code="disabled")
    try:
        market = connection_market(connection=connection, symbol=intent.symbol)
    except BadSymbol as exc:
        raise OrderRefused("symbol", f"{intent.symbol} is not listed on {connection.label}.") from exc
    except ExchangeError as exc:
        raise OrderRefused("connection", f"{connection.label} could not be reached: {exc}", code=exc.code) from exc
    assessed = risk.pretrade_assess(tenant=tenant, connection=connection, intent=intent, market=market)
    leg = _leg(connection, assessed)
    return Route(legs=(leg,), policy="explicit", considered=(considered(connection, ok=True),))


def _priority(*, tenant, intent: Intent, exclude: tuple[int, ...]) -> Route:
    seen = []
    for connection in connection_list(tenant=tenant, enabled=True):
        reason = unavailable(connection, exclude=exclude)
        leg = None
        if reason is None:
            leg, reason = attempt(tenant=tenant, connection=connection, intent=intent)
        seen.append(considered(connection, ok=leg is not None, reason=reason))
        if leg is not None:
            return Route(legs=(leg,), policy="priority", considered=tuple(seen))
    raise no_route(seen)


def unavailable(connection: ExchangeConnection, *, exclude: tuple[int, ...] = ()) -> str | None:
    """Why the connection cannot be routed to at all, before any check; None when it can."""
    if connection.pk in exclude:
        return "already tried for this order"
    if not connection.enabled:
        return "disabled"
    if connection.status != ConnectionStatus.CONNECTED:
        return f"not connected (last test: {connection.get_status_display().lower()})"
    if circuit_open(connection):
        return "paused after repeated failures (circuit open)"
    return None


def circuit_open(connection: ExchangeConnection) -> bool:
    """The exchange's or the connection's breaker is open (Redis only, no exchange call)."""
    venue = venue_key(connection.exchange, api_base_url=connection.api_base_url or None, testnet=connection.testnet)
    return any(breaker_state_sync(key)["state"] == "open" for key in (venue, connection_key(connection.pk)))


def attempt(
    *, tenant, connection: ExchangeConnection, intent: Intent, reference_price: Decimal | None = None
) -> tuple[Leg | None, str]:
    """(the leg, "") when every check passes on the connection, else (None, why not)."""
    try:
        market = connection_market(connection=connection, symbol=intent.symbol)
    except BadSymbol:
        return None, f"does not list {intent.symbol}"
    except ExchangeError as exc:
        return None, f"could not be reached ({exc.code})"
    try:
        assessed = risk.pretrade_assess(
            tenant=tenant, connection=connection, intent=intent, market=market, reference_price=reference_price
        )
    except OrderRefused as exc:
        return None, exc.text
    return _leg(connection, assessed), ""


def _leg(connection: ExchangeConnection, assessed: risk.Assessment) -> Leg:
    market_order = assessed.intent.type == "market"
    return Leg(connection, assessed.intent, estimated_price=assessed.price if market_order else None)


def considered(connection: ExchangeConnection, *, ok: bool, reason: str = "") -> dict:
    """One line of ``Route.considered`` (plain values: it is stored with the order's events)."""
    return {"connection": connection.pk, "label": connection.label, "ok": ok, "reason": reason}


def no_route(seen: list[dict]) -> OrderRefused:
    reasons = "; ".join(f"{row['label']}: {row['reason'].rstrip('.')}" for row in seen if not row["ok"])
    message = f"No exchange can take this order: {reasons}." if reasons else "No exchange is enabled for trading."
    return OrderRefused("connection", message, code="no_route", considered=tuple(seen))
