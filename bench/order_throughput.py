"""Orders benchmark 2, throughput: orders per second through the whole pipeline with 1 and 2
``celery worker`` processes (solo pool unless BENCH_WORKER_POOL says e.g. "threads:4"; queue
``orders``) on this 2-core machine, against a bare Celery task that only calls ccxt
``create_order`` (bench/_orders.py, the same Redis broker, acks late, prefetch 1) with the
same 1 and 2 worker processes, in the same run.
Target: the platform at least 0.7 x the bare task's rate with 2 workers.

Each run queues N orders first (the platform's through POST /api/v1/orders/, in this
process, while no worker consumes; the bare tasks with apply_async), then lets the workers
consume (a broadcast ``add_consumer``) and counts an order done when it is ``filled`` in the
database (platform; the time of its ``filled`` event) or when the task finished (bare).
So the figure is the workers' rate: queue, claim, exchange call, fills, positions, pushes;
the API's own cost is printed apart (one client placing orders one after another).

    .venv/bin/python bench/order_throughput.py [orders] [repeats]   # default 500 2
"""

import _orders

_orders.configure()

import _setup  # noqa: E402,F401  (configures Django)

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from _orders import BARE_QUEUE  # noqa: E402

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 500
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
WARM_UP = 10  # orders per worker before each run
FINAL = ("filled", "rejected", "failed", "canceled")
TIMEOUT = 600


def wait_orders(ids: list[int], meter=None) -> dict[str, int]:
    """Status counts once every order is final. Polled lightly (an id range, every 0.25 s):
    the rate comes from the orders' own ``filled`` events, not from when this notices."""
    from trading.models import Order

    deadline = time.monotonic() + TIMEOUT
    orders = Order.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
    while orders.filter(status__in=FINAL).count() < len(ids) and time.monotonic() < deadline:
        time.sleep(0.25)
        if meter is not None:
            meter.sample()
    return dict(orders.values_list("status").annotate(n=_count()).order_by())


def _count():
    from django.db.models import Count

    return Count("id")


def platform_run(platform, control, names: list[str], n: int, workers) -> dict:
    from django.db.models import Max

    from trading.models import OrderEvent

    control.add_consumer("orders", destination=names, reply=True)
    wait_orders([platform.post()["id"] for _ in range(WARM_UP * len(names))])
    control.cancel_consumer("orders", destination=names, reply=True)
    started = time.perf_counter()
    ids = [platform.post()["id"] for _ in range(n)]
    api_rate = n / (time.perf_counter() - started)
    meter = _orders.CpuMeter([workers.process(name) for name in names], database=True)
    meter.start()
    t0 = time.time()
    control.add_consumer("orders", destination=names, reply=True)
    counts = wait_orders(ids, meter)
    control.cancel_consumer("orders", destination=names, reply=True)
    cpu = meter.stop(n)
    last = OrderEvent.objects.filter(order_id__in=ids, to_status="filled").aggregate(last=Max("created_at"))["last"]
    filled = counts.get("filled", 0)
    return {"rate": filled / (last.timestamp() - t0) if last else 0.0, "filled": filled, "counts": counts,
            "api_rate": api_rate, "cpu": cpu}  # fmt: skip


def bare_run(control, names: list[str], n: int, workers) -> dict:
    client = _orders._redis()
    warm_key = f"bench-orders-warm-{uuid.uuid4().hex}"
    control.add_consumer(BARE_QUEUE, destination=names, reply=True)
    for _ in range(WARM_UP * len(names)):
        _orders.create_order.apply_async((warm_key,), queue=BARE_QUEUE)
    _wait_list(client, warm_key, WARM_UP * len(names))
    control.cancel_consumer(BARE_QUEUE, destination=names, reply=True)
    key = f"bench-orders-done-{uuid.uuid4().hex}"
    for _ in range(n):
        _orders.create_order.apply_async((key,), queue=BARE_QUEUE)
    meter = _orders.CpuMeter([workers.process(name) for name in names], database=False)
    meter.start()
    t0 = time.time()
    control.add_consumer(BARE_QUEUE, destination=names, reply=True)
    done = _wait_list(client, key, n)
    control.cancel_consumer(BARE_QUEUE, destination=names, reply=True)
    cpu = meter.stop(n)
    finished = [float(x) for x in client.lrange(key, 0, -1)]
    client.delete(key, warm_key)
    return {"rate": done / (max(finished) - t0) if finished else 0.0, "filled": done, "cpu": cpu}


