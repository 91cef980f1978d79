import pytest

from exchanges.adapters.types import Market
from exchanges.symbols import InvalidSymbol, normalize, split, to_exchange


@pytest.mark.parametrize(
    "text, unified",
    [
        ("BTC/USDT", "BTC/USDT"),
        ("btc-usd", "BTC/USD"),
        ("BTCUSDT", "BTC/USDT"),
        ("XBTUSD", "BTC/USD"),
        ("XXBTZUSD", "BTC/USD"),
        ("ETH_USDT", "ETH/USDT"),
        ("ethbtc", "ETH/BTC"),
        ("OPUSDT", "OP/USDT"),
        ("BTC/USDT:USDT", "BTC/USDT"),
        (" sol/usdc ", "SOL/USDC"),
    ],
)
def test_every_accepted_spelling_becomes_the_unified_form(text, unified):
    assert normalize(text) == unified


@pytest.mark.parametrize(
    "exchange, expected",
    [
        ("binance", "BTCUSDT"),
        ("binanceus", "BTCUSDT"),
        ("bybit", "BTCUSDT"),
        ("bitget", "BTCUSDT"),
        ("coinbase", "BTC-USDT"),
        ("okx", "BTC-USDT"),
        ("kucoin", "BTC-USDT"),
        ("bingx", "BTC-USDT"),
        ("robinhood", "BTC-USDT"),
        ("gate", "BTC_USDT"),
        ("bitstamp", "btcusdt"),
        ("kraken", "XBTUSDT"),
    ],
)
def test_unified_to_each_seed_exchange_and_back(exchange, expected):
    assert to_exchange("BTC/USDT", exchange_id=exchange) == expected
    assert normalize(expected, exchange_id=exchange) == "BTC/USDT"


def test_loaded_markets_win_over_the_rules():
    markets = {"BTC/USD": Market(symbol="BTC/USD", id="XXBTZUSD", base="BTC", quote="USD")}
    assert to_exchange("BTC/USD", exchange_id="kraken", markets=markets) == "XXBTZUSD"
    assert normalize("xxbtzusd", exchange_id="kraken", markets=markets) == "BTC/USD"
    swaps = {"BTC/USDT:USDT": Market(symbol="BTC/USDT:USDT", id="BTCUSDT", base="BTC", quote="USDT", type="swap")}
    assert normalize("BTC/USDT", markets=swaps) == "BTC/USDT:USDT"


@pytest.mark.parametrize("bad", ["", "BTC", "BTC/", "/USDT", "BTC USDT", "BTC/USDT/EUR", "DROP TABLE", "ZZZZZ"])
def test_unreadable_symbols_are_refused_with_a_hint(bad):
    with pytest.raises(InvalidSymbol, match="BTC/USDT"):
        split(bad)
