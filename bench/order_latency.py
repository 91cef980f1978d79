"""Orders benchmark 1, latency: from the API request to the order acknowledged at the
simulator, through Redis, a real ``celery worker`` (solo pool, queue ``orders``) and
PostgreSQL, one order at a time. Baselines in the same run, against the same simulator:
raw ccxt ``create_order`` (async and sync clients), a bare Celery task that only calls
ccxt ``create_order``, and a bare Celery no-op round trip over the same Redis (with and
without task events, which the platform's settings turn on). Target: platform overhead at
p50 at most 10 ms over raw ccxt. Then a profile, in this process, of where the platform's
time goes (API side and worker side).

"Acknowledged" is the instant the simulator has created the order (the simulator engine is
wrapped in this process), before its HTTP answer goes back; the raw ccxt baselines are
measured to the same instant.

    .venv/bin/python bench/order_latency.py [samples]   # default 250
"""

import _orders

_orders.configure()

import _setup  # noqa: E402,F401  (configures Django)

import asyncio  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from decimal import Decimal  # noqa: E402

from _orders import AMOUNT, BARE_EVENTS_QUEUE, BARE_QUEUE, SYMBOL, percentile  # noqa: E402

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 250
ROUNDS = 5  # the kinds take turns in blocks, so drift hits them all alike
WARM_UP = 20
FINAL = {"filled", "rejected", "failed", "canceled"}


def wait_final(order_id: int, timeout: float = 30) -> str:
    from trading.models import Order

    deadline = time.monotonic() + timeout
    while True:
        status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        if status in FINAL:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {order_id} still {status} after {timeout} s")
        time.sleep(0.001)


