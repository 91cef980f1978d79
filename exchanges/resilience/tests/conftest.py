"""Real Redis (settings.REDIS_URL), no database. Every test gets its own key prefix, so
tests (and engineers sharing the Redis) never see each other's budgets or breakers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from exchanges.resilience.connection import close_async_clients, sync_client

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def prefix(settings) -> str:
    """A fresh key prefix, also set as RESILIENCE_KEY_PREFIX for the default instances."""
    value = f"test-resilience-{uuid.uuid4().hex[:12]}"
    settings.RESILIENCE_KEY_PREFIX = value
    yield value
    client = sync_client()
    stale = list(client.scan_iter(match=f"{value}:*", count=1000))
    if stale:
        client.delete(*stale)


@pytest.fixture(autouse=True)
async def close_redis_clients():
    yield
    await close_async_clients()


class Processes:
    """Other OS processes running tests/worker_process.py; they all start at one moment."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int, **spec) -> None:
        spec = {"redis_url": django_settings.REDIS_URL, **spec}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for _ in range(count):
            proc = subprocess.Popen(
                [sys.executable, "-m", "exchanges.resilience.tests.worker_process", json.dumps(spec)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
        for proc in self.procs:
            assert proc.stdout.readline().strip() == "ready"

    def go(self, delay: float = 0.2) -> float:
        """Tell every process to start at now + ``delay`` (a shared wall-clock moment)."""
        start_at = time.time() + delay
        for proc in self.procs:
            proc.stdin.write(f"{start_at}\n")
            proc.stdin.flush()
        return start_at

    def results(self, timeout: float = 20) -> list:
        out = []
        for proc in self.procs:
            stdout, _ = proc.communicate(timeout=timeout)
            assert proc.returncode == 0
            out.append(json.loads(stdout))
        return out

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes():
    procs = Processes()
    yield procs
    procs.kill()
