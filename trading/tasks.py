"""Thin tasks: load, call one service, done. Task arguments are ids and venues, never secrets."""

from celery import shared_task
from django.conf import settings

from exchanges import runtime
from trading.market.demand import market_demand
from trading.market.poller import poll_venue
from trading.market.venues import Venue


@shared_task(name="trading.tasks.market_poll", ignore_result=True)
def market_poll() -> int:
    """Beat, every tick: one poll task per venue in use, for all tenants together."""
    demand = market_demand()
    expires = settings.MARKET_POLL_INTERVAL * 2  # a poll that waited this long is stale: drop it
    for venue, symbols in demand.items():
        market_poll_venue.apply_async((venue.as_dict(), sorted(symbols)), expires=expires)
    return len(demand)


@shared_task(name="trading.tasks.market_poll_venue", ignore_result=True)
def market_poll_venue(venue: dict, symbols: list[str]) -> None:
    runtime.run(poll_venue(Venue(**venue), symbols), timeout=settings.MARKET_COMPARE_TIMEOUT * 2)
