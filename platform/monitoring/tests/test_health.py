"""Health against the real database, Redis, channel layer and Celery worker."""

import time
import uuid

import pytest
from celery import Celery
from django.conf import settings
from django.core.cache import cache
from django_celery_beat.models import PeriodicTask

from monitoring.services import HEARTBEAT_KEY, health_report
from monitoring.tasks import heartbeat, ping
from tenancy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


def test_a_broker_without_workers_is_degraded_and_says_why():
    # The real broker, with a control exchange of its own that no worker listens on (whatever
    # else runs on this Redis: a bench's workers, a dev server's).
    lonely = Celery("lonely", broker=settings.REDIS_URL, set_as_current=False)
    lonely.conf.control_exchange = f"lonely-{uuid.uuid4().hex}"
    report = health_report(celery_app=lonely)
    assert report["status"] == "degraded"
    checks = report["checks"]
    assert checks["database"]["ok"] is True and checks["database"]["vendor"] == "postgresql"
    assert checks["redis"]["ok"] is True
    assert checks["channel_layer"]["ok"] is True
    assert checks["celery"]["ok"] is False
    assert "no Celery worker" in checks["celery"]["error"]


def test_redis_down_is_503_without_leaking_the_url(staff_client, settings):
    settings.REDIS_URL = "redis://:hunter2secret@127.0.0.1:1/0"
    response = staff_client.get("/api/v1/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["redis"]["ok"] is False
    assert "hunter2secret" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_a_real_worker_over_redis(celery_worker):
    result = ping.delay()
    answer = result.get(timeout=30)
    assert answer["pong"] is True
    assert result.successful()


@pytest.mark.django_db(transaction=True)
def test_health_with_a_worker_is_ok(staff_client, celery_worker):
    response = staff_client.get("/api/v1/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert celery_worker in body["checks"]["celery"]["workers"]
    assert set(body["checks"]["celery"]["queues"]) == {"orders", "market", "bots", "default"}


@pytest.mark.django_db(transaction=True)
def test_anonymous_callers_get_the_status_without_details(client, celery_worker):
    response = client.get("/api/v1/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["celery"] == {"ok": True}
    assert celery_worker not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_beat_heartbeat_is_scheduled_and_shows_in_health(staff_client, celery_worker):
    client = staff_client
    task = PeriodicTask.objects.get(task="monitoring.tasks.heartbeat")
    assert (task.interval.every, task.interval.period, task.enabled) == (30, "seconds", True)
    cache.delete(HEARTBEAT_KEY)
    assert client.get("/api/v1/health/").json()["checks"]["beat"]["ok"] is False
    heartbeat.delay()  # what beat sends every 30 s, run by the real worker
    deadline = time.monotonic() + 20
    beat = {}
    while time.monotonic() < deadline:
        beat = client.get("/api/v1/health/").json()["checks"]["beat"]
        if beat["ok"]:
            break
        time.sleep(0.2)
    assert beat["ok"] is True
    assert beat["age_seconds"] < 30
