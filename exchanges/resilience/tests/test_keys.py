"""The platform's key names: readable, stable, and free of secrets."""

from __future__ import annotations

from exchanges.adapters.types import Credentials
from exchanges.factory import build_adapter
from exchanges.resilience.keys import adapter_keys, api_key_key, connection_key, venue_key


def test_venue_keys_tell_addresses_apart():
    assert venue_key("binance") == "venue:binance:live"
    assert venue_key("binance", testnet=True) == "venue:binance:testnet"
    simulator = venue_key("binance", api_base_url="http://127.0.0.1:8999/")
    assert simulator == venue_key("binance", api_base_url="http://127.0.0.1:8999")
    assert simulator.startswith("venue:binance:") and len(simulator.rsplit(":", 1)[1]) == 8
    assert simulator != venue_key("binance", api_base_url="http://127.0.0.1:9000")


def test_api_keys_are_hashed():
    key = api_key_key("binance", "my-very-secret-api-key")
    assert key.startswith("apikey:binance:") and "secret" not in key
    assert key == api_key_key("binance", "my-very-secret-api-key")
    assert connection_key(42) == "conn:42"


def test_adapter_keys_for_public_and_private_calls(settings):
    credentials = Credentials(apiKey="my-very-secret-api-key", secret="s")
    adapter = build_adapter("binance", credentials, options={"account_id": 7})
    assert adapter_keys(adapter, "fetch_ticker") == {
        "public_key": "venue:binance:live",
        "private_key": None,
        "budget_key": None,
    }
    assert adapter_keys(adapter, "create_order") == {
        "public_key": "venue:binance:live",
        "private_key": "conn:7",
        "budget_key": api_key_key("binance", "my-very-secret-api-key"),
    }
    public = build_adapter("binance", None)  # the shared market-data adapter: no connection
    assert adapter_keys(public, "fetch_balance")["private_key"] is None
