"""A local exchange simulator speaking the real REST protocols of Binance spot, OKX v5 and
Robinhood Crypto, so the real adapters (ccxt included) run against it over HTTP.

    from exchanges.simulator import run_simulator

    with run_simulator() as sim:
        account = sim.add_account("binance", balances={"USDT": 10_000})
        sim.set_price("BTC/USDT", 60_000)
        sim.add_fault("rate_limit", protocol="binance", times=1, retry_after=1)
        ...  # point a client's api_base_url at sim.base_url
        assert sim.request_count(protocol="binance", path="/api/v3/order") == 1

Standalone: ``python -m exchanges.simulator --port 8900``.
"""

from exchanges.simulator.faults import Fault, FaultKind
from exchanges.simulator.markets import BINANCE, OKX, PROTOCOLS, ROBINHOOD
from exchanges.simulator.models import Account, Fill, Order, Status
from exchanges.simulator.server import SimulatorThread, build_app, run_simulator, start
from exchanges.simulator.simulator import Simulator, ed25519_keypair

__all__ = [
    "BINANCE",
    "OKX",
    "PROTOCOLS",
    "ROBINHOOD",
    "Account",
    "Fault",
    "FaultKind",
    "Fill",
    "Order",
    "Simulator",
    "SimulatorThread",
    "Status",
    "build_app",
    "ed25519_keypair",
    "run_simulator",
    "start",
]
