"""Pre-trade checks: every new order passes them on the exchange routing chose.

Each check refuses with ``OrderRefused`` naming the field and saying why in words a
trader understands. The exchange stays the last word (its own refusal is recorded as the
order's reason); these checks stop what the platform can already see is wrong.

In order, cheapest first: the kill switch; amount and prices truncated to the market's
precision; the minimum amount; a market order's stop-loss and take-profit on the right side
of the price it is expected to fill at; the minimum order value (room for an attached
stop-loss and take-profit included); then, for orders that are not protective: the connection's maximum
of open positions, the maximum order value, the maximum position size, the connection's
share of the tenant's capital and the free balance. Prices, balances and markets come from
the shared caches where fresh (``risk_prices``); the individual checks are in
``risk_checks``.

Protective orders (stop-loss, take-profit) only reduce a position: they pass the kill
switch and the limits, and skip the balance check, because the fill they protect has just
moved a balance the 30 s cache does not show yet, and a sibling may hold the same coins.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from decimal import Decimal

from config.prepared import Prepared
from exchanges.adapters.errors import ExchangeError
from exchanges.adapters.types import Market
from exchanges.precision import truncate
from trading.services import risk_checks as checks
from trading.services import risk_prices
from trading.services.intents import Intent, OrderRefused


@dataclass(frozen=True)
class Assessment:
    intent: Intent  # truncated to the market's precision
    price: Decimal  # the expected price per unit the checks used (market quote, fee excluded)


def _settings_of(tenant):
    from trading.models import TradingSettings

    return TradingSettings.objects.filter(tenant_id=tenant)[:1]


def _exposure_of(tenant, connection):
    """The connection's open positions and, in the same statement, its entry orders that may
    still fill (their remaining amounts, signed): rows of (symbol, quantity, price, is_order)."""
    from django.db.models import BooleanField, Case, F, Value, When

    from trading.models import Order, Position, Purpose
    from trading.models.orders import ACTIVE, money

    positions = (
        Position.objects.filter(connection_id=connection).exclude(quantity=0).order_by()
        .annotate(is_order=Value(False, output_field=BooleanField()))
        .values_list("symbol", "quantity", "average_price", "is_order")
    )  # fmt: skip
    signed = Case(When(side="sell", then=-F("remaining")), default=F("remaining"), output_field=money())
    orders = (
        Order.objects.filter(tenant_id=tenant, connection_id=connection, status__in=ACTIVE, purpose=Purpose.ENTRY)
        .order_by().annotate(signed=signed, is_order=Value(True, output_field=BooleanField()))
        .values_list("symbol", "signed", "price", "is_order")
    )  # fmt: skip
    return positions.union(orders, all=True)


# read by every order request: compiled once per process (config.prepared)
_SETTINGS = Prepared(_settings_of, tenant=int)
_EXPOSURE = Prepared(_exposure_of, tenant=int, connection=int)

_limits_in_use: contextvars.ContextVar = contextvars.ContextVar("trading_limits_in_use", default=None)


def trading_settings(*, tenant):
    """The tenant's limits; unsaved defaults (no limits, USDT) when it has none yet."""
    from trading.models import TradingSettings

    current = _limits_in_use.get()
    if current is not None and current.tenant_id == tenant.pk:
        return current
    found = _SETTINGS.first(tenant=tenant.pk)
    if found is not None:
        found.tenant = tenant
        return found
    return TradingSettings(tenant=tenant)


@contextlib.contextmanager
def limits_for(*, tenant):
    """One read of the tenant's limits for everything one routing decision checks."""
    token = _limits_in_use.set(trading_settings(tenant=tenant))
    try:
        yield _limits_in_use.get()
    finally:
        _limits_in_use.reset(token)


def kill_switch_check(*, tenant, intent: Intent, limits=None) -> None:
    limits = limits or trading_settings(tenant=tenant)
    if limits.kill_switch and intent.purpose not in checks.PROTECTIVE:
        reason = f": {limits.kill_switch_reason}" if limits.kill_switch_reason else ""
        raise OrderRefused("non_field_errors", f"Trading is halted for {tenant.name}{reason}.", code="kill_switch")


def precision_apply(*, intent: Intent, market: Market, label: str) -> Intent:
    """Amount and prices cut down to the market's steps (the one truncation helper)."""
    amount = truncate(intent.amount, market.amount_precision)
    if amount <= 0:
        raise OrderRefused(
            "amount",
            f"The amount {intent.amount} is smaller than {market.symbol}'s amount step "
            f"{market.amount_precision} on {label}.",
            code="precision",
        )
    prices = {
        name: truncate(value, market.price_precision) if value is not None else None
        for name, value in (
            ("price", intent.price), ("stop_price", intent.stop_price),
            ("stop_loss", intent.stop_loss), ("take_profit", intent.take_profit),
        )
    }  # fmt: skip
    for name, value in prices.items():
        if value is not None and value <= 0:
            raise OrderRefused(name, f"The {name.replace('_', ' ')} is below {market.symbol}'s price step on {label}.")
    return intent.with_(amount=amount, **prices)


