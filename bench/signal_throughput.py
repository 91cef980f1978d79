"""Bots benchmark 1, signal throughput: one evaluation round of 10,000 running subscriptions
over 50 exchange+symbol+timeframe groups (Binance: 20 symbols x 1h and 4h; OKX: 10 symbols x
1h, all at the exchange simulator), with 1 and 2 ``celery worker`` processes (solo pool) on
the ``bots`` queue. Target: under 60 s with 2 workers.

A round is what beat's ``bots_evaluate`` starts: it finds the due subscriptions, groups them
and queues one task per group (chunks of BOTS_GROUP_CHUNK); the workers fetch each group's
candles once (one ``fetch_ohlcv``), compute each distinct bot+config's signal once, record a
signal row per subscription and send BUY/SELL signals through the order pipeline (risk
checks, routing, an order row queued for the ``orders`` queue, which nobody consumes here).
The round ends when every subscription has its signal row.

The subscriptions run the built-in bots (SMA crossover, RSI, MACD, Bollinger bands) with 12
distinct configs, spread over 50 tenants with a Binance and an OKX connection each.

Baseline, in the same run: each subscription on its own, the naive way: its own raw ccxt
``fetch_ohlcv`` (300 candles) and its own pandas indicator, nothing written; timed on
BASELINE_SAMPLE subscriptions in this one process and extrapolated to 10,000.

    .venv/bin/python bench/signal_throughput.py [subscriptions] [repeats]   # default 10000 1
"""

import os

os.environ.setdefault("BENCH_ORDERS_DB", "bench_bots")
os.environ.setdefault("BENCH_ORDERS_REDIS_URL", "redis://127.0.0.1:6379/7")  # apart from the order benches

import _orders  # noqa: E402

_orders.configure()

import _setup  # noqa: E402,F401  (configures Django)

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

SUBSCRIPTIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
BASELINE_SAMPLE = 200
TENANTS = 50
TIMEOUT = 900
CONFIGS = [
    ("sma_crossover", {"fast": 10, "slow": 50}), ("sma_crossover", {"fast": 5, "slow": 20}),
    ("sma_crossover", {"fast": 20, "slow": 100}), ("rsi", {}), ("rsi", {"period": 7}),
    ("rsi", {"period": 21, "oversold": 25, "overbought": 75}), ("macd", {}),
    ("macd", {"fast": 8, "slow": 21, "signal": 5}), ("bollinger", {}), ("bollinger", {"window": 10}),
    ("bollinger", {"window": 30, "num_std": 2.5}), ("sma_crossover", {"fast": 3, "slow": 8}),
]  # fmt: skip


def groups(symbols: list[str]) -> list[tuple[str, str, str]]:
    out = [("binance", s, tf) for tf in ("1h", "4h") for s in symbols[:20]]
    out += [("okx", s, "1h") for s in symbols[:10]]
    return out


