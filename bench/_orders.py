"""Shared by the order benchmarks (order_latency.py, order_throughput.py).

- ``configure()``: the environment of the bench process and of every worker it starts: a
  PostgreSQL database of its own (``bench_orders``, migrated on start), Redis db 13 with
  ``bench-*`` prefixes, DEBUG off, and Binance's rate limit set so low
  (``EXCHANGE_RATE_LIMIT_MS=binance=0.001``) that the shared budget never makes a request wait.
- ``app``: a bare Celery app (same Redis broker, same acks-late / prefetch-1 semantics as the
  platform's ``orders`` queue) with the baseline tasks: ``noop`` (a queue round trip) and
  ``create_order`` (one ccxt ``create_order``, nothing else). Its workers run with
  ``celery -A _orders worker`` and import neither Django nor the platform.
- ``Workers``: real ``celery worker`` subprocesses (solo pool), stopped on exit whatever happens.
- ``Acks``: the simulator (a thread of the bench process) timestamps every order it creates.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from celery import Celery, signals

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_ORDERS_DB", "bench_orders")
REDIS_URL = os.environ.get("BENCH_ORDERS_REDIS_URL", "redis://127.0.0.1:6379/13")
RATE_LIMIT = "binance=0.001"  # ms per ccxt cost unit: a budget of a million units/s, never waited on
BARE_QUEUE = "bench-orders-bare"
BARE_EVENTS_QUEUE = "bench-orders-bare-events"
SYMBOL = "BTC/USDT"
AMOUNT = "0.001"

ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
    "REDIS_URL": REDIS_URL,
    "EXCHANGE_RATE_LIMIT_MS": RATE_LIMIT,
    "MARKET_KEY_PREFIX": "bench-market",
    "RESILIENCE_KEY_PREFIX": "bench-resilience",
    "CACHE_KEY_PREFIX": "bench-cache",
    "CHANNEL_LAYER_PREFIX": "bench-asgi",
    "LOG_LEVEL": "WARNING",
}


def configure() -> None:
    """Call before ``import _setup`` (which configures Django)."""
    os.environ.update(ENV)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform"), str(BENCH)])


def ensure_database() -> None:
    """Create ``bench_orders`` when missing, apply new migrations and empty it (Django
    configured): the orders of earlier runs would make every index bigger and each run's
    figures a little worse than the one before (153/s against 194/s on the same code)."""
    import psycopg
    from django.core.management import call_command

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):  # only when something is new
        call_command("migrate", verbosity=0, interactive=False)
    from tenancy.models import Tenant

    with connection.cursor() as cursor:  # every tenant-owned row goes with the tenants
        cursor.execute(f'TRUNCATE "{Tenant._meta.db_table}" CASCADE')


# --- the bare baseline: a Celery app that knows nothing of the platform ------------------------
app = Celery("bench-orders-bare", broker=REDIS_URL)
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    task_default_queue=BARE_QUEUE,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_local: dict = {}
_HOST = re.compile(r"^https?://[^/]+")


def _redis():
    if "redis" not in _local:
        import redis

        _local["redis"] = redis.Redis.from_url(REDIS_URL)
    return _local["redis"]


def _rewrite(urls, base: str):
    if isinstance(urls, str):
        return _HOST.sub(base.rstrip("/"), urls) if _HOST.match(urls) else urls
    if isinstance(urls, dict):
        return {k: _rewrite(v, base) for k, v in urls.items()}
    return urls


def raw_client(base_url: str, api_key: str, secret: str, *, asynchronous: bool = False):
    """A plain ccxt Binance client pointed at the simulator; no rate limiter."""
    if asynchronous:
        import ccxt.async_support as ccxt
    else:
        import ccxt
    client = ccxt.binance({"apiKey": api_key, "secret": secret, "enableRateLimit": False})
    client.urls["api"] = _rewrite(client.urls["api"], base_url)
    return client


def _bare_client():
    """The worker's one ccxt client, markets loaded (built at worker start from BENCH_SIM_*)."""
    if "ccxt" not in _local:
        client = raw_client(os.environ["BENCH_SIM_URL"], os.environ["BENCH_SIM_KEY"], os.environ["BENCH_SIM_SECRET"])
        client.load_markets()
        _local["ccxt"] = client
    return _local["ccxt"]


@signals.worker_ready.connect
def _warm(sender=None, **kwargs):
    if os.environ.get("BENCH_SIM_URL") and sender is not None and sender.app is app:
        _bare_client()
        _redis().ping()