def pretrade_check(
    *, tenant, connection, intent: Intent, market: Market, reference_price: Decimal | None = None
) -> Intent:
    """The intent truncated to the market, or OrderRefused naming the failed check."""
    return pretrade_assess(
        tenant=tenant, connection=connection, intent=intent, market=market, reference_price=reference_price
    ).intent


def pretrade_assess(
    *, tenant, connection, intent: Intent, market: Market, reference_price: Decimal | None = None
) -> Assessment:
    """``pretrade_check`` that also says at what price the order was checked.

    ``reference_price`` (e.g. the average fill best-price routing expects) is used for a
    market order; a limit or stop order is always checked at its own price.
    """
    limits = trading_settings(tenant=tenant)
    kill_switch_check(tenant=tenant, intent=intent, limits=limits)
    intent = precision_apply(intent=intent, market=market, label=connection.label)
    try:
        return _assess(tenant, connection, intent, market, limits, reference_price)
    except ExchangeError as exc:
        raise OrderRefused("connection", f"{connection.label} could not be reached: {exc}", code=exc.code) from exc


def _assess(tenant, connection, intent, market, limits, reference_price) -> Assessment:
    positions = open_positions(connection=connection)
    price = intent.reference_price or reference_price
    price = price or risk_prices.order_price(connection=connection, intent=intent, market=market)
    held = positions.pop(intent.symbol, (Decimal(0), None))[0]
    p = checks.Proposal(connection, intent, market, price, limits, held)
    checks.check_min_amount(p)
    checks.check_protection_sides(p)
    checks.check_min_notional(p)
    if not p.protective:
        checks.check_max_positions(p, open_elsewhere=len(positions))
        checks.check_order_notional(p)
        checks.check_position_size(p)
        check_allocation(p, tenant=tenant, others=positions)
        checks.check_balance(p)
    return Assessment(intent, price)


def open_positions(*, connection) -> dict[str, tuple[Decimal, Decimal | None]]:
    """symbol -> (signed quantity, average price) of the connection's open positions as they
    will be once its entry orders still on their way fill (the limits hold for a burst of
    orders sent together, not only for what has filled). One statement."""
    positions: dict[str, tuple[Decimal, Decimal | None]] = {}
    orders: dict[str, tuple[Decimal, Decimal | None]] = {}
    for symbol, qty, price, is_order in _EXPOSURE.all(tenant=connection.tenant_id, connection=connection.pk):
        rows = orders if is_order else positions
        held, known = rows.get(symbol, (Decimal(0), None))
        rows[symbol] = (held + qty, known or price)
    for symbol, (qty, price) in orders.items():  # a position's average entry before an order's price
        held, average = positions.get(symbol, (Decimal(0), None))
        positions[symbol] = (held + qty, average or price)
    return {symbol: row for symbol, row in positions.items() if row[0] != 0}


def tenant_capital(*, tenant) -> Decimal:
    """Everything the tenant holds on its enabled connections, in its quote currency: the
    total of its balances page (30 s balance cache; unreadable connections and unpriced
    assets are left out rather than guessed). A fill hardly moves that total (coins for their
    price), so the order's path does not read a balance again because of one."""
    from trading.services.balances import total_balance

    return total_balance(tenant=tenant, follow_fills=False)["total"]


def check_allocation(p: checks.Proposal, *, tenant, others: dict) -> None:
    """A connection may hold capital_allocation_pct % of the tenant's capital: its positions
    at the market plus this order. Orders that only reduce a position always pass; at 100 %
    there is nothing to check (and no balances to read)."""
    pct = p.connection.capital_allocation_pct
    if not p.grows or pct >= 100:
        return
    quote = p.limits.quote_currency
    exposure = p.in_quote(abs(p.after) * p.price, what="capital allocation")
    exposure += sum((_position_value(symbol, qty, avg, p) for symbol, (qty, avg) in others.items()), Decimal(0))
    capital = tenant_capital(tenant=tenant)
    allowed = capital * pct / 100
    if exposure > allowed:
        raise OrderRefused(
            "amount",
            f"{p.label} may hold {checks.fmt(pct)} % of your capital, about {checks.fmt(allowed)} {quote} of "
            f"{checks.fmt(capital)} {quote}; with this order it would hold about {checks.fmt(exposure)} {quote}.",
            code="capital_allocation",
        )


def _position_value(symbol: str, quantity: Decimal, average: Decimal | None, p: checks.Proposal) -> Decimal:
    """At the cached market price (no network for positions the order does not touch),
    else at the position's own average price."""
    base, _, quote = symbol.partition("/")
    price = risk_prices.asset_price(base, quote, venue=p.venue, fetch_missing=False) or average or Decimal(0)
    value = risk_prices.value_in(abs(quantity) * price, quote, p.limits.quote_currency, venue=p.venue)
    return value or Decimal(0)
