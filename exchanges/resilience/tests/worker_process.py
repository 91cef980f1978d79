"""A second (third...) OS process for the sharing tests: no Django, its own Redis client.

    python -m exchanges.resilience.tests.worker_process '<json spec>'

It prints "ready", reads the start moment (unix seconds) from stdin, sleeps until then,
does its work and prints its result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from exchanges.resilience.breaker import CircuitBreaker, CircuitOpen
from exchanges.resilience.ratelimit import RateLimiter


async def hammer(spec: dict) -> list[float]:
    """``workers`` busy loops acquiring one unit each until ``seconds`` are over."""
    limiter = RateLimiter(prefix=spec["prefix"], redis_url=spec["redis_url"])
    end_at = time.time() + spec["seconds"]
    stamps: list[float] = []

    async def worker() -> None:
        while time.time() < end_at:
            await limiter.acquire(spec["key"], rate=spec["rate"], capacity=spec["capacity"])
            stamps.append(time.time())

    await asyncio.gather(*(worker() for _ in range(spec["workers"])))
    return stamps


async def probe(spec: dict) -> dict:
    """``callers`` concurrent before_call on a half-open breaker: how many got through."""
    breaker = CircuitBreaker(prefix=spec["prefix"], redis_url=spec["redis_url"])

    async def call() -> bool:
        try:
            return await breaker.before_call(spec["key"])
        except CircuitOpen:
            return False

    won = await asyncio.gather(*(call() for _ in range(spec["callers"])))
    return {"probes": sum(won)}


async def main(spec: dict) -> object:
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    await asyncio.sleep(max(0.0, start_at - time.time()))
    return await {"hammer": hammer, "probe": probe}[spec["mode"]](spec)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
