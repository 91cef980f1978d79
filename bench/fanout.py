"""Benchmark 1, fan-out: 1, 100 and 10,000 subscriptions over the same 20 symbols on 3
simulated exchanges, 10 ticks each. Requests the simulator served per tick (the same for
all three counts) and time per tick. Baseline in the same run: each subscription polling
its own symbols with raw ccxt, measured for 1 and 10 subscriptions.

    .venv/bin/python bench/fanout.py
"""

import _setup  # noqa: F401  (configures Django)

import asyncio
import statistics
import time

import ccxt.async_support as ccxt_async

from exchanges import runtime
from exchanges.adapters.ccxt_pool import rewrite_urls
from exchanges.simulator import run_simulator
from trading.market import demand as demand_module
from trading.market.poller import poll_venue
from trading.market.venues import Venue

TICKS = 10
BASES = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK",
         "MATIC", "LTC", "TRX", "ATOM", "UNI", "XLM", "NEAR", "APT", "ARB", "OP"]  # fmt: skip
SYMBOLS = [f"{b}/USDT" for b in BASES]


def subscriptions(n: int, venues: list[Venue]):
    """n subscriptions, each following the 20 symbols on the 3 exchanges (as a demand provider)."""

    def provider():
        for _ in range(n):
            for venue in venues:
                for symbol in SYMBOLS:
                    yield venue, symbol

    return provider


async def one_tick(demand: dict) -> None:
    await asyncio.gather(*(poll_venue(v, sorted(s), claim=False) for v, s in demand.items()))


def platform_run(sims, venues, n: int) -> tuple[list[int], list[float]]:
    demand_module._providers[:] = [subscriptions(n, venues)]
    runtime.run(one_tick(demand_module.market_demand()))  # markets loaded once, not measured
    requests, seconds = [], []
    for _ in range(TICKS):
        before = sum(s.request_count() for s in sims)
        started = time.perf_counter()
        runtime.run(one_tick(demand_module.market_demand()))  # what beat's market_poll does
        seconds.append(time.perf_counter() - started)
        requests.append(sum(s.request_count() for s in sims) - before)
        _setup.clear_market_cache()
    return requests, seconds


async def naive_tick(clients: list) -> None:
    """Every subscription asks for each of its symbols itself (what a bot per user does)."""
    await asyncio.gather(*(c.fetch_ticker(symbol) for c in clients for symbol in SYMBOLS))


def baseline(sims, venues, n: int) -> tuple[int, float]:
    async def run():
        clients = []
        for _ in range(n):
            for venue in venues:
                client = getattr(ccxt_async, venue.exchange)({"enableRateLimit": False})
                client.urls["api"] = rewrite_urls(client.urls["api"], venue.api_base_url)
                await client.load_markets()
                clients.append(client)
        before = sum(s.request_count() for s in sims)
        started = time.perf_counter()
        await naive_tick(clients)
        took = time.perf_counter() - started
        for client in clients:
            await client.close()
        return sum(s.request_count() for s in sims) - before, took

    return asyncio.run(run())


def main() -> None:
    with run_simulator() as sim_a, run_simulator() as sim_b:
        sims = [sim_a, sim_b]
        venues = [Venue("binance", sim_a.base_url), Venue("okx", sim_a.base_url), Venue("binance", sim_b.base_url)]
        print(f"Fan-out: {len(SYMBOLS)} symbols x {len(venues)} simulated exchanges, {TICKS} ticks each\n")
        print(f"{'subscriptions':>13} | {'requests/tick':>13} | {'ms/tick p50':>11} | {'ms/tick max':>11}")
        for n in (1, 100, 10_000):
            requests, seconds = platform_run(sims, venues, n)
            assert len(set(requests)) == 1, requests
            p50, worst = statistics.median(seconds) * 1000, max(seconds) * 1000
            print(f"{n:>13,} | {requests[0]:>13} | {p50:>11.1f} | {worst:>11.1f}")
        print("\nBaseline, raw ccxt, each subscription polling its own symbols (one tick):")
        print(f"{'subscriptions':>13} | {'requests/tick':>13} | {'ms/tick':>11}")
        for n in (1, 10):
            count, took = baseline(sims, venues, n)
            print(f"{n:>13,} | {count:>13} | {took * 1000:>11.1f}")
        print(f"{'100 / 10,000':>13} | {'6,000 / 600,000':>13} | (n x 60 by the same rule, not run)")


if __name__ == "__main__":
    main()
