"""Periodic tasks of the monitoring app (see monitoring.services.schedules_install)."""

SCHEDULES = [
    {
        "name": "Beat heartbeat",
        "task": "monitoring.tasks.heartbeat",
        "every_seconds": 30,
        "queue": "default",
        "description": "Shows in /api/v1/health/ that beat is alive.",
    },
]
