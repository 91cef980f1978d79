"""Orders benchmark 3, what one order costs: CPU time, SQL statements and Redis commands of
the API request and of the worker's send, counted in this process (no timing noise from
queues or other load: the figures the latency and throughput benches move with).

The API side is ``POST /api/v1/orders/`` through DRF's APIClient (as in order_latency.py);
the worker side is ``trading.services.execution.order_send`` called here, as the worker
calls it, against the simulator (a thread of this process, whose CPU is counted apart).
CPU is per thread (``/proc/self/task``): the caller, the exchange loop and the simulator;
the PostgreSQL backend's CPU is read from ``/proc/<backend pid>``.

    .venv/bin/python bench/order_costs.py [orders] [--sql] [--calls]

``--sql`` lists the statements; ``--calls`` adds a pass that counts Python function calls per
order and thread (slow, but unlike CPU time it does not move with the machine's load).
"""

import _orders

_orders.configure()

import _setup  # noqa: E402,F401  (configures Django)

import contextlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ORDERS = int(ARGS[0]) if ARGS else 300
SHOW_SQL = "--sql" in sys.argv
COUNT_CALLS = "--calls" in sys.argv
TICK = os.sysconf("SC_CLK_TCK")


def _cpu(path: str) -> float:
    """utime + stime of /proc/.../stat, in seconds."""
    with open(path) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Cpu:
    """CPU seconds per thread of this process (by thread name) and of the database backend."""

    def __init__(self, backend_pid: int | None):
        self.backend_pid = backend_pid

    def snapshot(self) -> dict[str, float]:
        names = {t.native_id: t.name for t in threading.enumerate()}
        out: dict[str, float] = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                seconds = _cpu(f"/proc/self/task/{tid}/stat")
            except OSError:
                continue
            name = names.get(int(tid), "other")
            name = "main" if name == "MainThread" else "exchange loop" if name == "exchanges-runtime" else name
            name = "simulator" if "imulator" in name or name.startswith("Thread-") else name
            out[name] = out.get(name, 0.0) + seconds
        if self.backend_pid:
            with contextlib.suppress(OSError):
                out["postgres backend"] = _cpu(f"/proc/{self.backend_pid}/stat")
        return out


def measure(label: str, fn, n: int, cpu: Cpu) -> list[str]:
    from django.db import connection

    phases = _orders.Phases()
    phases.count_redis()
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    commits = {"n": 0}
    original_commit = connection.commit

    def commit():
        commits["n"] += 1
        return original_commit()

    connection.commit = commit
    before = cpu.snapshot()
    wall = time.perf_counter()
    try:
        with connection.execute_wrapper(count):
            for i in range(n):
                fn(i)
    finally:
        del connection.commit
        phases.undo()
    wall = time.perf_counter() - wall
    after = cpu.snapshot()
    per_thread = {k: (after.get(k, 0) - before.get(k, 0)) * 1000 / n for k in after}
    total = sum(v for k, v in per_thread.items() if k != "simulator")
    lines = [
        f"{label}: {wall * 1000 / n:.2f} ms wall/order; CPU ms/order {total:.2f} without the simulator ("
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_thread.items(), key=lambda i: -i[1]) if v)
        + ")"
    ]
    lines.append(f"  SQL statements/order {len(statements) / n:.2f}, explicit commits/order {commits['n'] / n:.2f}")
    redis = phases.redis
    lines.append(f"  Redis round trips/order {phases.redis_round_trips() / n:.2f}: "
                 + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(redis.items(), key=lambda i: -i[1])))  # fmt: skip
    if SHOW_SQL:
        kinds: dict[str, int] = {}
        for sql in statements:
            head = " ".join(sql.split()[:6])[:110]
            kinds[head] = kinds.get(head, 0) + 1
        lines += [f"    {v / n:5.2f}  {k}" for k, v in sorted(kinds.items(), key=lambda i: -i[1])]
    return lines


async def _set_profile(hook) -> None:
    sys.setprofile(hook)


def count_calls(fn, n: int) -> str:
    """Python function calls (Python and C) per order, per thread, under a profile hook."""
    counts: dict[int, int] = {}

    def hook(frame, event, arg):
        if event in ("call", "c_call"):
            ident = threading.get_ident()
            counts[ident] = counts.get(ident, 0) + 1

    from exchanges import runtime

    loop = runtime._start()  # the exchange loop's thread runs already: hook it from inside
    runtime.run(_set_profile(hook))
    sys.setprofile(hook)
    try:
        for i in range(n):
            fn(i)
    finally:
        sys.setprofile(None)
        loop.call_soon_threadsafe(sys.setprofile, None)
        time.sleep(0.05)
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = {}
    for ident, count in counts.items():
        name = names.get(ident, "other")
        name = "main" if name == "MainThread" else "exchange loop" if name == "exchanges-runtime" else name
        parts[name] = parts.get(name, 0) + count
    return ", ".join(f"{k} {v / n:,.0f}" for k, v in sorted(parts.items(), key=lambda i: -i[1]))


def main() -> None:
    from django.db import connection

    from exchanges.simulator import run_simulator
    from trading.services import execution

    _orders.ensure_database()
    _orders.clear_bench_keys()
    host = _orders.Host()
    with run_simulator() as sim:
        platform = _orders.Platform(sim)
        ids = [platform.post()["id"] for _ in range(20)]  # warm up: markets, sessions, connections
        for order_id in ids:
            execution.order_send(order_id=order_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        cpu = Cpu(backend)
        ids = []
        api = measure("API: POST /api/v1/orders/", lambda i: ids.append(platform.post()["id"]), ORDERS, cpu)
        worker = measure("worker: execution.order_send", lambda i: execution.order_send(order_id=ids[i]), ORDERS, cpu)
        from trading.models import Order

        filled = Order.objects.filter(pk__in=ids, status="filled").count()
        if COUNT_CALLS:
            calls_ids: list[int] = []
            m = min(ORDERS, 100)
            api.append("  Python calls/order: " + count_calls(lambda i: calls_ids.append(platform.post()["id"]), m))
            worker.append("  Python calls/order: " + count_calls(
                lambda i: execution.order_send(order_id=calls_ids[i]), m))  # fmt: skip
    print(f"Per-order costs, {ORDERS} orders (market buy {_orders.AMOUNT} {_orders.SYMBOL}, simulator in a thread; "
          f"{filled}/{ORDERS} filled);")  # fmt: skip
    print(f"{host.report()}\n")
    print("\n".join(api + [""] + worker))


if __name__ == "__main__":
    main()
