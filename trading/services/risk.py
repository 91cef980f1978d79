"""Pre-trade checks: every new order passes them on the exchange routing chose.

Each check refuses with ``OrderRefused`` naming the field and saying why in words a
trader understands. The exchange stays the last word (its own refusal is recorded as the
order's reason); these checks stop what the platform can already see is wrong.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.adapters.types import Market
from exchanges.precision import truncate
from trading.services.intents import Intent, OrderRefused


def kill_switch_check(*, tenant, intent: Intent) -> None:
    from trading.models import TradingSettings

    settings_row = TradingSettings.objects.filter(tenant=tenant).first()
    if settings_row and settings_row.kill_switch and intent.purpose == "entry":
        reason = f": {settings_row.kill_switch_reason}" if settings_row.kill_switch_reason else ""
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
    label = connection.label
    intent = precision_apply(intent=intent, market=market, label=label)
    if market.min_amount and intent.amount < market.min_amount:
        raise OrderRefused(
            "amount",
            f"The amount {intent.amount} is below {market.symbol}'s minimum {market.min_amount} on {label}.",
            code="min_amount",
        )
    price = intent.reference_price or reference_price
    if market.min_cost and price:
        notional = intent.amount * price
        if notional < market.min_cost:
            raise OrderRefused(
                "amount",
                f"The order is worth {notional:.8f} {market.quote}, below {market.symbol}'s minimum order value "
                f"{market.min_cost} on {label}.",
                code="min_notional",
            )
    return intent
