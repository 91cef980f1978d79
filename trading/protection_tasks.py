"""Stop-loss and take-profit tasks (queue ``orders``: their names start ``trading.tasks.orders_``).

Imported by trading.tasks so every worker registers them; importing the watcher also
registers its market demand, so the poller fetches the prices waiting orders need.
"""

from celery import shared_task

from trading.services import protection, protection_watch


@shared_task(name="trading.tasks.orders_protection_watch", ignore_result=True)
def orders_protection_watch() -> int:
    """Beat, every market tick: fire waiting protective orders whose price was crossed."""
    return protection_watch.protection_watch()


@shared_task(name="trading.tasks.orders_protection_sweep", ignore_result=True)
def orders_protection_sweep() -> int:
    """Beat: cancel protective orders whose entry, position or sibling is gone."""
    return protection_watch.protection_sweep()


@shared_task(name="trading.tasks.orders_protection_cancel", ignore_result=True)
def orders_protection_cancel(order_id: int, reason: str) -> None:
    """One-cancels-other at the exchange, after the transaction that saw the sibling fill."""
    protection.protective_cancel(order_id=order_id, reason=reason)
