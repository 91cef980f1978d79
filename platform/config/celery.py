"""The Celery app: settings under the CELERY_ namespace, tasks found in every app."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connections_as_for_a_request(task=None, **kwargs) -> None:
    """Celery's Django fixup would close the database connection around every task (a new
    PostgreSQL backend per order); CELERY_DB_REUSE_MAX turns that off, and Django's own rules
    apply instead, as for a web request: CONN_MAX_AGE and the health check of a reused
    connection."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process (tests, eager mode): its connection is the caller's
    from django.db import close_old_connections

    close_old_connections()
