"""What the browser tests and the price-to-page benchmark run against: daphne serving the
platform on a free port (a subprocess on the test database), the market poller ticking as
beat would, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    """Debian's chromium (bin/test installs it); CHROMIUM_PATH overrides."""
    for path in (os.environ.get("CHROMIUM_PATH"), *CHROMIUM_PATHS, shutil.which("chromium")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "no chromium at /usr/bin/chromium (bin/test installs it with apt-get when it may: root or sudo)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaphneProcess:
    """``daphne config.asgi:application`` on 127.0.0.1 and a free port, with the given env."""

    def __init__(self, env: dict[str, str], *, log_name: str = "test-daphne.log"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, **env)
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform"), self.env.get("PYTHONPATH", "")])
        self.log_path = ROOT / "var" / log_name
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self, timeout: float = 60) -> None:
        self.log_path.parent.mkdir(exist_ok=True)
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(self.url + "/accounts/login/", timeout=2).close()  # noqa: S310  (our own URL)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not answer within {timeout:g} s; see {self.log_path}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.log is not None:
            self.log.close()


class MarketPoller:
    """Beat's market poll, every ``interval`` seconds on a fixed cadence, in a thread: the
    demand of every provider (watchlists, open dashboards ...), then the real poll task of
    each venue, which caches the tickers and publishes them to the price groups."""

    def __init__(self, interval: float):
        self.interval = interval
        self.ticks = 0
        self.errors: list[str] = []
        self.tick_seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="market-poller", daemon=True)

    def start(self) -> MarketPoller:
        self._thread.start()
        return self

    def _tick(self) -> None:
        from trading.market.demand import market_demand
        from trading.tasks import market_poll_venue

        for venue, symbols in market_demand().items():
            market_poll_venue(venue.as_dict(), sorted(symbols))

    def _run(self) -> None:
        from django.db import connection

        started = time.monotonic()
        while not self._stop.is_set():
            tick_started = time.monotonic()
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001  (a failed tick is retried at the next, as beat would)
                self.errors.append(repr(exc))
            finally:
                connection.close()  # never hold the test database open between ticks
            self.tick_seconds.append(time.monotonic() - tick_started)
            self.ticks += 1
            # the next tick on the cadence; a slow tick skips the ones it overran, as beat's expiry does
            elapsed = time.monotonic() - started
            next_tick = started + (int(elapsed / self.interval) + 1) * self.interval
            self._stop.wait(max(0.0, next_tick - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
