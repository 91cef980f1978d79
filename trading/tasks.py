"""Thin tasks: load, call one service, done. Task arguments are ids and venues, never secrets."""

from celery import shared_task
from django.conf import settings

import trading.protection_tasks  # noqa: F401  (registers the stop-loss / take-profit tasks)
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


# --- orders (queue "orders": acks late, prefetch 1) ------------------------------------------
@shared_task(name="trading.tasks.order_send", ignore_result=True)
def order_send(order_id: int) -> None:
    """Send the order, or resolve its unknown outcome: the row's status says which. Safe to
    run twice: the row lock and the status map make a second copy do nothing."""
    from trading.services.execution import order_send as send

    send(order_id=order_id)


@shared_task(name="trading.tasks.orders_reconcile", ignore_result=True)
def orders_reconcile() -> dict:
    from trading.services.reconcile import orders_reconcile as reconcile

    return reconcile()


@shared_task(name="trading.tasks.orders_sync_connection", ignore_result=True)
def orders_sync_connection(connection_id: int) -> int:
    from exchanges.models import ExchangeConnection
    from trading.services.reconcile import connection_sync

    connection = ExchangeConnection.objects.filter(pk=connection_id).first()
    return connection_sync(connection=connection) if connection else 0
