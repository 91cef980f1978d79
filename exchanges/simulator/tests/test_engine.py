"""The matching engine on its own: balances, holds, fills, stops, time in force."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator import engine
from exchanges.simulator.markets import BINANCE, VENUES
from exchanges.simulator.models import Account, Status

BTC = "BTC/USDT"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def venue(clock):
    venue = engine.Venue(VENUES[BINANCE], clock=clock)
    venue.add_account(Account(exchange=BINANCE, api_key="k", free={"USDT": D("100000"), "BTC": D("1")}))
    return venue


def place(venue, **spec):
    return venue.place_order(api_key="k", symbol=BTC, **spec)


def test_book_is_around_the_mid_with_the_exchange_tick(venue):
    book = venue.book(BTC)
    bid, ask = book.best_bid(), book.best_ask()
    assert bid < D("65000") < ask
    assert (ask - bid) / D("65000") < D("0.0002")
    assert all(price % D("0.01") == 0 for price, _ in book.bids() + book.asks())
    assert [p for p, _ in book.asks()] == sorted(p for p, _ in book.asks())


def test_market_buy_spends_quote_and_receives_base_less_fee(venue):
    order = place(venue, side="buy", type="market", amount=D("0.1"))
    account = venue.account("k")
    assert order.status == Status.FILLED
    assert account.free["BTC"] == D("1") + D("0.1") - D("0.0001")
    assert account.free["USDT"] == D("100000") - order.cost
    assert order.fee == D("0.0001") and order.fee_asset == "BTC"


def test_big_market_order_walks_several_levels(venue):
    order = place(venue, side="sell", type="market", amount=D("1"))
    assert len(order.fills) > 1
    assert order.average < venue.book(BTC).best_bid()


def test_limit_buy_holds_funds_until_canceled(venue):
    order = place(venue, side="buy", type="limit", amount=D("0.5"), price=D("60000"))
    account = venue.account("k")
    assert (account.free["USDT"], account.locked["USDT"]) == (D("70000"), D("30000"))
    venue.cancel_order("k", order_id=order.id)
    assert (account.free["USDT"], account.locked["USDT"]) == (D("100000"), D("0"))
    with pytest.raises(engine.OrderNotOpen):
        venue.cancel_order("k", order_id=order.id)


def test_crossing_limit_takes_at_the_better_book_price_and_frees_the_difference(venue):
    order = place(venue, side="buy", type="limit", amount=D("0.1"), price=D("66000"))
    account = venue.account("k")
    assert order.status == Status.FILLED and order.average < D("66000")
    assert account.locked["USDT"] == 0
    assert account.free["USDT"] == D("100000") - order.cost


def test_resting_order_fills_as_maker_when_the_market_moves(venue):
    order = place(venue, side="sell", type="limit", amount=D("0.2"), price=D("66000"))
    venue.set_price(BTC, D("66500"))
    assert order.status == Status.FILLED and order.fills[0].maker
    assert order.fee == D("0.2") * D("66000") * D("0.001")
    assert venue.account("k").locked["BTC"] == 0


def test_partial_fill_by_hand(venue):
    order = place(venue, side="buy", type="limit", amount=D("0.5"), price=D("60000"))
    venue.fill_order(order.id, amount=D("0.2"))
    assert order.status == Status.PARTIALLY_FILLED and order.remaining == D("0.3")
    assert venue.account("k").locked["USDT"] == D("18000")


def test_ioc_and_fok(venue):
    far = D("64000")  # below the ask: nothing to take
    ioc = place(venue, side="buy", type="limit", amount=D("0.1"), price=far, time_in_force="IOC")
    fok = place(venue, side="buy", type="limit", amount=D("1"), price=D("65010"), time_in_force="FOK")
    assert ioc.status == Status.EXPIRED and ioc.filled == 0
    assert fok.status == Status.EXPIRED and fok.filled == 0  # only the best level is within the limit
    assert venue.account("k").locked["USDT"] == 0


def test_stop_market_triggers_and_take_profit_waits(venue):
    stop = place(venue, side="sell", type="market", amount=D("0.1"), trigger="stop_loss", stop_price=D("64000"))
    take = place(venue, side="sell", type="market", amount=D("0.1"), trigger="take_profit", stop_price=D("70000"))
    assert venue.account("k").locked["BTC"] == D("0.2")
    venue.set_price(BTC, D("63900"))
    assert stop.status == Status.FILLED and take.status == Status.NEW
    venue.set_price(BTC, D("70000"))
    assert take.status == Status.FILLED


def test_stop_that_would_trigger_at_once_can_be_refused(venue):
    with pytest.raises(engine.WouldTriggerImmediately):
        place(
            venue,
            side="sell",
            type="market",
            amount=D("0.1"),
            trigger="stop_loss",
            stop_price=D("66000"),
            reject_immediate_trigger=True,
        )


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ({"amount": D("0.000001"), "price": D("60000")}, "min_amount"),
        ({"amount": D("0.000015"), "price": D("60000")}, "lot_size"),
        ({"amount": D("0.1"), "price": D("60000.001")}, "tick_size"),
        ({"amount": D("0.00001"), "price": D("60000")}, "min_notional"),
    ],
)
def test_filters(venue, spec, rule):
    with pytest.raises(engine.FilterFailure) as failure:
        place(venue, side="buy", type="limit", **spec)
    assert failure.value.rule == rule


def test_insufficient_balance_places_nothing(venue):
    with pytest.raises(engine.InsufficientBalance) as failure:
        place(venue, side="sell", type="market", amount=D("2"))
    assert failure.value.asset == "BTC"
    assert venue.orders == {}


def test_duplicate_client_order_id_while_open(venue):
    place(venue, side="buy", type="limit", amount=D("0.1"), price=D("60000"), client_order_id="c1")
    with pytest.raises(engine.DuplicateClientOrderId):
        place(venue, side="buy", type="limit", amount=D("0.1"), price=D("60000"), client_order_id="c1")


def test_late_order_is_hidden_until_its_time(venue, clock):
    order = place(venue, side="buy", type="limit", amount=D("0.1"), price=D("60000"), visible_after_ms=2000)
    with pytest.raises(engine.OrderNotFound):
        venue.get_order("k", order_id=order.id)
    assert venue.list_orders("k") == []
    clock.now += 2000
    assert venue.get_order("k", client_order_id=order.client_order_id) is order


def test_candles_change_only_when_the_price_does(venue, clock):
    first = venue.candles(BTC, 60_000, limit=30)
    clock.now += 10_000
    assert venue.candles(BTC, 60_000, end_ms=first[-1].open_time, limit=30) == first
    assert first[-1].close == D("65000")
    venue.set_price(BTC, D("64000"))
    assert venue.candles(BTC, 60_000, limit=1)[0].close == D("64000")


def test_another_account_sees_nothing(venue):
    venue.add_account(Account(exchange=BINANCE, api_key="other", free={"USDT": D("10")}))
    order = place(venue, side="buy", type="limit", amount=D("0.1"), price=D("60000"))
    with pytest.raises(engine.OrderNotFound):
        venue.get_order("other", order_id=order.id)
    with pytest.raises(engine.OrderNotFound):
        venue.cancel_order("other", order_id=order.id)
    assert venue.list_orders("other") == [] and venue.list_fills("other") == []