@app.task(name="bench.noop")
def noop(key: str) -> None:
    """The bare queue round trip: tell the bench when it ran (CLOCK_MONOTONIC is system-wide)."""
    _redis().rpush(key, time.perf_counter())


@app.task(name="bench.create_order")
def create_order(key: str, client_order_id: str | None = None) -> None:
    """One ccxt create_order against the simulator, nothing else; then say it is done."""
    params = {"newClientOrderId": client_order_id} if client_order_id else {}
    _bare_client().create_order(SYMBOL, "market", "buy", float(AMOUNT), None, params)
    _redis().rpush(key, time.time())


# --- worker processes -----------------------------------------------------------------------
def _pool(spec: str) -> list[str]:
    """BENCH_WORKER_POOL: "solo" (default) or "threads:8" (a pool and its concurrency)."""
    pool, _, concurrency = spec.partition(":")
    return ["--pool", pool] + (["--concurrency", concurrency] if concurrency else [])


POOL = _pool(os.environ.get("BENCH_WORKER_POOL", "solo"))


class Workers:
    """``celery worker`` subprocesses, every one killed on exit (error or not)."""

    def __init__(self, log_name: str):
        self.processes: list[tuple[str, subprocess.Popen]] = []
        (ROOT / "var").mkdir(exist_ok=True)
        self.log_path = ROOT / "var" / f"{log_name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def process(self, name: str) -> subprocess.Popen:
        return next(process for started, process in self.processes if started == name)

    def start(self, *, app_module: str, queues: str, extra_env: dict | None = None, events: bool = False) -> str:
        name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
        env = dict(os.environ, **(extra_env or {}))
        command = [sys.executable, "-m", "celery", "-A", app_module, "worker", "-Q", queues, *POOL, "-n",
                   name, "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        if events:
            command.append("-E")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))
        return name

    def wait_ready(self, control_app, names: list[str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(names)
        while waiting:
            for name, process in self.processes:
                if name in waiting and process.poll() is not None:
                    raise RuntimeError(f"worker {name} exited with {process.returncode}; see {self.log_path}")
            answers = control_app.control.ping(destination=list(waiting), timeout=0.5) or []
            for answer in answers:
                waiting -= set(answer)
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {waiting} did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()
        if not self.log.closed:
            self.log.close()


# --- the simulator's side ------------------------------------------------------------------------
class Acks:
    """When the simulator created each order (perf_counter and wall clock), by client order id.

    Wraps the simulator engine's ``Venue.place_order`` in this process (the simulator runs in
    a thread here), so the instant is taken right after the order exists at the exchange,
    before the HTTP answer goes back.
    """

    def __init__(self):
        from exchanges.simulator.engine import Venue

        self.times: dict[str, tuple[float, float]] = {}
        self.arrived = threading.Condition()
        self._venue = Venue
        self._original = Venue.place_order
        original, acks = self._original, self

        def place_order(venue, *args, **kwargs):
            order = original(venue, *args, **kwargs)
            if order is not None:
                with acks.arrived:
                    acks.times[order.client_order_id] = (time.perf_counter(), time.time())
                    acks.arrived.notify_all()
            return order

        Venue.place_order = place_order

    def wait(self, client_order_id: str, timeout: float = 30) -> tuple[float, float]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: client_order_id in self.times, timeout=timeout):
                raise TimeoutError(f"order {client_order_id} never reached the simulator")
            return self.times[client_order_id]

    def last(self) -> tuple[str, tuple[float, float]]:
        with self.arrived:
            key = next(reversed(self.times))
            return key, self.times[key]

    def close(self) -> None:
        self._venue.place_order = self._original


# --- the platform's side -----------------------------------------------------------------------
class Platform:
    """A tenant with a trader login (API token) and a Binance connection to the simulator."""

    def __init__(self, sim):
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIClient

        from exchanges.adapters.types import Credentials
        from exchanges.models import ExchangeConnection
        from tenancy.models import Membership, Role, Tenant

        tag = uuid.uuid4().hex[:8]
        self.sim = sim
        self.account = sim.add_account("binance", balances={"USDT": 10**12, "BTC": 10**6})
        self.tenant = Tenant.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
        self.user = get_user_model().objects.create_user(username=f"bench-{tag}", password=uuid.uuid4().hex)
        Membership.objects.create(tenant=self.tenant, user=self.user, role=Role.OWNER)
        self.connection = ExchangeConnection(
            tenant=self.tenant, exchange="binance", label=f"Simulated Binance {tag}", api_base_url=sim.base_url,
            status="connected",
        )  # fmt: skip
        self.connection.set_credentials(Credentials(**self.account.credentials()))
        self.connection.save()
        self.client = APIClient()
        token = Token.objects.create(user=self.user)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_TENANT=str(self.tenant.pk))
        self.body = {"symbol": SYMBOL, "side": "buy", "type": "market", "amount": AMOUNT,
                     "connection": self.connection.pk}  # fmt: skip

    def post(self) -> dict:
        response = self.client.post("/api/v1/orders/", self.body, format="json")
        if response.status_code != 202:
            raise RuntimeError(f"POST /api/v1/orders/ answered {response.status_code}: {response.content[:500]!r}")
        return json.loads(response.content)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all its threads) or of one of its threads, in seconds."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    try:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the given worker processes, this database's PostgreSQL backends
    and the simulator's thread (in this process), between ``start()`` and ``stop()``:
    a figure per order that the machine's other load does not move much, unlike a rate."""

    def __init__(self, workers, *, database: bool):
        import threading

        self.pids = [process.pid for process in workers]
        self.database = database
        self.simulator = next((t.native_id for t in threading.enumerate() if t.name == "exchange-simulator"), None)

    def _backends(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]

    def _read(self) -> dict[str, float]:
        out = {"workers": sum(cpu_seconds(pid) for pid in self.pids)}
        if self.simulator:
            out["simulator"] = cpu_seconds(os.getpid(), self.simulator)
        return out

    def sample(self) -> None:
        """Note the backends' CPU now: a backend that ends (a worker reconnecting after
        CONN_MAX_AGE) keeps what it had used at its last sample."""
        if self.database:
            for pid in self._backends():
                self._backend_cpu[pid] = max(self._backend_cpu.get(pid, 0.0), cpu_seconds(pid))

    def start(self) -> None:
        self._backend_cpu: dict[int, float] = {}
        self.sample()
        self._backend_start = dict(self._backend_cpu)
        self._before = self._read()

    def stop(self, orders: int) -> dict[str, float]:
        after = self._read()
        self.sample()
        if self.database:
            after["postgres"] = sum(cpu - self._backend_start.get(pid, 0.0) for pid, cpu in self._backend_cpu.items())
        return {name: (after[name] - self._before.get(name, 0.0)) * 1000 / orders for name in after}


