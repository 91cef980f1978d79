"""Subscriptions: a tenant runs a catalog bot on an exchange (or a routing policy) and a pair."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from bots.models import Subscription, SubscriptionStatus
from bots.models.subscriptions import TIMEFRAMES
from bots.services.configs import configs_validate
from exchanges.symbols import InvalidSymbol, normalize
from trading.models import Routing

MOVES = {  # what a user may do from each status
    "pause": ({SubscriptionStatus.RUNNING}, SubscriptionStatus.PAUSED),
    "resume": ({SubscriptionStatus.PAUSED, SubscriptionStatus.STOPPED}, SubscriptionStatus.RUNNING),
    "stop": ({SubscriptionStatus.RUNNING, SubscriptionStatus.PAUSED}, SubscriptionStatus.STOPPED),
}


def _where(*, connection, routing: str | None) -> tuple[object, str]:
    routing = routing or (Routing.EXPLICIT if connection is not None else Routing.PRIORITY)
    if routing not in Routing.values:
        raise ValidationError({"routing": f"Use one of {', '.join(Routing.values)}."})
    if connection is None and routing == Routing.EXPLICIT:
        raise ValidationError({"connection": "Give a connection, or a routing policy (priority, best_price)."})
    if connection is not None and routing != Routing.EXPLICIT:
        raise ValidationError({"routing": "A subscription with a connection trades there: leave routing explicit."})
    return connection, routing


def _symbol(symbol: str) -> str:
    try:
        return normalize(symbol)
    except InvalidSymbol as exc:
        raise ValidationError({"symbol": str(exc)}) from None


def subscription_create(
    *, tenant, user=None, bot, name: str, symbol: str, timeframe: str = "1h", connection=None,
    routing: str | None = None, strategy_config=None, execution_config=None, risk_config=None,
    status: str = SubscriptionStatus.RUNNING,
) -> Subscription:  # fmt: skip
    """``bot`` must come from the tenant's catalog and ``connection`` from its own connections."""
    if not (name or "").strip():
        raise ValidationError({"name": "Give the instance a name."})
    if timeframe not in TIMEFRAMES:
        raise ValidationError({"timeframe": f"Use one of {', '.join(TIMEFRAMES)}."})
    if status not in (SubscriptionStatus.RUNNING, SubscriptionStatus.PAUSED):
        raise ValidationError({"status": "Start it running or paused."})
    connection, routing = _where(connection=connection, routing=routing)
    configs = configs_validate(bot=bot, strategy_config=strategy_config, execution_config=execution_config,
                               risk_config=risk_config)  # fmt: skip
    return Subscription.objects.create(
        tenant=tenant, name=name.strip()[:120], bot=bot, connection=connection, routing=routing,
        symbol=_symbol(symbol), timeframe=timeframe, status=status, created_by=user, **configs,
    )  # fmt: skip


def subscription_update(*, subscription: Subscription, **fields) -> Subscription:
    """Name, configs, timeframe; the bot, pair and exchange stay (make a new instance for those)."""
    if "name" in fields:
        if not (fields["name"] or "").strip():
            raise ValidationError({"name": "Give the instance a name."})
        subscription.name = fields["name"].strip()[:120]
    if "timeframe" in fields:
        if fields["timeframe"] not in TIMEFRAMES:
            raise ValidationError({"timeframe": f"Use one of {', '.join(TIMEFRAMES)}."})
        subscription.timeframe = fields["timeframe"]
    configs = {k: fields[k] for k in ("strategy_config", "execution_config", "risk_config") if k in fields}
    if configs:
        for name, value in configs_validate(bot=subscription.bot, **configs).items():
            setattr(subscription, name, value)
    subscription.save()
    return subscription


def subscription_move(*, subscription: Subscription, move: str) -> Subscription:
    allowed, target = MOVES[move]
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if current.status not in allowed:
            raise ValidationError({"status": f"A {current.status} subscription cannot {move}."})
        current.status = target
        if target == SubscriptionStatus.RUNNING:
            current.error = ""
        current.save(update_fields=["status", "error", "updated_at"])
    return current


def subscription_stop(*, subscription: Subscription) -> Subscription:
    """Stop it; a stopped subscription stays as it is (its signals and orders are kept)."""
    if subscription.status == SubscriptionStatus.STOPPED:
        return subscription
    return subscription_move(subscription=subscription, move="stop")