class Bench:
    def __init__(self, sim, acks, platform):
        self.sim, self.acks, self.platform = sim, acks, platform
        self.loop = asyncio.new_event_loop()
        creds = platform.account
        self.raw_async = _orders.raw_client(sim.base_url, creds.api_key, creds.secret, asynchronous=True)
        self.raw_sync = _orders.raw_client(sim.base_url, creds.api_key, creds.secret)
        self.results: dict[str, list] = {k: [] for k in ("platform", "async", "sync", "bare_task", "noop", "noop_ev")}
        self.platform_rows: list[dict] = []
        self.published: dict[int, float] = {}  # order id -> wall clock of its Celery publish (this process)
        self._watch_publish()
        self.statuses: dict[str, int] = {}

    # each method takes one sample
    def platform_order(self, record: bool = True) -> None:
        t0, w0 = time.perf_counter(), time.time()
        body = self.platform.post()
        t_api, w_api = time.perf_counter(), time.time()
        t_ack, w_ack = self.acks.wait(body["client_order_id"])
        status = wait_final(body["id"])
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if record:
            self.results["platform"].append(t_ack - t0)
            self.platform_rows.append({"id": body["id"], "t0": w0, "api": w_api, "ack": w_ack,
                                       "api_s": t_api - t0, "pub": self.published.get(body["id"])})  # fmt: skip

    def _watch_publish(self) -> None:
        """Note when the API request published each order's task (the rest of the request,
        rendering the answer, runs while the worker already has it)."""
        from trading.tasks import order_send

        original, published = order_send.apply_async, self.published

        def apply_async(args=None, kwargs=None, **options):
            published[args[0]] = time.time()
            return original(args, kwargs, **options)

        order_send.apply_async = apply_async

    def raw_async_order(self, record: bool = True) -> None:
        cid = "r" + uuid.uuid4().hex[:30]
        t0 = time.perf_counter()
        self.loop.run_until_complete(
            self.raw_async.create_order(SYMBOL, "market", "buy", float(AMOUNT), None, {"newClientOrderId": cid})
        )
        if record:
            self.results["async"].append(self.acks.wait(cid)[0] - t0)

    def raw_sync_order(self, record: bool = True) -> None:
        cid = "s" + uuid.uuid4().hex[:30]
        t0 = time.perf_counter()
        self.raw_sync.create_order(SYMBOL, "market", "buy", float(AMOUNT), None, {"newClientOrderId": cid})
        if record:
            self.results["sync"].append(self.acks.wait(cid)[0] - t0)

    def bare_task_order(self, record: bool = True) -> None:
        cid = "b" + uuid.uuid4().hex[:30]
        key = f"bench-orders-done-{cid}"
        t0 = time.perf_counter()
        _orders.create_order.apply_async((key, cid), queue=BARE_QUEUE)
        t_ack = self.acks.wait(cid)[0]
        _orders._redis().blpop(key, timeout=30)  # the task finished: the worker is free again
        if record:
            self.results["bare_task"].append(t_ack - t0)

    def noop(self, record: bool = True, events: bool = False) -> None:
        key = f"bench-orders-noop-{uuid.uuid4().hex}"
        _orders.app.conf.task_send_sent_event = events
        t0 = time.perf_counter()
        _orders.noop.apply_async((key,), queue=BARE_EVENTS_QUEUE if events else BARE_QUEUE)
        _, started = _orders._redis().blpop(key, timeout=30)
        t_back = time.perf_counter()
        if record:
            self.results["noop_ev" if events else "noop"].append((float(started) - t0, t_back - t0))

    def run(self) -> None:
        kinds = [self.platform_order, self.raw_async_order, self.raw_sync_order, self.bare_task_order,
                 self.noop, lambda record=True: self.noop(record, events=True)]  # fmt: skip
        self.loop.run_until_complete(self.raw_async.load_markets())
        self.raw_sync.load_markets()
        for kind in kinds:  # warm-up: markets, pooled sessions, DB and Redis connections
            for _ in range(WARM_UP):
                kind(record=False)
        per_round = -(-SAMPLES // ROUNDS)
        for _ in range(ROUNDS):
            for kind in kinds:
                for _ in range(per_round):
                    kind()
                    time.sleep(0.002)

    def close(self) -> None:
        self.loop.run_until_complete(self.raw_async.close())
        self.loop.close()


def breakdown(rows: list[dict]) -> dict[str, list[float]]:
    """Per order, from the order's own events (wall clock of the worker) and the bench's clock."""
    from trading.models import OrderEvent

    events = {}
    for order_id, to_status, created in OrderEvent.objects.filter(order_id__in=[r["id"] for r in rows]).values_list(
        "order_id", "to_status", "created_at"
    ):
        events.setdefault(order_id, {}).setdefault(to_status, created.timestamp())
    parts = {"api": [], "publish": [], "claim": [], "answer": [], "queue": [], "send": [], "apply": []}
    for row in rows:
        mine = events.get(row["id"], {})
        if "submitting" not in mine or "filled" not in mine:
            continue
        parts["api"].append(row["api"] - row["t0"])
        if row["pub"] is not None:
            parts["publish"].append(row["pub"] - row["t0"])
            parts["claim"].append(mine["submitting"] - row["pub"])
            parts["answer"].append(row["api"] - row["pub"])
        parts["queue"].append(mine["submitting"] - row["api"])
        parts["send"].append(row["ack"] - mine["submitting"])
        parts["apply"].append(mine["filled"] - row["ack"])
    return parts


def profile(platform, control_app, worker_name: str, n: int = 100) -> tuple[list[str], list[str], str]:
    """The API side and the worker side (trading.services.execution.order_send called here,
    as the worker calls it), each function's wall time and queries, then cProfile."""
    from celery.app.task import Task
    from cryptography.fernet import Fernet, MultiFernet
    from django.db import connection, connections
    from fernet_fields.fields import EncryptedField

    from exchanges import reads, runtime
    from trading.models import Order
    from trading.services import execution, hooks, notify, orders, positions, risk, routing

    control_app.control.cancel_consumer("orders", destination=[worker_name], reply=True)
    try:
        api = _orders.Phases()
        api.wrap(orders, "order_place")
        api.wrap(risk, "kill_switch_check")
        api.wrap(routing, "route")
        api.wrap(routing, "connection_market")
        api.wrap(risk, "pretrade_check")
        api.wrap(orders, "_save", "_save (insert order + event)")
        api.wrap(execution, "send_later")
        api.wrap(Task, "apply_async", "Task.apply_async (publish)")
        api.wrap(reads, "adapter_for_connection")
        api.wrap(reads, "call", "call (exchange loop)")
        api.wrap(EncryptedField, "from_db_value", "Fernet decrypt (from_db_value)")
        api.transactions(connections["default"])
        api.count_redis()
        ids = []
        before = requests(platform.sim)
        with connection.execute_wrapper(api.db):
            started = time.perf_counter()
            for _ in range(n):
                ids.append(platform.post()["id"])
            api_total = (time.perf_counter() - started) / n
        api.undo()
        api_lines = [f"POST /api/v1/orders/ in-process: {api_total * 1000:.2f} ms/order; "
                     f"exchange requests per order: {requests_since(platform.sim, before, n)}"]  # fmt: skip
        api_lines += api.report(n, ["order_place", "kill_switch_check", "route", "connection_market",
                                    "adapter_for_connection", "call (exchange loop)", "pretrade_check",
                                    "_save (insert order + event)", "send_later", "Task.apply_async (publish)",
                                    "Fernet decrypt (from_db_value)"])  # fmt: skip

        worker = _orders.Phases()
        worker.wrap(execution, "claim_pending", "claim_pending (one statement)")
        worker.wrap(execution, "_claim", "_claim (lock, submitting, commit)")
        worker.wrap(notify, "order_changed", "order_changed (Channels publish)")
        worker.wrap(execution, "_send")
        worker.wrap(execution, "adapter_for_connection", "adapter_for_connection")
        worker.wrap(execution, "call", "call create_order (exchange loop)")
        worker.wrap(runtime, "run", "runtime.run")
        worker.wrap(execution, "apply_sent")
        worker.wrap(execution, "apply_exchange_order")
        worker.wrap(execution, "_record_fill", "_record_fill (position, trade)")
        worker.wrap(positions, "position_apply_trade")
        worker.wrap(hooks, "order_updated", "hooks.order_updated")
        worker.wrap(EncryptedField, "from_db_value", "Fernet decrypt (from_db_value)")
        for cls in (Fernet, MultiFernet):
            worker.wrap(cls, "decrypt", f"{cls.__name__}.decrypt")
        worker.transactions(connections["default"])
        worker.count_redis()
        before = requests(platform.sim)
        with connection.execute_wrapper(worker.db):
            started = time.perf_counter()
            for order_id in ids:
                execution.order_send(order_id=order_id)
            worker_total = (time.perf_counter() - started) / n
        worker.undo()
        done = Order.objects.filter(pk__in=ids, status="filled").count()
        worker_lines = [f"execution.order_send in-process: {worker_total * 1000:.2f} ms/order ({done}/{n} filled); "
                        f"exchange requests per order: {requests_since(platform.sim, before, n)}"]  # fmt: skip
        worker_lines += worker.report(n, [
            "claim_pending (one statement)", "_claim (lock, submitting, commit)", "order_changed (Channels publish)",
            "_send", "adapter_for_connection", "Fernet decrypt (from_db_value)", "call create_order (exchange loop)",
            "runtime.run", "apply_sent", "apply_exchange_order", "_record_fill (position, trade)",
            "position_apply_trade", "hooks.order_updated",
        ])  # fmt: skip

        # cProfile of both sides together, self time
        ids = [platform.post()["id"] for _ in range(n)]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            platform.post()
        for order_id in ids:
            execution.order_send(order_id=order_id)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        return api_lines, worker_lines + parts_alone(platform), out.getvalue()
    finally:
        _orders._redis().delete("orders")  # what the profile queued and nobody consumed
        control_app.control.add_consumer("orders", destination=[worker_name], reply=True)


def requests(sim) -> dict:
    return {(r["method"], r["path"]): r["count"] for r in sim.counters.snapshot()}


def requests_since(sim, before: dict, n: int) -> str:
    now = requests(sim)
    diff = {key: count - before.get(key, 0) for key, count in now.items() if count != before.get(key, 0)}
    return ", ".join(f"{method} {path} {count / n:.2f}" for (method, path), count in sorted(diff.items())) or "none"


def parts_alone(platform, n: int = 100) -> list[str]:
    """Single pieces of the send path, timed alone: the dashboard push, a Redis connection,
    the adapter's create_order on a private event loop (no thread hop) against raw ccxt."""
    import redis

    from dashboard.events import tenant_event_publish
    from exchanges.adapters import types as ex
    from exchanges.factory import adapter_for_connection

    lines = []

    def timed(label, fn):
        fn()
        started = time.perf_counter()
        for _ in range(n):
            fn()
        lines.append(f"{label:60} {(time.perf_counter() - started) * 1000 / n:6.2f} ms")

    timed("alone: dashboard push (tenant_event_publish, async_to_sync)",
          lambda: tenant_event_publish(tenant_id=platform.tenant.pk, event="bench", data={"x": 1}))  # fmt: skip

    def connect_ping():
        client = redis.Redis.from_url(_orders.REDIS_URL)
        client.ping()
        client.close()

    timed("alone: a new Redis connection + PING", connect_ping)
    timed("alone: PING on an open Redis connection", _orders._redis().ping)
    connection = type(platform.connection).objects.get(pk=platform.connection.pk)
    loop = asyncio.new_event_loop()

    async def adapter_order():
        adapter = adapter_for_connection(connection)
        try:
            await adapter.create_order(symbol=SYMBOL, side=ex.Side("buy"), type=ex.OrderType("market"),
                                       amount=Decimal(AMOUNT), client_order_id="a" + uuid.uuid4().hex[:30])  # fmt: skip
        finally:
            await adapter.close()

    creds = platform.account
    raw = _orders.raw_client(platform.sim.base_url, creds.api_key, creds.secret, asynchronous=True)
    loop.run_until_complete(raw.load_markets())
    counter = _orders.Phases()
    counter.count_redis()
    try:
        timed("alone: adapter create_order, private loop (budget, breaker)", lambda: loop.run_until_complete(
            adapter_order()))  # fmt: skip
    finally:
        counter.undo()
    commands = ", ".join(f"{k} {v / (n + 1):.1f}" for k, v in sorted(counter.redis.items(), key=lambda i: -i[1]))
    lines.append(f"  its Redis commands per order: {commands}")
    timed("alone: raw ccxt async create_order, same loop", lambda: loop.run_until_complete(
        raw.create_order(SYMBOL, "market", "buy", float(AMOUNT))))  # fmt: skip
    loop.run_until_complete(raw.close())
    loop.close()
    return [""] + lines


def ms(value: float) -> str:
    return f"{value * 1000:7.2f}"


def main() -> None:
    from config.celery import app as platform_app
    from exchanges.simulator import run_simulator

    _orders.ensure_database()
    _orders.clear_bench_keys()
    host = _orders.Host()
    with run_simulator() as sim, _orders.Workers("bench-order-latency") as workers:
        acks = _orders.Acks()
        platform = _orders.Platform(sim)
        sim_env = {"BENCH_SIM_URL": sim.base_url, "BENCH_SIM_KEY": platform.account.api_key,
                   "BENCH_SIM_SECRET": platform.account.secret}  # fmt: skip
        worker = workers.start(app_module="config", queues="orders")
        bare = workers.start(app_module="_orders", queues=BARE_QUEUE, extra_env=sim_env)
        bare_ev = workers.start(app_module="_orders", queues=BARE_EVENTS_QUEUE, extra_env=sim_env, events=True)
        workers.wait_ready(_orders.app, [worker, bare, bare_ev])
        bench = Bench(sim, acks, platform)
        try:
            bench.run()
        finally:
            bench.close()
        parts = breakdown(bench.platform_rows)
        api_lines, worker_lines, cprofile = profile(platform, platform_app, worker)
        acks.close()

    r = bench.results
    plat, raw, raw_sync, bare_task = r["platform"], r["async"], r["sync"], r["bare_task"]
    p50 = {k: statistics.median(v) for k, v in (("plat", plat), ("raw", raw), ("sync", raw_sync), ("bare", bare_task))}
    p99 = {k: percentile(v, 99) for k, v in (("plat", plat), ("raw", raw), ("sync", raw_sync), ("bare", bare_task))}
    noop_one = [a for a, _ in r["noop"]]
    noop_rt = [b for _, b in r["noop"]]
    ev_one = [a for a, _ in r["noop_ev"]]
    ev_rt = [b for _, b in r["noop_ev"]]
    print(f"Order latency: {len(plat)} orders one at a time, API request -> order created at the simulator")
    print(f"(market buy {AMOUNT} {SYMBOL}; 1 celery worker, solo pool, queue orders; PostgreSQL; Redis db 13;")
    print(f"EXCHANGE_RATE_LIMIT_MS={_orders.RATE_LIMIT}; final statuses: {bench.statuses};")
    print(f"{host.report()})\n")
    print(f"{'':52} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'platform: POST /api/v1/orders/ -> ack':52} {ms(p50['plat'])}  {ms(p99['plat'])}")
    print(f"{'baseline: raw ccxt async create_order -> ack':52} {ms(p50['raw'])}  {ms(p99['raw'])}")
    print(f"{'baseline: raw ccxt sync create_order -> ack':52} {ms(p50['sync'])}  {ms(p99['sync'])}")
    print(f"{'bare Celery task calling ccxt create_order -> ack':52} {ms(p50['bare'])}  {ms(p99['bare'])}")
    print(f"{'bare Celery no-op: publish -> task starts':52} {ms(statistics.median(noop_one))}  "
          f"{ms(percentile(noop_one, 99))}")  # fmt: skip
    print(f"{'bare Celery no-op: round trip (task -> Redis -> bench)':52} {ms(statistics.median(noop_rt))}  "
          f"{ms(percentile(noop_rt, 99))}")  # fmt: skip
    print(f"{'  the same with task events on (-E, sent events)':52} {ms(statistics.median(ev_rt))}  "
          f"{ms(percentile(ev_rt, 99))}   (publish -> start {ms(statistics.median(ev_one)).strip()})")  # fmt: skip
    print()
    print(f"platform overhead over raw ccxt async (target p50 <= 10 ms): p50 {ms(p50['plat'] - p50['raw'])} ms, "
          f"p99 {ms(p99['plat'] - p99['raw'])} ms")  # fmt: skip
    print(f"platform overhead over the bare Celery + ccxt task:            p50 {ms(p50['plat'] - p50['bare'])} ms, "
          f"p99 {ms(p99['plat'] - p99['bare'])} ms")  # fmt: skip
    print("\nWhere the platform's latency goes (p50 of each step; worker clock from the order's events):")
    names = {"api": "API request (in-process APIClient), incl. publish",
             "publish": "  of which: request -> task published (checks, routing, insert)",
             "answer": "  and then: published -> API answered (rendering the 202)",
             "claim": "task published -> worker starts its claim ('submitting')",
             "queue": "API answered -> worker committed 'submitting' (queue + claim)",
             "send": "'submitting' -> ack (claim statement, adapter, ccxt, HTTP)",
             "apply": "ack -> 'filled' committed (answer back, apply)"}  # fmt: skip
    for key, label in names.items():
        if parts[key]:
            print(f"  {label:62} {ms(statistics.median(parts[key]))} ms")
    print("\nProfile, API side (in this process, 100 orders; wall time incl. nested calls):")
    print("\n".join("  " + line for line in api_lines))
    print("\nProfile, worker side (execution.order_send called in this process, 100 orders):")
    print("\n".join("  " + line for line in worker_lines))
    (_orders.ROOT / "var").mkdir(exist_ok=True)
    path = _orders.ROOT / "var" / "bench-order-latency-cprofile.txt"
    path.write_text(cprofile)
    print(f"\ncProfile of 100 API requests + 100 sends: {path}")


if __name__ == "__main__":
    main()
