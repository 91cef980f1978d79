"""Orders on a paper account, at prices the test sets (see conftest: BTC/USDT bid 59997, ask 60003)."""

from decimal import Decimal as D

import pytest

from exchanges.adapters.errors import BadSymbol, InsufficientFunds, InvalidOrder, OrderNotFound
from exchanges.adapters.types import OrderStatus, OrderType, Side
from exchanges.paper.models import PaperOrder, PaperTrade

pytestmark = pytest.mark.django_db

BUY, SELL = Side.BUY, Side.SELL
MARKET, LIMIT, STOP, STOP_LIMIT = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT


def free(paper, asset):
    return paper.fetch_balance().free(asset)


def used(paper, asset):
    entry = paper.fetch_balance().assets.get(asset)
    return entry.used if entry else D(0)


def test_a_new_account_starts_with_100k_usdt_and_usd(paper):
    balance = paper.fetch_balance()
    assert {asset: entry.total for asset, entry in balance.assets.items()} == {"USDT": 100000, "USD": 100000}


def test_market_buy_fills_at_once_with_slippage_and_fee(paper):
    assert paper.fetch_ticker("BTC/USDT").ask == D("60003.00")

    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.1"))

    # the best ask, 5 bps of slippage against us, rounded up to the tick
    assert order.status == OrderStatus.FILLED
    assert (order.filled, order.remaining, order.average) == (D("0.1"), 0, D("60033.01"))
    cost = D("6003.301")
    assert order.fees[0].currency == "USDT" and order.fees[0].cost == cost * D("0.001")
    assert free(paper, "USDT") == D("100000") - cost - cost * D("0.001")
    assert free(paper, "BTC") == D("0.1")
    [trade] = paper.fetch_my_trades("BTC/USDT")
    assert (trade.order_id, trade.amount, trade.price) == (order.id, D("0.1"), D("60033.01"))


def test_market_sell_receives_the_bid_less_slippage_and_fee(paper):
    paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.2"))
    usdt = free(paper, "USDT")

    order = paper.create_order(symbol="BTC/USDT", side=SELL, type=MARKET, amount=D("0.2"))

    assert order.average == D("59967.00")  # 59997 less 5 bps, rounded down to the tick
    proceeds = D("0.2") * D("59967.00")
    assert free(paper, "USDT") == usdt + proceeds - proceeds * D("0.001")
    assert "BTC" not in paper.fetch_balance().assets


def test_a_large_market_order_walks_down_the_book(make_paper, connection):
    paper = make_paper(connection, starting_balances={"USDT": "1000000"})
    book = paper.fetch_order_book("BTC/USDT", limit=5)
    first, second = book.asks[0], book.asks[1]
    amount = first[1] + second[1] / 2

    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=amount)

    assert order.status == OrderStatus.FILLED
    assert first[0] < order.average / D("1.0005") < second[0]


def test_a_limit_buy_rests_holding_funds_then_fills_once_the_price_crosses(paper, prices, clock):
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("0.1"), price=D("59000"))
    assert order.status == OrderStatus.OPEN
    held = D("5900") + D("5.9")  # the order's value and its fee
    assert used(paper, "USDT") == held
    assert free(paper, "USDT") == D("100000") - held

    clock.advance(60)
    prices.set("BTC/USDT", "59100", at=clock())  # ask 59102.96: still above the limit
    assert paper.fetch_order(symbol="BTC/USDT", order_id=order.id).status == OrderStatus.OPEN

    clock.advance(60)
    prices.set("BTC/USDT", "58990", at=clock())  # ask 58992.95: crossed
    filled = paper.fetch_order(symbol="BTC/USDT", order_id=order.id)

    assert filled.status == OrderStatus.FILLED
    assert filled.average == D("59000")  # a resting order fills at its own price
    balance = paper.fetch_balance()
    assert balance.assets["USDT"].used == 0
    assert balance.free("USDT") == D("100000") - held
    assert balance.free("BTC") == D("0.1")


def test_a_limit_order_fills_on_a_dip_between_two_looks(paper, prices, clock):
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("0.1"), price=D("59000"))
    prices.set("BTC/USDT", "58500", at=clock.advance(10))  # down for ten seconds, unobserved
    prices.set("BTC/USDT", "60000", at=clock.advance(10))
    clock.advance(60)

    assert paper.fetch_open_orders() == []
    assert paper.fetch_order(symbol="BTC/USDT", order_id=order.id).status == OrderStatus.FILLED


def test_a_marketable_limit_order_takes_the_book_and_never_pays_past_its_price(paper):
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("0.1"), price=D("60010"))

    assert order.status == OrderStatus.FILLED
    assert order.average == D("60010")  # 60003 + 5 bps would be 60033.01: capped at the limit


