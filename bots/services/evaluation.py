"""Evaluating running subscriptions on every closed candle, grouped by exchange, symbol
and timeframe: candles are fetched once per group, and a signal is computed once per
distinct bot and config in the group, however many subscriptions share it.

Each subscription is claimed for a candle before it is evaluated (``last_candle_at``), so
two workers, or a redelivered task, never evaluate it twice for the same candle; with the
signal's unique (subscription, candle) row and the order's idempotency key that makes one
order per signal at most.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bots.models import BotSignal, SignalOutcome, Subscription, SubscriptionStatus
from bots.models.subscriptions import TIMEFRAMES
from bots.services.candles import CandlesUnavailable, candles_fetch, last_closed_open
from bots.services.runtime import BotUnavailable, bot_load, feature_key
from bots.services.signals import book_for, decide, signal_act
from exchanges.models import ExchangeConnection
from trading.market.venues import Venue

log = logging.getLogger(__name__)


@dataclass
class Group:
    venue: Venue
    symbol: str
    timeframe: str
    candle_at: int  # open time of the candle to evaluate
    subscription_ids: list[int] = field(default_factory=list)


def _default_connections(tenant_ids) -> dict[int, dict]:
    """Where a subscription without a connection reads its candles: the tenant's first exchange."""
    rows = (
        ExchangeConnection.objects.filter(tenant_id__in=tenant_ids, enabled=True)
        .order_by("tenant_id", "priority", "id")
        .values("id", "tenant_id", "exchange", "api_base_url", "testnet")
    )
    first: dict[int, dict] = {}
    for row in rows:
        first.setdefault(row["tenant_id"], row)
    return first


def _venue(row: dict) -> Venue:
    return Venue.of(SimpleNamespace(pk=row["id"], exchange=row["exchange"], api_base_url=row["api_base_url"],
                                    testnet=row["testnet"]))  # fmt: skip


