"""Each seed exchange: its adapter builds (offline), spells symbols its way and reports
capabilities from ccxt's ``has``."""

import pytest

from exchanges.adapters.ccxt_adapter import CcxtAdapter
from exchanges.adapters.types import Credentials
from exchanges.catalog import SEED_EXCHANGES, check_region, exchange_info, supported_exchanges
from exchanges.factory import adapter_class, build_adapter

CCXT_SEEDS = [e for e in SEED_EXCHANGES if e != "robinhood"]
OWN_SPELLING = {
    "binance": "BTCUSDT", "binanceus": "BTCUSDT", "bybit": "BTCUSDT", "bitget": "BTCUSDT", "coinbase": "BTC-USDT",
    "okx": "BTC-USDT", "kucoin": "BTC-USDT", "bingx": "BTC-USDT", "gate": "BTC_USDT", "bitstamp": "btcusdt",
    "kraken": "XBTUSDT",
}  # fmt: skip


@pytest.mark.parametrize("exchange_id", CCXT_SEEDS)
def test_seed_adapter_builds_and_reports_capabilities(exchange_id):
    adapter = build_adapter(exchange_id, Credentials(apiKey="k" * 16, secret="s" * 16))
    assert isinstance(adapter, CcxtAdapter)
    assert adapter.exchange_id == exchange_id
    capabilities = adapter.capabilities()
    assert capabilities.spot is True
    assert capabilities.websocket is True  # every seed exchange is in ccxt.pro
    assert adapter.exchange_symbol("BTC/USDT") == OWN_SPELLING[exchange_id]
    assert adapter.normalize_symbol(OWN_SPELLING[exchange_id]) == "BTC/USDT"


def test_capabilities_follow_ccxt():
    assert exchange_info("binance").capabilities.futures is True
    assert exchange_info("binance").capabilities.stop_loss is True
    assert exchange_info("kraken").capabilities.futures is False  # Kraken's futures are another ccxt class
    assert exchange_info("okx").required_credentials == ("apiKey", "secret", "password")


def test_regions_of_the_seed_exchanges():
    def seeds(region):
        return {i.id for i in supported_exchanges(region) if i.seed}

    assert {"robinhood", "coinbase", "kraken", "binanceus", "kucoin"} == seeds("us")
    assert {"kraken", "coinbase", "binance", "bitstamp", "kucoin"} == seeds("eu")
    assert {"binance", "kucoin", "bybit", "okx", "kraken", "bitget", "gate", "bingx"} == seeds("global")


def test_every_ccxt_exchange_is_in_the_catalog_and_builds():
    import ccxt

    ids = {i.id for i in supported_exchanges()}
    assert set(ccxt.exchanges) <= ids
    for exchange_id in ccxt.exchanges:
        assert issubclass(adapter_class(exchange_id), CcxtAdapter)


def test_outside_the_region_is_refused_clearly():
    with pytest.raises(ValueError, match="Bybit is not available in region 'us'"):
        check_region("bybit", "us")
    with pytest.raises(LookupError, match="Unknown exchange 'nope'"):
        check_region("nope", "us")
    assert check_region("gateio", "global").id == "gate"


def test_robinhood_is_registered_like_a_custom_exchange():
    from exchanges.adapters.registry import get_registration
    from exchanges.adapters.robinhood import RobinhoodAdapter

    assert get_registration("robinhood").adapter_class is RobinhoodAdapter
    assert adapter_class("robinhood") is RobinhoodAdapter
    info = exchange_info("robinhood")
    assert (info.regions, info.required_credentials, info.via) == (("us",), ("apiKey", "privateKey"), "adapter")