def test_a_limit_sell_fills_when_the_bid_reaches_it(paper, prices, clock):
    paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.5"))
    order = paper.create_order(symbol="BTC/USDT", side=SELL, type=LIMIT, amount=D("0.5"), price=D("61000"))
    assert used(paper, "BTC") == D("0.5")

    prices.set("BTC/USDT", "61010", at=clock.advance(5))

    [closed] = [o for o in paper.fetch_closed_orders("BTC/USDT") if o.id == order.id]
    assert closed.status == OrderStatus.FILLED and closed.average == D("61000")
    assert "BTC" not in paper.fetch_balance().assets


def test_a_limit_order_larger_than_the_touch_fills_in_part_and_rests(make_paper, connection, prices, clock):
    paper = make_paper(connection, starting_balances={"USDT": "1000000"})
    [(ask, size), (second, _)] = paper.fetch_order_book("BTC/USDT", limit=2).asks
    amount = size + D("1")

    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=amount, price=ask)

    assert (order.status, order.filled, order.remaining) == (OrderStatus.PARTIALLY_FILLED, size, D("1"))
    assert ask < second and order.average == ask  # only the touch was at or under the limit
    assert used(paper, "USDT") == ask + ask * D("0.001")  # held for the one BTC still to buy
    prices.set("BTC/USDT", "59000", at=clock.advance(5))
    rest = paper.fetch_order(symbol="BTC/USDT", order_id=order.id)
    assert (rest.status, rest.filled) == (OrderStatus.FILLED, amount)
    assert used(paper, "USDT") == 0
    assert len(paper.fetch_my_trades()) == 2


def test_a_fill_or_kill_order_the_book_cannot_fill_whole_fills_nothing(make_paper, connection):
    paper = make_paper(connection, starting_balances={"USDT": "1000000"})
    [(ask, size)] = paper.fetch_order_book("BTC/USDT", limit=1).asks

    order = paper.create_order(
        symbol="BTC/USDT", side=BUY, type=LIMIT, amount=size + D("1"), price=ask, time_in_force="FOK"
    )

    assert (order.status, order.filled) == (OrderStatus.EXPIRED, 0)
    assert paper.fetch_balance().free("USDT") == D("1000000") and paper.fetch_my_trades() == []


def test_an_ioc_limit_order_that_cannot_fill_expires_and_holds_nothing(paper):
    order = paper.create_order(
        symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("0.1"), price=D("59000"), time_in_force="IOC"
    )
    assert order.status == OrderStatus.EXPIRED
    assert used(paper, "USDT") == 0


def test_a_stop_sell_waits_for_its_stop_price_then_sells_at_the_market(paper, prices, clock):
    paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.3"))
    stop = paper.create_order(symbol="BTC/USDT", side=SELL, type=STOP, amount=D("0.3"), stop_price=D("58000"))
    assert stop.status == OrderStatus.OPEN
    assert used(paper, "BTC") == D("0.3")

    prices.set("BTC/USDT", "58500", at=clock.advance(30))
    assert paper.fetch_order(symbol="BTC/USDT", order_id=stop.id).status == OrderStatus.OPEN

    prices.set("BTC/USDT", "57900", at=clock.advance(30))  # bid 57897.10
    filled = paper.fetch_order(symbol="BTC/USDT", order_id=stop.id)

    assert filled.status == OrderStatus.FILLED
    assert filled.average == D("57868.15")  # the bid when the stop was hit, less 5 bps
    assert "BTC" not in paper.fetch_balance().assets


def test_a_stop_limit_buy_becomes_a_limit_order_when_triggered(paper, prices, clock):
    order = paper.create_order(
        symbol="BTC/USDT", side=BUY, type=STOP_LIMIT, amount=D("0.1"), stop_price=D("61000"), price=D("61050")
    )
    assert order.status == OrderStatus.OPEN

    prices.set("BTC/USDT", "61100", at=clock.advance(30))  # triggered, but the ask 61103.06 is above the limit
    assert paper.fetch_order(symbol="BTC/USDT", order_id=order.id).status == OrderStatus.OPEN

    prices.set("BTC/USDT", "61020", at=clock.advance(30))  # ask 61023.06
    filled = paper.fetch_order(symbol="BTC/USDT", order_id=order.id)
    assert (filled.status, filled.average) == (OrderStatus.FILLED, D("61050"))


def test_a_stop_buy_that_gaps_past_what_was_held_is_rejected(make_paper, connection, prices, clock):
    paper = make_paper(connection, starting_balances={"USDT": "6200"})
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=STOP, amount=D("0.1"), stop_price=D("61000"))
    assert used(paper, "USDT") > D("6100")

    prices.set("BTC/USDT", "65000", at=clock.advance(30))  # 0.1 BTC now costs ~6500 USDT

    rejected = paper.fetch_order(symbol="BTC/USDT", order_id=order.id)
    assert rejected.status == OrderStatus.REJECTED
    assert paper.fetch_balance().free("USDT") == D("6200") and used(paper, "USDT") == 0


