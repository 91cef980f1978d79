"""What an order asks for before it has a row, and the refusals placing one can meet.

Routing and the pre-trade checks take an ``Intent`` and give back a ``Route``: the
connection chosen and the intent truncated to that exchange's precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Intent:
    symbol: str  # unified, e.g. BTC/USDT
    side: str  # buy / sell
    type: str = "market"  # market / limit / stop / stop_limit
    amount: Decimal = Decimal(0)
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "GTC"
    stop_loss: Decimal | None = None  # a price; the protective order is placed once this fills
    take_profit: Decimal | None = None
    purpose: str = "entry"  # entry / stop_loss / take_profit: protective orders pass a kill switch

    def with_(self, **changes) -> Intent:
        return replace(self, **changes)

    @property
    def reference_price(self) -> Decimal | None:
        """The price the order is expected to trade at, when the intent itself says."""
        return self.price or self.stop_price


@dataclass(frozen=True)
class Leg:
    """One exchange's part of a route."""

    connection: object  # exchanges.models.ExchangeConnection
    intent: Intent  # amount and prices truncated to this exchange's market
    estimated_price: Decimal | None = None  # average fill expected (market orders), fee excluded


@dataclass(frozen=True)
class Route:
    legs: tuple[Leg, ...]  # one leg, or several for a split
    policy: str
    considered: tuple[dict, ...] = field(default_factory=tuple)  # {"connection", "label", "ok", "reason"}

    @property
    def split(self) -> bool:
        return len(self.legs) > 1

    @property
    def connection(self):
        return self.legs[0].connection


class OrderRefused(ValidationError):
    """A pre-trade check or routing said no. A ValidationError: the API answers 400 naming
    the field, e.g. {"amount": ["The amount 0.00001 is below BTC/USDT's minimum 0.0001 on Binance."]}.
    """

    def __init__(self, field_name: str, message: str, *, code: str = "refused", considered: tuple[dict, ...] = ()):
        self.field_name = field_name
        self.refusal_code = code
        self.considered = considered  # routing: each connection looked at and why it could not take the order
        super().__init__({field_name: [message]}, code=code)

    @property
    def text(self) -> str:
        return next(iter(self.message_dict.values()))[0]
