"""The HTTP server: one aiohttp app serves the three protocols, told apart by path.

``run_simulator()`` starts it on 127.0.0.1 on a free port in a background thread with its
own event loop, so a test's own loop (and ccxt's timeouts) run independently of it::

    with run_simulator() as sim:
        account = sim.add_account("binance", balances={"USDT": 10_000})
        exchange.urls["api"] = ...  # point the client at sim.base_url
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from aiohttp import web

from exchanges.simulator import binance, control, okx, robinhood
from exchanges.simulator.common import ORDER_FAULTS, SIM, SKEW, gateway_error
from exchanges.simulator.faults import Fault, FaultKind
from exchanges.simulator.markets import BINANCE, OKX, ROBINHOOD
from exchanges.simulator.simulator import Simulator

PREFIXES = (
    ("/api/v1/crypto/", ROBINHOOD),  # before Binance's /api/ paths
    ("/api/v5/", OKX),
    ("/api/v3/", BINANCE),
    ("/sapi/", BINANCE),
    ("/fapi/", BINANCE),
    ("/dapi/", BINANCE),
)
FAULT_RESPONSES: dict[str, Callable[[Fault, web.Request], web.StreamResponse]] = {
    BINANCE: binance.fault_response,
    OKX: okx.fault_response,
    ROBINHOOD: robinhood.fault_response,
}


def protocol_of(path: str) -> str | None:
    return next((protocol for prefix, protocol in PREFIXES if path.startswith(prefix)), None)


@web.middleware
async def exchange_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count the request, then let the scripted faults act on it before the exchange does."""
    protocol = protocol_of(request.path)
    if protocol is None:
        return await handler(request)  # the /_sim/ control API is neither counted nor faulted
    sim = request.app[SIM]
    sim.counters.record(protocol, request.method, request.path)
    if not sim.limits.admit(protocol):  # over the exchange's own request limit
        return FAULT_RESPONSES[protocol](Fault(kind=FaultKind.RATE_LIMIT, status=429, retry_after=1), request)
    plan = sim.faults.plan(protocol, request.method, request.path)
    if plan.delay:
        await asyncio.sleep(plan.delay)
    if plan.response is not None:
        if plan.response.kind == FaultKind.HTTP_ERROR:
            return gateway_error(plan.response.status or 503)
        return FAULT_RESPONSES[protocol](plan.response, request)
    request[SKEW] = plan.skew_ms
    request[ORDER_FAULTS] = plan.order_faults
    return await handler(request)


def build_app(sim: Simulator) -> web.Application:
    app = web.Application(middlewares=[exchange_middleware])
    app[SIM] = sim
    for protocol in (binance, okx, robinhood, control):
        protocol.register(app.router)
    return app


async def start(sim: Simulator, *, host: str = "127.0.0.1", port: int = 0) -> web.AppRunner:
    """Listen on ``host:port`` (0: a free port) in the running loop; sets ``sim.base_url``."""
    runner = web.AppRunner(build_app(sim), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    sim.base_url = f"http://{host}:{bound_port}"
    return runner


class SimulatorThread:
    """The server in a daemon thread with its own event loop."""

    def __init__(self, sim: Simulator, *, host: str = "127.0.0.1", port: int = 0):
        self.sim, self.host, self.port = sim, host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="exchange-simulator", daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._runner = self._loop.run_until_complete(start(self.sim, host=self.host, port=self.port))
        except BaseException as exc:  # handed to the thread that called start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        # a handler may still be holding back an answer (timeout_after_accept): end it quietly
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._error is not None:
            raise self._error
        if self.sim.base_url is None:
            raise RuntimeError("the exchange simulator did not start within 10 s")
        return self.sim.base_url

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


@contextmanager
def run_simulator(
    *, host: str = "127.0.0.1", port: int = 0, sim: Simulator | None = None, demo_accounts: bool = False
) -> Iterator[Simulator]:
    """``with run_simulator() as sim:`` a listening simulator; ``sim.base_url`` is its address."""
    sim = sim or Simulator(demo_accounts=demo_accounts)
    server = SimulatorThread(sim, host=host, port=port)
    server.start()
    try:
        yield sim
    finally:
        server.stop()