def test_insufficient_funds_leave_no_order_and_no_change(paper):
    before = paper.fetch_balance()
    with pytest.raises(InsufficientFunds):
        paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("2"))  # ~120 000 USDT
    with pytest.raises(InsufficientFunds):
        paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("2"), price=D("59000"))
    with pytest.raises(InsufficientFunds):
        paper.create_order(symbol="BTC/USDT", side=SELL, type=MARKET, amount=D("0.01"))  # no BTC at all

    assert PaperOrder.objects.count() == 0 and PaperTrade.objects.count() == 0
    assert paper.fetch_balance().assets == before.assets


@pytest.mark.parametrize(
    ("symbol", "order_type", "amount", "price", "reason"),
    [
        ("BTC/USDT", MARKET, D("0.000001"), None, "below the minimum"),
        ("BTC/USDT", MARKET, D("0.00005"), None, "order value"),  # ~3 USDT: under the 5 USDT minimum
        ("BTC/USDT", LIMIT, D("0.1"), D("59000.005"), "multiple of the tick"),
        ("BTC/USDT", LIMIT, D("0.1"), None, "price is required"),
        ("BTC/USDT", MARKET, D("-1"), None, "positive"),
    ],
)
def test_orders_outside_the_market_rules_are_invalid(paper, symbol, order_type, amount, price, reason):
    with pytest.raises(InvalidOrder, match=reason):
        paper.create_order(symbol=symbol, side=BUY, type=order_type, amount=amount, price=price)
    assert PaperOrder.objects.count() == 0


def test_an_unlisted_symbol_is_a_bad_symbol(paper):
    with pytest.raises(BadSymbol):
        paper.create_order(symbol="DOGE/USDT", side=BUY, type=MARKET, amount=D("100"))


def test_amounts_are_truncated_to_the_step_never_rounded_up(paper):
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.123456789"))
    assert order.amount == D("0.12345")
    assert free(paper, "BTC") == D("0.12345")


def test_cancel_releases_the_held_funds(paper):
    order = paper.create_order(symbol="BTC/USDT", side=BUY, type=LIMIT, amount=D("0.5"), price=D("58000"))
    assert used(paper, "USDT") > 0

    canceled = paper.cancel_order(symbol="BTC/USDT", order_id=order.id)

    assert canceled.status == OrderStatus.CANCELED
    assert used(paper, "USDT") == 0
    assert free(paper, "USDT") == D("100000")
    assert paper.cancel_order(symbol="BTC/USDT", order_id=order.id).status == OrderStatus.CANCELED  # again: harmless
    assert paper.fetch_open_orders() == []


def test_a_filled_or_unknown_order_cannot_be_cancelled(paper):
    filled = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.1"))
    with pytest.raises(InvalidOrder):
        paper.cancel_order(symbol="BTC/USDT", order_id=filled.id)
    with pytest.raises(OrderNotFound):
        paper.cancel_order(symbol="BTC/USDT", order_id="not-an-order")
    with pytest.raises(OrderNotFound):
        paper.cancel_order(symbol="ETH/USDT", order_id=filled.id)  # another market's order


def test_the_same_client_order_id_twice_places_one_order(paper):
    first = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.1"), client_order_id="bot-7-42")
    again = paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.1"), client_order_id="bot-7-42")

    assert again == first
    assert PaperOrder.objects.count() == 1 and PaperTrade.objects.count() == 1
    assert free(paper, "BTC") == D("0.1")
    assert paper.fetch_order(symbol="BTC/USDT", client_order_id="bot-7-42").id == first.id


def test_orders_are_looked_up_by_id_or_client_order_id(paper):
    with pytest.raises(OrderNotFound):
        paper.fetch_order(symbol="BTC/USDT", client_order_id="never-sent")
    order = paper.create_order(symbol="BTC-USDT", side=BUY, type=LIMIT, amount=D("0.1"), price=D("59000"))
    assert order.symbol == "BTC/USDT"
    assert [o.id for o in paper.fetch_open_orders("BTCUSDT")] == [order.id]
    assert paper.fetch_open_orders("ETH/USDT") == []


def test_a_cross_pair_moves_both_crypto_balances(paper):
    paper.create_order(symbol="BTC/USDT", side=BUY, type=MARKET, amount=D("0.1"))
    order = paper.create_order(symbol="ETH/BTC", side=BUY, type=MARKET, amount=D("1"))

    assert order.fees[0].currency == "BTC"
    balance = paper.fetch_balance()
    assert balance.free("ETH") == 1
    assert D("0.0499") < D("0.1") - balance.free("BTC") < D("0.0502")


def test_positions_are_empty_and_the_connection_always_works(paper):
    assert paper.fetch_positions() == []
    result = paper.test_connection()
    assert result.ok and result.latency_ms is not None
