"""What a subscription does with a signal: an order through the order pipeline, or a reason
why not. Every signal is recorded with its outcome, once per subscription and candle."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum

from bots.models import BotSignal, SignalOutcome, Subscription
from trading.models import Order, OrderStatus, Routing, Trade
from trading.services import orders as order_services

log = logging.getLogger(__name__)

WORKING = (OrderStatus.PENDING, OrderStatus.SUBMITTING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED,
           OrderStatus.UNKNOWN)  # fmt: skip


def subscription_orders(subscription: Subscription):
    """Its signals' orders and the protective orders attached to them."""
    return Order.objects.filter(
        Q(bot_signals__subscription=subscription) | Q(parent__bot_signals__subscription=subscription)
    ).distinct()


def subscription_fills(subscription: Subscription):
    return Trade.objects.filter(
        Q(order__bot_signals__subscription=subscription) | Q(order__parent__bot_signals__subscription=subscription)
    ).distinct()


@dataclass
class Book:
    """What a set of subscriptions holds (base amount of their own fills) and which of their
    orders are still working: read in three queries for a whole group, not per subscription."""

    holding: dict[int, Decimal] = field(default_factory=dict)
    working: set[tuple[int, str]] = field(default_factory=set)  # (subscription, "entry-buy" / "exit-sell")


def book_for(subscription_ids) -> Book:
    book = Book()
    ids = list(subscription_ids)
    if not ids:
        return book
    for path in ("order__bot_signals__subscription_id", "order__parent__bot_signals__subscription_id"):
        rows = Trade.objects.filter(**{f"{path}__in": ids}).values(path, "side").annotate(total=Sum("amount"))
        for row in rows.order_by():
            sign = 1 if row["side"] == "buy" else -1
            sub = row[path]
            book.holding[sub] = book.holding.get(sub, Decimal(0)) + sign * row["total"]
    working = Order.objects.filter(bot_signals__subscription_id__in=ids, status__in=WORKING, parent__isnull=True)
    for sub, side in working.values_list("bot_signals__subscription_id", "side").order_by():
        book.working.add((sub, side))
    return book


def _decimal(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Give a number."}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({field: "Must be greater than zero."})
    return number


def _buy_amount(subscription: Subscription, price: Decimal) -> Decimal:
    execution = subscription.execution_config or {}
    amount = _decimal(execution.get("amount"), "execution_config.amount")
    if amount is not None:
        return amount
    quote = _decimal(execution.get("order_amount"), "execution_config.order_amount")
    if quote is None:
        raise ValidationError({"execution_config": "Set order_amount (quote currency) or amount (base currency)."})
    return quote / price


def _protection(subscription: Subscription, price: Decimal) -> dict:
    risk = subscription.risk_config or {}
    out = {}
    stop = _decimal(risk.get("stop_loss_pct"), "risk_config.stop_loss_pct")
    take = _decimal(risk.get("take_profit_pct"), "risk_config.take_profit_pct")
    if stop is not None:
        out["stop_loss"] = price * (1 - stop / 100)
    if take is not None:
        out["take_profit"] = price * (1 + take / 100)
    return out


def decide(subscription: Subscription, action, book: Book) -> tuple[dict | None, str]:
    """The order a BUY/SELL asks for, or why there is none."""
    price = Decimal(str(action.price)) if action.price else None
    holding = book.holding.get(subscription.pk, Decimal(0))
    if action.kind == "BUY":
        if (subscription.pk, "buy") in book.working:
            return None, "an entry order is still working"
        if holding > 0:
            return None, "already long"
        if price is None:
            return None, "the bot gave no price to size the order with"
        return {"symbol": subscription.symbol, "side": "buy", "type": "market",
                "amount": _buy_amount(subscription, price), **_protection(subscription, price)}, ""  # fmt: skip
    if holding <= 0:
        return None, "nothing to sell (flat)"
    if (subscription.pk, "sell") in book.working:
        return None, "an exit order is still working"
    return {"symbol": subscription.symbol, "side": "sell", "type": "market", "amount": holding}, ""


def signal_act(
    *, subscription: Subscription, action, candle_at: int, duration_ms: float = 0, book: Book | None = None
) -> BotSignal | None:
    """Record the signal and act on it; None when this candle was already handled."""
    reason = (action.reason or "")[:500]
    price = Decimal(str(action.price)) if action.price is not None else None
    with transaction.atomic():
        signal, created = BotSignal.objects.get_or_create(
            subscription=subscription, candle_at=candle_at,
            defaults={"tenant_id": subscription.tenant_id, "action": action.kind, "price": price, "reason": reason,
                      "outcome": SignalOutcome.HOLD, "duration_ms": duration_ms},
        )  # fmt: skip
        if not created:
            return None
        if action.kind == "HOLD":
            return signal
        try:
            fields, why_not = decide(subscription, action, book or book_for([subscription.pk]))
            if fields is None:
                signal.outcome, signal.detail = SignalOutcome.SKIPPED, why_not
            else:
                with transaction.atomic():  # a refusal leaves no half-made order behind
                    order = order_services.order_place(
                        tenant=subscription.tenant, intent=order_services.intent_clean(**fields),
                        routing_policy=subscription.routing if subscription.connection_id is None else Routing.EXPLICIT,
                        connection=subscription.connection, idempotency_key=f"bot:{subscription.pk}:{candle_at}",
                        user=subscription.created_by, source="bot",
                    )  # fmt: skip
                signal.outcome, signal.order = SignalOutcome.ORDER, order
                signal.detail = f"order {order.pk}: {order.side} {order.amount} {order.symbol}"
        except ValidationError as exc:
            signal.outcome = SignalOutcome.REFUSED
            signal.detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())[:500] \
                if hasattr(exc, "message_dict") else " ".join(exc.messages)[:500]  # fmt: skip
        signal.save(update_fields=["outcome", "detail", "order"])
    return signal
