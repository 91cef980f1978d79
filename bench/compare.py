"""Benchmark 2, comparison: 8 simulated exchanges, each answering with 100 ms added latency.
Time of compare_prices against one exchange's time (target: at most 1.25x). Baseline in
the same run: raw ccxt asking the 8 exchanges one after another.

    .venv/bin/python bench/compare.py
"""

import _setup  # noqa: F401  (configures Django)

import asyncio
import statistics
import time
from contextlib import ExitStack

import ccxt.async_support as ccxt_async

from exchanges import runtime
from exchanges.adapters.ccxt_pool import rewrite_urls
from exchanges.simulator import run_simulator
from trading.market.compare import Target, compare
from trading.market.venues import Venue

EXCHANGES = 8
LATENCY = 0.100
RUNS = 15
SYMBOL = ["BTC/USDT"]


def timed_compare(targets) -> list[float]:
    runtime.run(compare(targets, SYMBOL))  # markets loaded once, not measured
    times = []
    for _ in range(RUNS):
        _setup.clear_market_cache()  # every run asks the exchanges
        started = time.perf_counter()
        result = runtime.run(compare(targets, SYMBOL))
        times.append(time.perf_counter() - started)
        assert all(row.status == "ok" for row in result.rows), result.rows
    return times


def sequential_raw_ccxt(sims) -> list[float]:
    async def run():
        clients = []
        for sim in sims:
            client = ccxt_async.binance({"enableRateLimit": False})
            client.urls["api"] = rewrite_urls(client.urls["api"], sim.base_url)
            await client.load_markets()
            clients.append(client)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            for client in clients:
                await client.fetch_ticker(SYMBOL[0])
            times.append(time.perf_counter() - started)
        for client in clients:
            await client.close()
        return times

    return asyncio.run(run())


def main() -> None:
    with ExitStack() as stack:
        sims = [stack.enter_context(run_simulator()) for _ in range(EXCHANGES)]
        for sim in sims:
            sim.add_fault("latency", delay=LATENCY)
        targets = [Target(Venue("binance", sim.base_url), i, f"sim {i}") for i, sim in enumerate(sims)]
        one = statistics.median(timed_compare(targets[:1]))
        eight = timed_compare(targets)
        raw = statistics.median(sequential_raw_ccxt(sims))
        p50, p95 = statistics.median(eight), sorted(eight)[int(len(eight) * 0.95) - 1]
        print(f"Comparison: {EXCHANGES} simulated exchanges, {LATENCY * 1000:.0f} ms added latency each, {RUNS} runs\n")
        print(f"one exchange alone, compare_prices p50     {one * 1000:7.1f} ms")
        print(f"{EXCHANGES} exchanges, compare_prices p50 / p95      {p50 * 1000:7.1f} / {p95 * 1000:.1f} ms")
        print(f"ratio to one exchange (target <= 1.25)     {p50 / one:7.2f} x")
        print(f"baseline: raw ccxt, one after another p50  {raw * 1000:7.1f} ms ({raw / p50:.1f}x slower)")


if __name__ == "__main__":
    main()