def setup(sim) -> int:
    from exchanges.adapters.types import Credentials
    from exchanges.models import ExchangeConnection
    from bots.models import Bot, BotSignal, Subscription
    from tenancy.models import Tenant
    from trading.models import Order

    BotSignal.objects.all().delete()
    Subscription.objects.all().delete()
    Order.objects.all().delete()
    symbols = sorted(m for m in sim.venue("binance").markets if m.endswith("/USDT"))[:20]
    plan = groups(symbols)
    bots = {b.builtin: b for b in Bot.objects.filter(author=None)}
    tag = uuid.uuid4().hex[:6]
    connections = []
    for n in range(TENANTS):
        tenant = Tenant.objects.create(name=f"Bench bots {tag} {n}", slug=f"bench-bots-{tag}-{n}")
        pair = {}
        for exchange in ("binance", "okx"):
            account = sim.add_account(exchange, balances={"USDT": 10**9, **{s.split("/")[0]: 10**6 for s in symbols}})
            connection = ExchangeConnection(tenant=tenant, exchange=exchange, label=f"{exchange} {n}",
                                            api_base_url=sim.base_url, status="connected")  # fmt: skip
            connection.set_credentials(Credentials(**account.credentials()))
            connection.save()
            pair[exchange] = connection
        connections.append(pair)
    rows = []
    for i in range(SUBSCRIPTIONS):
        exchange, symbol, timeframe = plan[i % len(plan)]
        builtin, config = CONFIGS[(i // len(plan)) % len(CONFIGS)]
        connection = connections[i % TENANTS][exchange]
        rows.append(Subscription(tenant_id=connection.tenant_id, name=f"bench {i}", bot=bots[builtin],
                                 connection=connection, symbol=symbol, timeframe=timeframe, strategy_config=config,
                                 execution_config={"order_amount": "20"}))  # fmt: skip
    Subscription.objects.bulk_create(rows, batch_size=2000)
    return len(plan)


def reset() -> None:
    from bots.models import BotSignal, Subscription
    from trading.models import Order

    BotSignal.objects.all().delete()
    Order.objects.all().delete()
    Subscription.objects.update(last_candle_at=None, status="running", error="")
    client = _orders._redis()
    for key in client.scan_iter("*bots:candles*"):
        client.delete(key)
    for key in client.scan_iter("orders"):
        client.delete(key)


def one_round(control, names: list[str]) -> dict:
    from django.db.models import Count

    from bots.models import BotSignal
    from bots.tasks import bots_evaluate

    reset()
    control.add_consumer("bots", destination=names, reply=True)
    started = time.perf_counter()
    n_groups = bots_evaluate()
    dispatched = time.perf_counter() - started
    deadline = time.monotonic() + TIMEOUT
    done = 0
    while time.monotonic() < deadline:
        done = BotSignal.objects.count()
        if done >= SUBSCRIPTIONS:
            break
        time.sleep(0.1)
    took = time.perf_counter() - started
    control.cancel_consumer("bots", destination=names, reply=True)
    outcomes = dict(BotSignal.objects.values_list("outcome").annotate(n=Count("id")).order_by())
    return {"seconds": took, "dispatch": dispatched, "groups": n_groups, "signals": done, "outcomes": outcomes}


def baseline(sim) -> float:
    """Seconds per subscription, evaluated on its own with raw ccxt and pandas."""
    import pandas as pd

    account = sim.add_account("binance", balances={"USDT": 1000})
    keys = account.credentials()
    client = _orders.raw_client(sim.base_url, keys["apiKey"], keys["secret"])
    client.load_markets()
    symbols = sorted(m for m in sim.venue("binance").markets if m.endswith("/USDT"))[:20]
    started = time.perf_counter()
    for i in range(BASELINE_SAMPLE):
        rows = client.fetch_ohlcv(symbols[i % 20], "1h", limit=300)
        frame = pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"])
        fast, slow = frame["close"].rolling(10).mean(), frame["close"].rolling(50).mean()
        _ = bool(fast.iloc[-1] > slow.iloc[-1] and fast.iloc[-2] <= slow.iloc[-2])
    return (time.perf_counter() - started) / BASELINE_SAMPLE


def main() -> None:
    from config.celery import app as platform_app
    from exchanges.simulator import run_simulator

    _orders.ensure_database()
    _orders.clear_bench_keys()
    with run_simulator() as sim, _orders.Workers("bench-signal-throughput") as workers:
        extra = {"SIMULATOR_BASE_URL": sim.base_url}
        print(f"load average before: {_orders.load()}")
        n_groups = setup(sim)
        print(f"{SUBSCRIPTIONS:,} subscriptions over {n_groups} groups, {len(CONFIGS)} bot configs, {TENANTS} tenants")
        names = [workers.start(app_module="config", queues="bench-bots-idle", extra_env=extra) for _ in range(2)]
        workers.wait_ready(platform_app, names)
        results: dict[int, list[dict]] = {}
        for count in (1, 2):
            for _ in range(REPEATS):
                result = one_round(platform_app.control, names[:count])
                results.setdefault(count, []).append(result)
                print(
                    f"  {count} worker(s): {result['seconds']:.1f} s for {result['signals']:,} signals "
                    f"({result['groups']} groups; dispatch {result['dispatch'] * 1000:.0f} ms) {result['outcomes']}"
                )
        per_sub = baseline(sim)
        print()
        print(f"{'':36} {'s/round':>9} {'signals/s':>10}")
        for count, runs in results.items():
            seconds = statistics.median(r["seconds"] for r in runs)
            print(f"platform, {count} worker(s){'':17} {seconds:9.1f} {SUBSCRIPTIONS / seconds:10.0f}")
        print(
            f"baseline: one by one, raw ccxt + pandas {per_sub * SUBSCRIPTIONS:7.1f} {1 / per_sub:10.0f}"
            f"   ({per_sub * 1000:.1f} ms a subscription, {BASELINE_SAMPLE} timed, 1 process)"
        )
        print(f"load average after: {_orders.load()}  (target: under 60 s with 2 workers)")


if __name__ == "__main__":
    main()
