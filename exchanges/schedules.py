"""Periodic tasks of the exchanges app (installed by monitoring.services.schedules_install)."""

SCHEDULES = [
    {
        "name": "Test exchange connections",
        "task": "exchanges.tasks.connections_test_all",
        "every_seconds": 300,
        "queue": "market",
        "description": "Re-tests every enabled connection: status, latency, last error.",
    },
]
