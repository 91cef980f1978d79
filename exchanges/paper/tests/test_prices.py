"""The price sources: the simulated process and the candle replay."""

import math
from decimal import Decimal as D

import pytest

from exchanges.adapters.errors import NotSupported
from exchanges.adapters.types import OrderStatus, OrderType, Side
from exchanges.paper.adapter import PaperAdapter
from exchanges.paper.markets import LISTINGS
from exchanges.paper.pricing.candles import DATA_DIR, CandlePrices, load_series
from exchanges.paper.pricing.simulated import SimulatedPrices, log_prices
from exchanges.paper.services import paper_account_configure

from .conftest import T0, Clock, Sync


def adapter(**options):
    return Sync(PaperAdapter(options=options))


# --- simulated -----------------------------------------------------------------------------------
def test_two_adapters_see_the_same_simulated_market_at_the_same_time():
    clock = Clock(T0 + 12_345)
    web, worker = adapter(clock=clock), adapter(clock=clock, price_source="simulated")

    assert web.fetch_ticker("BTC/USDT") == worker.fetch_ticker("BTC/USDT")
    assert web.fetch_order_book("ETH/USDT", limit=10) == worker.fetch_order_book("ETH/USDT", limit=10)
    assert web.fetch_ohlcv("SOL/USDT", timeframe="5m", limit=20) == worker.fetch_ohlcv(
        "SOL/USDT", timeframe="5m", limit=20
    )


def test_the_simulated_market_moves_with_time_and_depends_on_the_seed():
    clock = Clock(T0)
    market = adapter(clock=clock)
    first = market.fetch_ticker("BTC/USDT")
    clock.advance(60)
    later = market.fetch_ticker("BTC/USDT")

    assert later.price != first.price
    assert later.timestamp - first.timestamp == 60_000
    assert adapter(clock=clock, seed=7).fetch_ticker("BTC/USDT").price != later.price


def test_a_second_computed_alone_equals_the_same_second_computed_in_a_range():
    # A web process asks for one second, a worker for a minute of candles: they must agree.
    times = list(range(T0 - 300, T0 + 300))
    in_range = log_prices(42, "BTC", times)
    assert [log_prices(42, "BTC", [t])[0] for t in times[::37]] == in_range[::37]


def test_simulated_prices_stay_realistic_and_quotes_are_consistent():
    source = SimulatedPrices()
    days = [T0 + 86_400 * i for i in range(365)]
    btc = source.usd("BTC", days)
    assert min(btc) > 30_000 and max(btc) < 120_000
    daily = [math.log(b / a) for a, b in zip(btc, btc[1:], strict=False)]
    volatility = math.sqrt(sum(r * r for r in daily) / len(daily))
    assert 0.015 < volatility < 0.05

    market = adapter(clock=Clock(T0))
    ticker = market.fetch_ticker("BTC/USDT")
    assert ticker.bid < ticker.price < ticker.ask and (ticker.ask - ticker.bid) / ticker.price < D("0.0005")
    book = market.fetch_order_book("BTC/USDT", limit=5)
    assert book.bids[0][0] == ticker.bid and book.asks[0][0] == ticker.ask
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    # BTC/USD and ETH/BTC follow the same asset prices as BTC/USDT and ETH/USDT
    btc_usd = market.fetch_ticker("BTC/USD").price
    assert abs(btc_usd - ticker.price) <= D("0.01")
    eth_btc = market.fetch_ticker("ETH/BTC").price
    assert abs(eth_btc - market.fetch_ticker("ETH/USDT").price / ticker.price) < D("0.00002")


def test_candles_cover_the_asked_range_and_the_current_candle_ends_now():
    clock = Clock(T0 + 90)  # 1.5 minutes into a minute-aligned hour
    candles = adapter(clock=clock).fetch_ohlcv("BTC/USDT", timeframe="1m", limit=3)
    assert [c.timestamp for c in candles] == [(T0 - 60) * 1000, T0 * 1000, (T0 + 60) * 1000]
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)
    assert candles[-1].close == adapter(clock=clock).fetch_ticker("BTC/USDT").price
    with pytest.raises(NotSupported):
        adapter(clock=clock).fetch_ohlcv("BTC/USDT", timeframe="7m")


# --- candles ---------------------------------------------------------------------------------------
def csv_rows(name):
    lines = (DATA_DIR / name).read_text().splitlines()
    assert lines[0].startswith("# SYNTHETIC")
    return [line.split(",") for line in lines if line[:1].isdigit()]


def test_the_shipped_candle_files_are_marked_synthetic_and_cover_days():
    for name in ("BTC-USDT-1m.csv", "ETH-USDT-1m.csv"):
        rows = csv_rows(name)
        assert len(rows) >= 3 * 1440
        assert all(float(r[3]) <= min(float(r[1]), float(r[4])) <= max(float(r[1]), float(r[4])) <= float(r[2])
                   for r in rows)  # fmt: skip


def test_candles_replay_the_file_and_loop_through_time():
    rows = csv_rows("BTC-USDT-1m.csv")
    series = load_series(DATA_DIR / "BTC-USDT-1m.csv")
    k = 1234
    minute = series.start + k * 60
    one_loop_later = minute + len(rows) * 60
    for start in (minute, one_loop_later):
        clock = Clock(start + 5 * 60)
        candles = adapter(clock=clock, price_source="candles").fetch_ohlcv(
            "BTC/USDT", timeframe="1m", since=start * 1000, limit=3
        )
        replayed = [[str(c.open), str(c.high), str(c.low), str(c.close)] for c in candles]
        assert replayed == [row[1:5] for row in rows[k : k + 3]]
        assert candles[0].timestamp == start * 1000
        assert D(rows[k][5]) - candles[0].volume < D("0.0001")
    ticker = adapter(clock=Clock(minute), price_source="candles").fetch_ticker("BTC/USDT")
    assert ticker.price == D(rows[k][1])  # a minute opens at its candle's open


def test_an_hour_of_replayed_candles_spans_its_minutes():
    series = load_series(DATA_DIR / "ETH-USDT-1m.csv")
    start = series.start + 600 * 60
    [hour] = adapter(clock=Clock(start + 7200), price_source="candles").fetch_ohlcv(
        "ETH/USDT", timeframe="1h", since=start * 1000, limit=1
    )
    minutes = range(600, 660)
    assert float(hour.high) == max(series.highs[i] for i in minutes)
    assert float(hour.low) == min(series.lows[i] for i in minutes)
    assert (float(hour.open), float(hour.close)) == (series.opens[600], series.closes[659])


def test_assets_without_a_candle_file_fall_back_to_the_simulated_process():
    clock = Clock(T0)
    assert set(CandlePrices().files) == {"BTC", "ETH"}
    replayed = adapter(clock=clock, price_source="candles").fetch_ticker("SOL/USDT")
    simulated = adapter(clock=clock, price_source="simulated").fetch_ticker("SOL/USDT")
    assert replayed.price == simulated.price


@pytest.mark.django_db
def test_an_account_set_to_candles_trades_on_the_replay(make_paper, connection, clock):
    paper_account_configure(connection=connection, price_source="candles")
    series = load_series(DATA_DIR / "BTC-USDT-1m.csv")
    clock.now = series.start + 100 * 60  # the open of candle 100
    paper = make_paper(connection, price_source=None)

    order = paper.create_order(symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, amount=D("0.01"))

    assert order.status == OrderStatus.FILLED
    assert abs(order.average - D(str(series.opens[100]))) / order.average < D("0.001")
    assert LISTINGS["BTC/USDT"].market.symbol == order.symbol
