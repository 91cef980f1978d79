"""Pytest fixtures for any test that needs the exchange simulator.

Enable with ``pytest_plugins = ["exchanges.simulator.pytest_plugin"]`` in the root conftest.
One server runs for the whole session (a thread on 127.0.0.1, a free port); every test
that asks for ``exchange_simulator`` gets it reset: default prices, no accounts, faults or
counts. Neither fixture touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchanges.simulator.server import run_simulator
from exchanges.simulator.simulator import Simulator


@pytest.fixture(scope="session")
def exchange_simulator_server() -> Iterator[Simulator]:
    with run_simulator() as sim:
        yield sim


@pytest.fixture
def exchange_simulator(exchange_simulator_server: Simulator) -> Iterator[Simulator]:
    exchange_simulator_server.reset()
    yield exchange_simulator_server
    exchange_simulator_server.reset()
