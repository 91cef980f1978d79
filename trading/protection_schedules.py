"""Beat entries of stop-loss and take-profit (merged into trading.schedules.SCHEDULES)."""

from django.conf import settings

SCHEDULES = [
    {
        "name": "Watch stop-loss and take-profit triggers",
        "task": "trading.tasks.orders_protection_watch",
        "every_seconds": max(int(settings.MARKET_POLL_INTERVAL), 1),
        "queue": "orders",
        "description": "Fires waiting protective orders whose price the market crossed (cached tickers).",
    },
    {
        "name": "Sweep orphaned protective orders",
        "task": "trading.tasks.orders_protection_sweep",
        "every_seconds": 60,
        "queue": "orders",
        "description": "Cancels stop-loss / take-profit orders whose entry, position or sibling is gone.",
    },
]