def _wait_list(client, key: str, n: int) -> int:
    deadline = time.monotonic() + TIMEOUT
    while client.llen(key) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return client.llen(key)


def main() -> None:
    from config.celery import app as platform_app
    from exchanges.simulator import run_simulator

    _orders.ensure_database()
    _orders.clear_bench_keys()
    host = _orders.Host()
    results: dict[tuple[str, int], list[dict]] = {}
    with run_simulator() as sim, _orders.Workers("bench-order-throughput") as workers:
        platform = _orders.Platform(sim)
        sim_env = {"BENCH_SIM_URL": sim.base_url, "BENCH_SIM_KEY": platform.account.api_key,
                   "BENCH_SIM_SECRET": platform.account.secret}  # fmt: skip
        idle = f"bench-orders-idle-{uuid.uuid4().hex[:8]}"  # workers start consuming nothing
        plat = [workers.start(app_module="config", queues=idle) for _ in range(2)]
        bare = [workers.start(app_module="_orders", queues=idle, extra_env=sim_env) for _ in range(2)]
        workers.wait_ready(_orders.app, plat + bare)
        for _ in range(REPEATS):
            for count in (1, 2):
                results.setdefault(("platform", count), []).append(
                    platform_run(platform, platform_app.control, plat[:count], ORDERS, workers)
                )
                results.setdefault(("bare", count), []).append(
                    bare_run(_orders.app.control, bare[:count], ORDERS, workers)
                )
                print(f"  {count} worker(s): platform {results['platform', count][-1]['rate']:.1f}/s, "
                      f"bare {results['bare', count][-1]['rate']:.1f}/s", flush=True)  # fmt: skip

    def rate(kind, count):
        return statistics.median(r["rate"] for r in results[kind, count])

    print(f"\nOrder throughput: {ORDERS} market orders per run, queued first, then consumed; median of {REPEATS}")
    print(f"runs; workers are `celery worker {' '.join(_orders.POOL)}` processes; PostgreSQL; Redis db 13;")
    print(f"EXCHANGE_RATE_LIMIT_MS={_orders.RATE_LIMIT};\n{host.report()}\n")
    print(f"{'':44} {'1 worker':>10} {'2 workers':>10} {'2 / 1':>7}")
    for kind, label in (("platform", "platform: queued -> filled in the database"),
                        ("bare", "baseline: bare Celery task, ccxt create_order")):  # fmt: skip
        print(f"{label:44} {rate(kind, 1):8.1f}/s {rate(kind, 2):8.1f}/s {rate(kind, 2) / rate(kind, 1):6.2f}x")
    print(f"{'platform / bare (target >= 0.7 with 2)':44} {rate('platform', 1) / rate('bare', 1):9.2f}x "
          f"{rate('platform', 2) / rate('bare', 2):9.2f}x")  # fmt: skip
    print("\nCPU per order (ms; median of the runs; the worker processes, the bench database's PostgreSQL")
    print("backends, the simulator's thread; Redis not counted, it serves others too):")
    for kind in ("platform", "bare"):
        for count in (1, 2):
            cpu = {name: statistics.median(r["cpu"][name] for r in results[kind, count]) for name in
                   results[kind, count][0]["cpu"]}  # fmt: skip
            parts = ", ".join(f"{name} {value:.2f}" for name, value in cpu.items())
            print(f"  {kind:8} {count} worker(s): {sum(cpu.values()):6.2f} ms  ({parts})")
    api = statistics.median(r["api_rate"] for key, runs in results.items() if key[0] == "platform" for r in runs)
    print(f"\nAPI side alone: one in-process client placing orders one after another: {api:.1f} orders/s")
    for (kind, count), runs in sorted(results.items()):
        for i, r in enumerate(runs, 1):
            extra = f"  statuses {r['counts']}" if "counts" in r else ""
            print(f"  run {i}: {kind:8} {count} worker(s) {r['rate']:7.1f}/s  done {r['filled']}/{ORDERS}{extra}")


if __name__ == "__main__":
    main()
