"""Benchmark 3, rate limit: 4 worker processes hammer one simulated exchange whose limit is
10 requests/s, for 20 s. The simulator refuses (429) whatever goes over its limit in any
1 s window. Figures: the highest request rate it saw in any 1 s window (target: at most
the budget) and the requests it refused (target: 0). Baseline in the same run: the same 4
processes with raw ccxt, each with ccxt's own per-process rate limiter.

The platform's budget is ccxt's cost model with the exchange's rate set to its limit: a
Binance ticker costs 0.4 ccxt units, so 10 tickers/s is a rateLimit of 250 ms per unit
(EXCHANGE_RATE_LIMIT_MS="binance=250"), used at RATE_LIMIT_HEADROOM (90 %). The burst is
small (RATE_LIMIT_CAPACITY_SECONDS=0.1), since this simulator counts in 1 s windows where
Binance counts weight per minute.

    .venv/bin/python bench/ratelimit.py
"""

import os

os.environ.setdefault("RATE_LIMIT_CAPACITY_SECONDS", "0.1")
os.environ.setdefault("EXCHANGE_RATE_LIMIT_MS", "binance=250")  # 0.4 units x 250 ms = 100 ms a ticker

import _setup  # noqa: F401  (configures Django)

import asyncio
import multiprocessing
import time

WORKERS = 4
CONCURRENCY = 8  # requests in flight per worker
SECONDS = 20
LIMIT = 10


def worker(kind: str, base_url: str, ready, go, results) -> None:
    """One worker process: warms up, waits for the start, then hammers with CONCURRENCY
    requests in flight for SECONDS. ``kind``: "platform" or "raw ccxt"."""
    import _setup  # noqa: F401  (a spawned process configures Django again)

    from exchanges import runtime

    async def hammer(fetch_ticker, warm_up):
        await warm_up()
        ready.put(os.getpid())
        await asyncio.to_thread(go.wait)
        ok = failed = 0
        deadline = time.monotonic() + SECONDS

        async def loop():
            nonlocal ok, failed
            while time.monotonic() < deadline:
                try:
                    await fetch_ticker("BTC/USDT")
                    ok += 1
                except Exception:  # the exchange's 429s and their kin, counted
                    failed += 1

        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        return ok, failed

    if kind == "platform":
        from exchanges.factory import public_adapter

        adapter = public_adapter("binance", api_base_url=base_url)
        results.put(runtime.run(hammer(adapter.fetch_ticker, adapter.load_markets), timeout=SECONDS + 60))
        return
    import ccxt.async_support as ccxt_async

    from exchanges.adapters.ccxt_pool import rewrite_urls

    async def raw():
        client = ccxt_async.binance({"enableRateLimit": True})  # ccxt's own limiter, per process
        client.urls["api"] = rewrite_urls(client.urls["api"], base_url)
        try:
            return await hammer(client.fetch_ticker, client.load_markets)
        finally:
            await client.close()

    results.put(asyncio.run(raw()))


def run(sim, kind: str) -> dict:
    from exchanges.simulator.markets import BINANCE

    sim.reset()
    _setup.clear_market_cache()
    clear_resilience_keys()
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    processes = [ctx.Process(target=worker, args=(kind, sim.base_url, ready, go, results)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    time.sleep(1.5)  # the warm-up's requests leave the 1 s windows and the budget refills
    sim.enforce_rate_limit(BINANCE, LIMIT)
    go.set()
    outcomes = [results.get(timeout=SECONDS + 120) for _ in processes]
    for process in processes:
        process.join()
    return {
        "busiest": sim.limits.busiest_second(BINANCE),
        "rejected": sim.limits.rejected[BINANCE],
        "served": sum(ok for ok, _ in outcomes),
        "errors": sum(failed for _, failed in outcomes),
    }


def clear_resilience_keys() -> None:
    from django.conf import settings

    from trading.market.redis import sync_client

    client = sync_client()
    for key in client.scan_iter(f"{settings.RESILIENCE_KEY_PREFIX}:*"):
        client.delete(key)


def main() -> None:
    from exchanges.simulator import run_simulator

    with run_simulator() as sim:
        platform = run(sim, "platform")
        baseline = run(sim, "raw ccxt")
    print(f"Rate limit: {WORKERS} worker processes x {CONCURRENCY} in flight, one simulated exchange")
    print(f"limited to {LIMIT} requests/s (429 above), {SECONDS} s\n")
    print(f"{'':32} | {'busiest 1 s':>11} | {'429s':>6} | {'tickers served':>14} | {'errors':>6}")
    for name, r in (("platform (shared Redis budget)", platform), ("baseline: raw ccxt per process", baseline)):
        print(f"{name:32} | {r['busiest']:>11} | {r['rejected']:>6} | {r['served']:>14} | {r['errors']:>6}")


if __name__ == "__main__":
    main()
