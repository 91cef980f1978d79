"""The pre-trade checks one at a time, over a ``Proposal``: the order as it would be sent
to one connection, valued at the price it is expected to trade at.

Each check returns nothing or raises ``OrderRefused`` naming the field a trader would
change. ``trading.services.risk.pretrade_check`` runs them in order, cheapest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import cached_property

from exchanges.adapters.types import Market
from exchanges.precision import EXACT_DIGITS
from exchanges.reads import connection_balance
from trading.market.venues import Venue
from trading.services import risk_prices
from trading.services.intents import Intent, OrderRefused

PROTECTIVE = frozenset({"stop_loss", "take_profit"})


@dataclass(frozen=True)
class Proposal:
    connection: object  # exchanges.models.ExchangeConnection
    intent: Intent  # already truncated to the market's precision
    market: Market
    price: Decimal  # per unit, in the market's quote currency, fee excluded
    limits: object  # trading.models.TradingSettings (unsaved defaults when the tenant has none)
    held: Decimal  # the connection's signed position in the symbol before the order

    @property
    def label(self) -> str:
        return self.connection.label

    @property
    def notional(self) -> Decimal:
        return self.intent.amount * self.price

    @property
    def after(self) -> Decimal:
        """The position once the order fills."""
        return self.held + (self.intent.amount if self.intent.side == "buy" else -self.intent.amount)

    @property
    def grows(self) -> bool:
        """Opens, adds to or flips the position; False when it only reduces it."""
        return abs(self.after) > abs(self.held)

    @property
    def protective(self) -> bool:
        return self.intent.purpose in PROTECTIVE

    @cached_property
    def venue(self) -> Venue:
        return Venue.of(self.connection)

    def in_quote(self, value: Decimal, *, what: str) -> Decimal:
        """``value`` (in the market's quote currency) in the tenant's quote currency."""
        quote = self.limits.quote_currency
        converted = risk_prices.value_in(value, self.market.quote, quote, venue=self.venue)
        if converted is None:
            raise OrderRefused(
                "symbol",
                f"{self.market.quote} has no price in {quote} on {self.label}, so the {what} cannot be checked.",
                code="no_valuation",
            )
        return converted


def fmt(value: Decimal) -> str:
    """A sum for a message: cents for large sums, more digits for small ones."""
    value = Decimal(value)
    places = 2 if abs(value) >= 100 else 4 if abs(value) >= 1 else 8
    with localcontext(prec=EXACT_DIGITS):
        text = format(value.quantize(Decimal(1).scaleb(-places)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def num(value: Decimal) -> str:
    """An amount or price for a message, exactly, without trailing zeros."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_min_amount(p: Proposal) -> None:
    minimum = p.market.min_amount
    if minimum and p.intent.amount < minimum:
        raise OrderRefused(
            "amount",
            f"The amount {num(p.intent.amount)} is below {p.market.symbol}'s minimum {fmt(minimum)} on {p.label}.",
            code="min_amount",
        )


def check_protection_sides(p: Proposal) -> None:
    """A market order's stop-loss on the losing side of the price it is expected to fill at
    and its take-profit on the winning side: one on the wrong side would fire, or be refused
    and then fired, as soon as the order fills. (A limit or stop order's are checked against
    its own price when the order is read.)"""
    if p.intent.reference_price is not None or p.protective:
        return
    below, above = ("stop_loss", "take_profit") if p.intent.side == "buy" else ("take_profit", "stop_loss")
    for name, wrong in ((below, lambda v: v >= p.price), (above, lambda v: v <= p.price)):
        value = getattr(p.intent, name)
        if value is not None and wrong(value):
            side = "below" if name == below else "above"
            raise OrderRefused(
                name,
                f"Must be {side} the price this {p.intent.side} is expected to fill at on {p.label}, about "
                f"{num(p.price)} {p.market.quote}; at {num(value)} the {name.replace('_', '-')} would trigger at once.",
                code="protection_side",
            )


def check_min_notional(p: Proposal) -> None:
    """The order, and the stop-loss / take-profit placed for it once it fills, must each be
    worth the market's minimum order value: a protective order that can never be placed
    protects nothing."""
    minimum, quote = p.market.min_cost, p.market.quote
    if not minimum:
        return
    if p.notional < minimum:
        raise OrderRefused(
            "amount",
            f"The order is worth about {fmt(p.notional)} {quote}, below {p.market.symbol}'s minimum order "
            f"value {fmt(minimum)} {quote} on {p.label}.",
            code="min_notional",
        )
    for name in ("stop_loss", "take_profit"):
        price = getattr(p.intent, name)
        if price is not None and p.intent.amount * price < minimum:
            what = name.replace("_", "-")
            raise OrderRefused(
                name,
                f"At the {what} price {num(price)}, {num(p.intent.amount)} {p.market.base} is worth "
                f"{fmt(p.intent.amount * price)} {quote}, below {p.market.symbol}'s minimum order value "
                f"{fmt(minimum)} {quote} on {p.label}: the {what} order could never be placed. Buy more or move it.",
                code="min_notional",
            )


def check_max_positions(p: Proposal, *, open_elsewhere: int) -> None:
    """Only an order that opens a new position counts against the connection's maximum."""
    if p.held == 0 and open_elsewhere >= p.connection.max_positions:
        raise OrderRefused(
            "connection",
            f"{p.label} already holds {open_elsewhere} open position{'' if open_elsewhere == 1 else 's'} (orders on "
            f"their way included), its maximum of {p.connection.max_positions}.",
            code="max_positions",
        )


def check_order_notional(p: Proposal) -> None:
    maximum = p.limits.max_order_notional
    if maximum is None:
        return
    value = p.in_quote(p.notional, what="maximum order value")
    if value > maximum:
        quote = p.limits.quote_currency
        raise OrderRefused(
            "amount",
            f"This order is worth about {fmt(value)} {quote}, above your maximum order value of "
            f"{fmt(maximum)} {quote}.",
            code="max_order_notional",
        )


def check_position_size(p: Proposal) -> None:
    maximum = p.limits.max_position_notional
    if maximum is None or not p.grows:
        return
    value = p.in_quote(abs(p.after) * p.price, what="maximum position size")
    if value > maximum:
        quote = p.limits.quote_currency
        raise OrderRefused(
            "amount",
            f"Your {p.market.symbol} position on {p.label} would be worth about {fmt(value)} {quote} (orders on "
            f"their way included), above your maximum position size of {fmt(maximum)} {quote}.",
            code="max_position_notional",
        )


def check_balance(p: Proposal) -> None:
    """A buy needs the quote currency for the order and its taker fee; a sell needs the base."""
    balance = connection_balance(connection=p.connection)
    if p.intent.side == "buy":
        asset, needed = p.market.quote, p.notional * (1 + risk_prices.taker_fee(p.market))
        need = f"this order needs about {fmt(needed)} {asset}"
    else:
        asset, needed = p.market.base, p.intent.amount
        need = f"this order sells {fmt(needed)} {asset}"
    free = balance.free(asset)
    if free < needed:
        raise OrderRefused("amount", f"{p.label} has {fmt(free)} {asset} free; {need}.", code="insufficient_balance")
