"""Thin tasks on the ``bots`` queue: ids and venues in, one service each."""

from celery import shared_task
from django.conf import settings

from trading.market.venues import Venue


@shared_task(name="bots.tasks.bots_evaluate", ignore_result=True)
def bots_evaluate() -> int:
    """Beat: one task per exchange+symbol+timeframe group with a closed candle to evaluate."""
    from bots.services.evaluation import subscriptions_due

    groups = subscriptions_due()
    size = settings.BOTS_GROUP_CHUNK
    for group in groups:
        for start in range(0, len(group.subscription_ids), size):
            bots_evaluate_group.apply_async(
                (group.venue.as_dict(), group.symbol, group.timeframe, group.candle_at,
                 group.subscription_ids[start:start + size]),
                expires=settings.BOTS_EVALUATE_EXPIRES,
            )  # fmt: skip
    return len(groups)


@shared_task(name="bots.tasks.bots_evaluate_group", ignore_result=True)
def bots_evaluate_group(venue: dict, symbol: str, timeframe: str, candle_at: int, subscription_ids: list[int]) -> dict:
    from bots.services.evaluation import group_evaluate

    return group_evaluate(venue=Venue(**venue), symbol=symbol, timeframe=timeframe, candle_at=candle_at,
                          subscription_ids=subscription_ids)  # fmt: skip


@shared_task(name="bots.tasks.backtest_run", ignore_result=True)
def backtest_run(backtest_id: int) -> None:
    from bots.services.backtests import backtest_run as run

    run(backtest_id=backtest_id)


@shared_task(name="bots.tasks.bot_listing_backtest", ignore_result=True)
def bot_listing_backtest(bot_id: int) -> None:
    from bots.models import Bot
    from bots.services.catalog import bot_listing_backtest as listing

    bot = Bot.objects.filter(pk=bot_id).first()
    if bot is not None:
        listing(bot=bot)
