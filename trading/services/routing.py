"""Which exchange an order goes to: ``explicit`` (the given connection), ``priority``
(the first that passes the checks, lowest priority number first) or ``best_price``
(where it fills cheapest, split across exchanges when that is cheaper)."""

from __future__ import annotations

from exchanges.adapters.errors import BadSymbol, ExchangeError
from exchanges.models import ExchangeConnection
from exchanges.reads import connection_markets
from trading.services import risk
from trading.services.intents import Intent, Leg, OrderRefused, Route


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
    if policy == "explicit":
        return _explicit(tenant=tenant, intent=intent, connection=connection)
    raise OrderRefused("routing", f"Routing {policy!r} is not available.", code="routing")


def _explicit(*, tenant, intent: Intent, connection: ExchangeConnection | None) -> Route:
    if connection is None:
        raise OrderRefused("connection", "Explicit routing needs a connection.", code="required")
    if not connection.enabled:
        raise OrderRefused("connection", f"{connection.label} is disabled.", code="disabled")
    try:
        market = connection_market(connection=connection, symbol=intent.symbol)
    except BadSymbol as exc:
        raise OrderRefused("symbol", f"{intent.symbol} is not listed on {connection.label}.") from exc
    except ExchangeError as exc:
        raise OrderRefused("connection", f"{connection.label} could not be reached: {exc}", code=exc.code) from exc
    checked = risk.pretrade_check(tenant=tenant, connection=connection, intent=intent, market=market)
    return Route(legs=(Leg(connection, checked),), policy="explicit")
