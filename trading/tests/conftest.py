import pytest

from exchanges.adapters import ccxt_pool


@pytest.fixture(autouse=True)
def forget_loaded_markets():
    """Markets are loaded once per process; each test starts without them (the root
    conftest empties Redis's market and cache keys)."""
    ccxt_pool.forget_markets()