def subscriptions_due(*, now_ms: int | None = None) -> list[Group]:
    """Running subscriptions whose newest closed candle has not been evaluated, grouped."""
    closed = {tf: last_closed_open(tf, now_ms=now_ms) for tf in TIMEFRAMES}
    due = Q()
    for timeframe, candle_at in closed.items():
        due |= Q(timeframe=timeframe) & (Q(last_candle_at__isnull=True) | Q(last_candle_at__lt=candle_at))
    rows = list(
        Subscription.objects.filter(status=SubscriptionStatus.RUNNING)
        .filter(due)
        .values(
            "id",
            "tenant_id",
            "symbol",
            "timeframe",
            "connection_id",
            "connection__exchange",
            "connection__api_base_url",
            "connection__testnet",
            "connection__enabled",
        )  # fmt: skip
    )
    defaults = _default_connections({r["tenant_id"] for r in rows if r["connection_id"] is None})
    groups: dict[tuple, Group] = {}
    for row in rows:
        if row["connection_id"] is not None:
            if not row["connection__enabled"]:
                continue  # a disabled exchange trades nothing; its subscriptions wait
            source = {
                "id": row["connection_id"],
                "exchange": row["connection__exchange"],
                "api_base_url": row["connection__api_base_url"],
                "testnet": row["connection__testnet"],
            }
        else:
            source = defaults.get(row["tenant_id"])
            if source is None:
                continue
        venue = _venue(source)
        key = (venue, row["symbol"], row["timeframe"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(venue, row["symbol"], row["timeframe"], closed[row["timeframe"]])
        group.subscription_ids.append(row["id"])
    return list(groups.values())


_CLAIM_SQL = """
    UPDATE bots_subscription SET last_candle_at = %s, last_evaluated_at = %s
    WHERE id = ANY(%s) AND status = %s AND (last_candle_at IS NULL OR last_candle_at < %s)
    RETURNING id
"""


def _claim(subscription_ids: list[int], candle_at: int) -> list[Subscription]:
    """Take the subscriptions for this candle: one statement on PostgreSQL (the row locks of
    the UPDATE make a concurrent claim wait and then skip them), a locked read elsewhere."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [candle_at, now, list(subscription_ids), SubscriptionStatus.RUNNING, candle_at])
            ids = [row[0] for row in cursor.fetchall()]
    else:
        with transaction.atomic():
            claimable = (
                Subscription.objects.select_for_update()
                .filter(pk__in=subscription_ids, status=SubscriptionStatus.RUNNING)
                .filter(Q(last_candle_at__isnull=True) | Q(last_candle_at__lt=candle_at))
            )
            ids = list(claimable.values_list("pk", flat=True))
            Subscription.objects.filter(pk__in=ids).update(last_candle_at=candle_at, last_evaluated_at=now)
    if not ids:
        return []
    return list(
        Subscription.objects.filter(pk__in=ids)
        .select_related("bot", "connection", "tenant", "created_by")
        .prefetch_related("bot__files")
    )


def subscription_fail(*, subscription: Subscription, error: str) -> None:
    """Stop a subscription whose bot crashed or was too slow, saying why."""
    Subscription.objects.filter(pk=subscription.pk).update(
        status=SubscriptionStatus.STOPPED, error=error[:2000], updated_at=timezone.now()
    )
    log.warning("subscription %s stopped: %s", subscription.pk, error[:200])


@dataclass
class _Outcome:
    action: object = None
    error: str = ""
    duration_ms: float = 0.0


def _evaluate(instance, candles) -> _Outcome:
    started = time.perf_counter()
    try:
        action = instance.analyze_market(candles)
    except BotUnavailable as exc:
        return _Outcome(error=str(exc), duration_ms=(time.perf_counter() - started) * 1000)
    except Exception as exc:  # the bot's own failure: it is stopped, the group goes on
        elapsed = (time.perf_counter() - started) * 1000
        return _Outcome(error=f"The bot failed: {type(exc).__name__}: {exc}", duration_ms=elapsed)
    duration = (time.perf_counter() - started) * 1000
    if duration > settings.BOTS_SLOW_MS:
        return _Outcome(error=f"The bot took {duration:.0f} ms on one candle; the limit is {settings.BOTS_SLOW_MS} ms.",
                        duration_ms=duration)  # fmt: skip
    return _Outcome(action=action, duration_ms=duration)


def group_evaluate(*, venue: Venue, symbol: str, timeframe: str, candle_at: int, subscription_ids: list[int]) -> dict:
    """One candle for a group of subscriptions; returns counts of what happened."""

    subscriptions = _claim(subscription_ids, candle_at)
    counts: dict[str, int] = defaultdict(int)
    if not subscriptions:
        return dict(counts)
    instances: dict[int, object] = {}
    failed: dict[int, str] = {}
    loaded: dict[tuple, object] = {}  # one instance per bot and config, however many subscribe
    for sub in subscriptions:
        key = (sub.bot_id, json.dumps(sub.strategy_config or {}, sort_keys=True, default=str))
        try:
            if key not in loaded:
                loaded[key] = bot_load(bot=sub.bot, strategy_config=sub.strategy_config or {})
            instances[sub.pk] = loaded[key]
        except BotUnavailable as exc:
            failed[sub.pk] = str(exc)
        except Exception as exc:  # a config the bot refuses, a model that breaks: this one stops, not the group
            failed[sub.pk] = f"The bot could not start: {type(exc).__name__}: {exc}"[:2000]
    # The history the bots need (EMA-based ones want more than their warm-up), within what
    # one request to an exchange returns.
    needed = max([_history(i) for i in instances.values()] + [0])
    try:
        limit = min(max(settings.BOTS_CANDLES_LIMIT, needed), settings.BOTS_CANDLES_MAX)
        candles = candles_fetch(venue=venue, symbol=symbol, timeframe=timeframe, limit=limit)
    except CandlesUnavailable as exc:
        now = timezone.now()
        BotSignal.objects.bulk_create(
            [BotSignal(tenant_id=s.tenant_id, subscription=s, candle_at=candle_at, action="HOLD",
                       outcome=SignalOutcome.SKIPPED, detail=str(exc)[:500], created_at=now) for s in subscriptions],
            ignore_conflicts=True,
        )  # fmt: skip
        counts["skipped"] += len(subscriptions)
        return dict(counts)
    candle_at = int(candles["timestamp"].iloc[-1])
    computed: dict[tuple, _Outcome] = {}  # one evaluation per distinct bot and config
    holds: list[BotSignal] = []
    by_kind: dict[str, list[int]] = defaultdict(list)
    actionable: list[tuple[Subscription, object, float]] = []
    for sub in subscriptions:
        if sub.pk in failed:
            _record_error(sub, candle_at, failed[sub.pk])
            counts["error"] += 1
            continue
        instance = instances[sub.pk]
        key = feature_key(instance)
        outcome = computed.get(key)
        if outcome is None:
            outcome = computed[key] = _evaluate(instance, candles)
        if outcome.error:
            _record_error(sub, candle_at, outcome.error, outcome.duration_ms)
            counts["error"] += 1
            continue
        action = outcome.action
        by_kind[action.kind].append(sub.pk)
        if action.kind == "HOLD":
            holds.append(BotSignal(tenant_id=sub.tenant_id, subscription=sub, candle_at=candle_at, action="HOLD",
                                   price=_price(action), reason=(action.reason or "")[:500], outcome=SignalOutcome.HOLD,
                                   duration_ms=outcome.duration_ms))  # fmt: skip
            continue
        actionable.append((sub, action, outcome.duration_ms))
    _act(actionable, candle_at, holds, counts)
    if holds:
        BotSignal.objects.bulk_create(holds, ignore_conflicts=True)
        counts["hold"] += sum(1 for h in holds if h.outcome == SignalOutcome.HOLD)
    for kind, ids in by_kind.items():
        Subscription.objects.filter(pk__in=ids).update(last_action=kind)
    return dict(counts)


def _act(actionable: list, candle_at: int, holds: list[BotSignal], counts: dict) -> None:
    """BUY and SELL signals: decided together from one read of what the group holds; only
    those that become orders are handled one by one (each in its own transaction)."""
    from bots.services.events import signal_publish

    book = book_for(sub.pk for sub, _, _ in actionable)
    for sub, action, duration_ms in actionable:
        try:
            fields, why_not = decide(sub, action, book)
        except ValidationError:
            fields, why_not = {}, ""  # signal_act records the refusal with its field
        if fields is None:  # nothing to do: recorded with the holds, in one insert
            holds.append(BotSignal(tenant_id=sub.tenant_id, subscription=sub, candle_at=candle_at, action=action.kind,
                                   price=_price(action), reason=(action.reason or "")[:500],
                                   outcome=SignalOutcome.SKIPPED, detail=why_not, duration_ms=duration_ms))  # fmt: skip
            counts["skipped"] += 1
            continue
        signal = signal_act(subscription=sub, action=action, candle_at=candle_at, duration_ms=duration_ms, book=book)
        if signal is not None:
            counts[signal.outcome] += 1
            signal_publish(signal=signal, subscription=sub)


def _history(instance) -> int:
    try:
        return int(instance.required_history())
    except (AttributeError, TypeError, ValueError):
        return int(getattr(instance, "warmup", 0) or 0)


def _price(action):
    return None if action.price is None else Decimal(str(action.price))


def _record_error(sub: Subscription, candle_at: int, error: str, duration_ms: float = 0) -> None:
    BotSignal.objects.get_or_create(
        subscription=sub, candle_at=candle_at,
        defaults={"tenant_id": sub.tenant_id, "action": "HOLD", "outcome": SignalOutcome.ERROR,
                  "detail": error[:500], "duration_ms": duration_ms},
    )  # fmt: skip
    subscription_fail(subscription=sub, error=error)
