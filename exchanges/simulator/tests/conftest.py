"""The simulator's own tests use the fixtures it offers to every app (see pytest_plugin).

No database: no test here asks for ``db``, so neither Postgres nor Redis is needed.
"""

from __future__ import annotations

import pytest

from exchanges.simulator.pytest_plugin import exchange_simulator, exchange_simulator_server  # noqa: F401
from exchanges.simulator.simulator import Simulator


@pytest.fixture
def sim(exchange_simulator: Simulator) -> Simulator:  # noqa: F811  (a short name for these tests)
    return exchange_simulator