def load() -> str:
    """The machine's load average (other work on the 2 cores skews every figure)."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _probe_work() -> None:
    counts: dict[int, int] = {}
    for i in range(100_000):
        counts[i & 1023] = counts.get(i & 1023, 0) + i


def _cpu_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all cores from /proc/stat; (0, 0) where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


class Host:
    """How fast the machine is right now, so that runs of different hours can be told apart:
    the load average, the hypervisor's CPU steal over the run and a fixed piece of pure-Python
    work (a 100,000-step dict loop; median of 7, in this process). The code is the same in
    every window; on this VM that loop took 7.2-7.8 ms in a quiet hour (2026-11-21, 22:40)."""

    def __init__(self) -> None:
        self.load = load()
        self.probe = self.probe_ms()
        self.ticks = _cpu_ticks()

    @staticmethod
    def probe_ms() -> float:
        times = []
        for _ in range(7):
            started = time.perf_counter()
            _probe_work()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def report(self) -> str:
        steal, total = (after - before for after, before in zip(_cpu_ticks(), self.ticks, strict=True))
        stolen = f"{100 * steal / total:.1f} %" if total else "n/a"
        return (
            f"load average 1/5/15 min before {self.load}, after {load()} on {os.cpu_count()} cores; "
            f"CPU steal {stolen} over the run; the fixed Python loop {self.probe:.1f} ms before, "
            f"{self.probe_ms():.1f} ms after (7.2-7.8 ms in a quiet hour)"
        )


def clear_bench_keys() -> None:
    """What an earlier run left in Redis db 13: the queues used here and this bench's keys."""
    client = _redis()
    for pattern in ("orders", f"{BARE_QUEUE}*", "bench-orders-*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


# --- where the time goes (in the bench process) -----------------------------------------------
class Phases:
    """Wall time, calls and database queries per wrapped function, in this process.

    ``wrap(module, "name")`` replaces a module attribute (or a class method) by a timed copy;
    functions that no longer exist are skipped, so the profile survives refactoring. A
    query's time counts for the innermost wrapped function running it.
    """

    def __init__(self):
        self.total: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.queries: dict[str, int] = {}
        self.query_time: dict[str, float] = {}
        self._stack: list[str] = []
        self._undo: list[tuple[object, str, object]] = []
        self.redis: dict[str, int] = {}

    def count_redis(self) -> None:
        """Count Redis commands by name (sync and asyncio clients, any thread); a pipeline
        counts as one PIPELINE round trip, and its commands as ``NAME*``."""
        import redis
        import redis.asyncio
        import redis.asyncio.client
        import redis.client

        counts = self.redis
        for cls in (redis.Redis, redis.asyncio.Redis):
            original = cls.execute_command

            def counted(client, *args, _original=original, **kwargs):
                name = str(args[0]).split()[0].upper() if args else "?"
                counts[name] = counts.get(name, 0) + 1
                return _original(client, *args, **kwargs)

            cls.execute_command = counted
            self._undo.append((cls, "execute_command", original))
        for cls in (redis.client.Pipeline, redis.asyncio.client.Pipeline):
            original = cls.execute

            def piped(pipe, *args, _original=original, **kwargs):
                if pipe.command_stack:
                    counts["PIPELINE"] = counts.get("PIPELINE", 0) + 1
                for command, _ in pipe.command_stack:
                    name = str(command[0]).split()[0].upper() + "*"
                    counts[name] = counts.get(name, 0) + 1
                return _original(pipe, *args, **kwargs)

            cls.execute = piped
            self._undo.append((cls, "execute", original))

    def redis_round_trips(self) -> int:
        return sum(n for name, n in self.redis.items() if not name.endswith("*"))

    def transactions(self, connection) -> None:
        """BEGIN / COMMIT / SAVEPOINT round trips, which the execute wrapper does not see."""
        for attribute in ("_set_autocommit", "_commit", "_rollback", "_savepoint", "_savepoint_commit"):
            self.wrap(connection, attribute, f"db {attribute.lstrip('_')}")

    def wrap(self, owner, attribute: str, label: str | None = None) -> None:
        original = getattr(owner, attribute, None)
        if original is None:
            return
        label = label or attribute
        phases = self

        def timed(*args, **kwargs):
            phases._stack.append(label)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases.total[label] = phases.total.get(label, 0.0) + time.perf_counter() - started
                phases.calls[label] = phases.calls.get(label, 0) + 1
                phases._stack.pop()

        shadowing = attribute not in vars(owner)  # e.g. a bound method of an instance
        setattr(owner, attribute, timed)
        self._undo.append((owner, attribute, None if shadowing else original))

    def db(self, execute, sql, params, many, context):
        label = self._stack[-1] if self._stack else "(outside)"
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.query_time[label] = self.query_time.get(label, 0.0) + time.perf_counter() - started
            self.queries[label] = self.queries.get(label, 0) + 1

    def undo(self) -> None:
        while self._undo:
            owner, attribute, original = self._undo.pop()
            if original is None:
                delattr(owner, attribute)  # an instance attribute shadowed the class's method
            else:
                setattr(owner, attribute, original)

    def report(self, per: int, order: list[str]) -> list[str]:
        lines = [f"{'':34} {'ms/order':>9} {'calls':>6} {'queries':>8} {'query ms':>9}"]
        for label in order + sorted(set(self.total) - set(order)):
            if label not in self.total and label not in self.queries:
                continue
            lines.append(
                f"{label:34} {self.total.get(label, 0) * 1000 / per:9.2f} {self.calls.get(label, 0) / per:6.1f} "
                f"{self.queries.get(label, 0) / per:8.1f} {self.query_time.get(label, 0) * 1000 / per:9.2f}"
            )
        if "(outside)" in self.queries:
            label = "(outside)"
            lines.append(f"{'queries outside wrapped functions':34} {'':9} {'':6} "
                         f"{self.queries[label] / per:8.1f} {self.query_time[label] * 1000 / per:9.2f}")  # fmt: skip
        if self.redis:
            commands = ", ".join(f"{name} {n / per:.1f}" for name, n in sorted(self.redis.items(), key=lambda i: -i[1]))
            lines.append(f"Redis round trips per order ({self.redis_round_trips() / per:.1f}): {commands}")
        return lines
