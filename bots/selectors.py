"""Reads, always for a tenant: the catalog it may see, its subscriptions, signals, backtests."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from bots.models import Backtest, Bot, BotSignal, ReviewStatus, Subscription, Visibility
from tenancy.scoping import get_scoped_or_404, scoped


def bot_catalog(*, tenant, mine: bool | None = None, bot_type: str | None = None) -> QuerySet[Bot]:
    """Published, approved bots and the tenant's own (whatever their state)."""
    if tenant is None:
        return Bot.objects.none()
    listed = Q(visibility=Visibility.PUBLISHED, review_status=ReviewStatus.APPROVED)
    own = Q(author_id=tenant.pk)
    queryset = Bot.objects.filter(own if mine else (listed | own))
    if bot_type:
        queryset = queryset.filter(bot_type=bot_type)
    return queryset.annotate(file_count=Count("files", distinct=True)).order_by("name", "id")


def bot_get(*, tenant, bot_id) -> Bot:
    """A bot the tenant may see and subscribe to; anything else is a 404."""
    try:
        return bot_catalog(tenant=tenant).get(pk=bot_id)
    except (Bot.DoesNotExist, ValueError, TypeError):
        raise Http404("No bot matches the given query.") from None


def bot_get_own(*, tenant, bot_id) -> Bot:
    """A bot the tenant wrote: only its author changes it or uploads to it."""
    return get_scoped_or_404(Bot, tenant=tenant, pk=bot_id)


def subscription_list(*, tenant, status: str | None = None) -> QuerySet[Subscription]:
    queryset = scoped(Subscription, tenant=tenant).select_related("bot", "connection")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def subscription_get(*, tenant, subscription_id) -> Subscription:
    return get_scoped_or_404(subscription_list(tenant=tenant), tenant=tenant, pk=subscription_id)


def signal_list(*, tenant, subscription: Subscription | None = None, actions_only: bool = False):
    queryset = scoped(BotSignal, tenant=tenant).select_related("subscription")
    if subscription is not None:
        queryset = queryset.filter(subscription=subscription)
    if actions_only:
        queryset = queryset.exclude(action="HOLD")
    return queryset


def backtest_list(*, tenant) -> QuerySet[Backtest]:
    return scoped(Backtest, tenant=tenant).select_related("bot")


def backtest_get(*, tenant, backtest_id) -> Backtest:
    return get_scoped_or_404(backtest_list(tenant=tenant), tenant=tenant, pk=backtest_id)
