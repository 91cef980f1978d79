from django.conf import settings

from trading.protection_schedules import SCHEDULES as PROTECTION_SCHEDULES

SCHEDULES = [
    {
        "name": "Poll market data",
        "task": "trading.tasks.market_poll",
        "every_seconds": max(int(settings.MARKET_POLL_INTERVAL), 1),
        "queue": "market",
        "description": "Prices of every exchange and symbol in use, for all tenants at once.",
    },
    {
        "name": "Reconcile orders",
        "task": "trading.tasks.orders_reconcile",
        "every_seconds": max(int(settings.ORDER_RECONCILE_INTERVAL), 1),
        "queue": "orders",
        "description": "Sync open orders, resolve unknown ones, resend lost ones, flag differences.",
    },
]
SCHEDULES += PROTECTION_SCHEDULES
