"""Following a real exchange's public prices, with a stub in its place (no network)."""

import sys
import types
from decimal import Decimal as D

import pytest

from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.adapters.types import Candle, OrderBook, OrderStatus, OrderType, Side, Ticker
from exchanges.paper.services import paper_account_configure

pytestmark = pytest.mark.django_db


class StubExchange:
    """Answers like a public adapter of 'binance' would, and counts the calls."""

    def __init__(self, bid="65000.00", ask="65001.00"):
        self.bid, self.ask = D(bid), D(ask)
        self.calls = []
        self.closed = False
        self.down = False

    async def fetch_ticker(self, symbol):
        self.calls.append(("ticker", symbol))
        if self.down:
            raise ExchangeUnavailable("maintenance", exchange="binance")
        last = (self.bid + self.ask) / 2
        return Ticker("binance", symbol, last, self.bid, self.ask, D("1234.5"), 1_700_000_000_000)

    async def fetch_order_book(self, symbol, *, limit=20):
        self.calls.append(("book", symbol))
        bids = tuple((self.bid - i, D("0.5")) for i in range(limit))
        asks = tuple((self.ask + i, D("0.5")) for i in range(limit))
        return OrderBook("binance", symbol, bids, asks, 1_700_000_000_000)

    async def fetch_ohlcv(self, symbol, *, timeframe="1m", since=None, limit=100):
        self.calls.append(("ohlcv", symbol))
        return [Candle(1_700_000_000_000, self.bid, self.ask, self.bid, self.ask, D("3"))]

    async def close(self):
        self.closed = True


@pytest.fixture
def stub():
    return StubExchange()


@pytest.fixture
def follower(make_paper, connection, stub):
    paper_account_configure(connection=connection, price_source="follow", follow_exchange="binance")
    return make_paper(connection, price_source=None, follow_adapter=stub)


def test_a_following_account_quotes_the_followed_exchange_as_paper(follower, stub):
    ticker = follower.fetch_ticker("BTC/USDT")
    assert (ticker.exchange, ticker.bid, ticker.ask) == ("paper", D("65000.00"), D("65001.00"))
    assert follower.fetch_order_book("BTC/USDT", limit=3).asks[0] == (D("65001.00"), D("0.5"))
    assert follower.fetch_ohlcv("BTC/USDT")[0].close == D("65001.00")
    assert ("ticker", "BTC/USDT") in stub.calls


def test_a_market_order_walks_the_followed_book(follower):
    order = follower.create_order(symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, amount=D("1"))
    # 0.5 at 65001 and 0.5 at 65002, then 5 bps of slippage, rounded up to the tick
    assert order.average == D("65034.01")  # 65001.5 * 1.0005 = 65034.00075


def test_a_resting_order_fills_when_the_followed_price_crosses_it(follower, stub, clock):
    order = follower.create_order(
        symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, amount=D("0.1"), price=D("64000")
    )
    assert follower.fetch_order(symbol="BTC/USDT", order_id=order.id).status == OrderStatus.OPEN

    stub.bid, stub.ask = D("63990"), D("63995")
    clock.advance(5)

    assert follower.fetch_order(symbol="BTC/USDT", order_id=order.id).average == D("64000")


def test_an_unreachable_followed_exchange_does_not_break_the_balance(follower, stub):
    follower.create_order(symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, amount=D("0.1"), price=D("64000"))
    stub.down = True
    assert follower.fetch_balance().assets["USDT"].used > 0  # the order waits for the next look
    with pytest.raises(ExchangeUnavailable):
        follower.fetch_ticker("BTC/USDT")


def test_without_a_stub_the_factory_s_public_adapter_is_used_lazily(make_paper, connection, monkeypatch, stub):
    asked = []

    def public_adapter(exchange_id, api_base_url=None):
        asked.append((exchange_id, api_base_url))
        return stub

    monkeypatch.setitem(sys.modules, "exchanges.factory", types.SimpleNamespace(public_adapter=public_adapter))
    paper_account_configure(connection=connection, price_source="follow", follow_exchange="kraken")
    paper = make_paper(connection, price_source=None)

    assert paper.fetch_balance().free("USDT") == 100000
    assert asked == []  # nothing followed yet: no open orders, no prices asked for
    assert paper.fetch_ticker("BTC/USD").bid == D("65000.00")
    assert asked == [("kraken", None)]
    paper.close()
    assert stub.closed
