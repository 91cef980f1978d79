"""The Celery app: settings under the CELERY_ namespace, tasks found in every app."""

import os
import threading
import time
from collections.abc import Iterator, Mapping

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class DjangoCeleryConfig(Mapping):
    """Django's ``CELERY_*`` settings as a plain dict, read when Celery loads its configuration.

    ``config_from_object("django.conf:settings")`` would look every name up on Django's lazy
    settings object, each of Celery's lookups trying several spellings (a miss raises
    AttributeError each time): about 0.05 ms of every task published. Celery reads its
    configuration once anyway (its workers and tasks keep what they read), so the settings
    are taken once, when Celery first needs them (after Django is configured).
    """

    def __init__(self) -> None:
        self._values: dict | None = None

    @property
    def values(self) -> dict:
        if self._values is None:
            from django.conf import settings

            self._values = {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}
        return self._values

    def __getitem__(self, key: str):
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


app = Celery("platform")
app.config_from_object(DjangoCeleryConfig(), namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connections_as_for_a_request(task=None, **kwargs) -> None:
    """Celery's Django fixup would close the database connection around every task (a new
    PostgreSQL backend per order); CELERY_DB_REUSE_MAX turns that off, and Django's own rules
    apply instead, as for a web request: CONN_MAX_AGE and the health check of a reused
    connection."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process (tests, eager mode): its connection is the caller's
    from django.db import close_old_connections, connections

    close_old_connections()
    if time.monotonic() - getattr(_last_task, "finished", float("-inf")) < CONNECTION_RECENTLY_USED:
        # The health check is a round trip (SELECT 1) before the task's first query. Right
        # after a task that used the connection it tells nothing new: skip it then. (A
        # connection lost in between fails that task; reconciliation sends the order again.)
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                connection.health_check_done = True


#: a connection that served a task this many seconds ago is not health-checked again
CONNECTION_RECENTLY_USED = 1.0
_last_task = threading.local()  # per thread: a threads pool keeps a connection per thread


@task_postrun.connect
def _connections_used(task=None, **kwargs) -> None:
    if task is not None and not getattr(task.request, "is_eager", False):
        _last_task.finished = time.monotonic()
