import pytest

from exchanges.adapters import ccxt_pool


@pytest.fixture(autouse=True)
def forget_loaded_markets():
    ccxt_pool.forget_markets()


@pytest.fixture(autouse=True)
def bot_files_in_tmp(settings, tmp_path):
    """Uploaded files go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
