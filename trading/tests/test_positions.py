"""Average-cost positions from fills: hand-computed PnL for longs, shorts, flips and fees."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection as db_connection
from django.db import transaction

from exchanges.tests.factories import ExchangeConnectionFactory
from trading.models import Position, Trade
from trading.services.positions import apply_fill, position_apply_trade
from trading.tests.factories import OrderFactory, TradeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(tenant):
    return ExchangeConnectionFactory(tenant=tenant)


def fill(conn, side, amount, price, fee="0", fee_currency="", symbol="BTC/USDT"):
    order = OrderFactory(connection=conn, side=side, amount=D(amount), symbol=symbol)
    trade = TradeFactory(order=order, price=D(price), fee=D(fee), fee_currency=fee_currency)
    position = position_apply_trade(trade=trade)
    trade.refresh_from_db()
    return position, trade


def test_open_long(conn):
    position, trade = fill(conn, "buy", "2", "100")
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(2), D(100), D(0))
    assert position.side == "long" and position.opened_at == trade.executed_at
    assert trade.realized_pnl == 0
    assert Position.objects.get().tenant == conn.tenant


def test_adding_moves_the_weighted_average_entry(conn):
    fill(conn, "buy", "2", "100")
    position, _ = fill(conn, "buy", "1", "130")
    assert position.quantity == D(3) and position.average_price == D(110)  # (200 + 130) / 3
    position, _ = fill(conn, "buy", "3", "101")
    assert position.average_price == D("105.5")  # (330 + 303) / 6


def test_repeating_average_is_rounded_to_18_decimals(conn):
    fill(conn, "buy", "1", "100")
    position, _ = fill(conn, "buy", "2", "101")
    position.refresh_from_db()
    assert position.average_price == D("100.666666666666666667")


def test_partial_then_full_close_realizes_pnl_against_the_entry(conn):
    fill(conn, "buy", "2", "100")
    fill(conn, "buy", "1", "130")  # 3 @ 110
    position, trade = fill(conn, "sell", "1", "140")
    assert trade.realized_pnl == D(30)  # (140 - 110) x 1
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(2), D(110), D(30))
    position, trade = fill(conn, "sell", "2", "100")
    assert trade.realized_pnl == D(-20)  # (100 - 110) x 2
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(0), None, D(10))
    assert position.side == "flat" and position.opened_at is None


def test_flip_to_short_closes_the_long_and_opens_the_short_at_the_fill(conn):
    fill(conn, "buy", "1", "100")
    position, trade = fill(conn, "sell", "3", "120")
    assert trade.realized_pnl == D(20)  # only the long's 1 closed: (120 - 100) x 1
    assert (position.quantity, position.average_price) == (D(-2), D(120))
    assert position.side == "short" and position.opened_at == trade.executed_at


def test_short_add_and_cover(conn):
    fill(conn, "sell", "1", "120")
    position, _ = fill(conn, "sell", "1", "150")
    assert (position.quantity, position.average_price) == (D(-2), D(135))
    position, trade = fill(conn, "buy", "1", "90")
    assert trade.realized_pnl == D(45)  # a short gains when the price falls: (135 - 90) x 1
    position, trade = fill(conn, "buy", "3", "140")  # covers 1 (loss 5) and flips long 2 @ 140
    assert trade.realized_pnl == D(-5)
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(2), D(140), D(40))


def test_quote_fees_are_realized_costs(conn):
    position, trade = fill(conn, "buy", "1", "100", fee="0.1", fee_currency="USDT")
    assert trade.realized_pnl == D("-0.1") and position.fees == D("0.1")
    position, trade = fill(conn, "sell", "1", "110", fee="0.11", fee_currency="USDT")
    assert trade.realized_pnl == D("9.89")  # (110 - 100) - 0.11
    assert position.realized_pnl == D("9.79") and position.fees == D("0.21")


def test_base_fee_is_converted_at_the_fill_price(conn):
    position, trade = fill(conn, "buy", "2", "100", fee="0.002", fee_currency="BTC")
    assert trade.realized_pnl == D("-0.2") and position.fees == D("0.2")
    position, trade = fill(conn, "sell", "1", "150", fee="0.001", fee_currency="btc")
    assert trade.realized_pnl == D("49.85")  # (150 - 100) - 0.001 x 150
    assert position.quantity == D(1)  # the fee is a cost, not a change of what is held


def test_equivalent_quote_counts_third_currency_does_not(conn):
    _, trade = fill(conn, "buy", "1", "100", fee="0.5", fee_currency="USD")  # USD = USDT for the tenant
    assert trade.realized_pnl == D("-0.5")
    _, trade = fill(conn, "buy", "1", "100", fee="0.01", fee_currency="BNB")
    assert trade.realized_pnl == 0
    _, trade = fill(conn, "buy", "1", "100", fee="0.3")  # no currency: the quote
    assert trade.realized_pnl == D("-0.3")


def test_positions_are_per_connection_and_symbol_and_sum_their_trades(tenant, conn):
    other = ExchangeConnectionFactory(tenant=tenant)
    fill(conn, "buy", "1", "100", fee="1", fee_currency="USDT")
    fill(conn, "sell", "1", "105", fee="1", fee_currency="USDT")
    fill(conn, "buy", "10", "5", symbol="ETH/USDT")
    fill(other, "sell", "1", "100")
    assert Position.objects.count() == 3
    btc = Position.objects.get(connection=conn, symbol="BTC/USDT")
    assert (
        btc.realized_pnl
        == D(3)
        == sum(t.realized_pnl for t in Trade.objects.filter(connection=conn, symbol="BTC/USDT"))
    )
    assert Position.objects.get(connection=other).quantity == D(-1)


@pytest.mark.parametrize(
    ("quantity", "average", "delta", "price", "expected"),
    [
        (D(0), None, D("-1.5"), D(10), (D("-1.5"), D(10), D(0))),
        (D(-2), D(10), D(2), D(12), (D(0), None, D(-4))),
        (D(2), D(10), D(-5), D(8), (D(-3), D(8), D(-4))),
    ],
)
def test_apply_fill(quantity, average, delta, price, expected):
    assert apply_fill(quantity, average, delta, price) == expected


@pytest.mark.django_db(transaction=True)
def test_first_fills_racing_end_up_on_one_position(tenant):
    conn = ExchangeConnectionFactory(tenant=tenant)
    trades = [TradeFactory(order=OrderFactory(connection=conn, amount=D(1)), price=D(p)) for p in (100, 200)]
    barrier, errors = threading.Barrier(2), []

    def apply(trade):
        try:
            barrier.wait()
            with transaction.atomic():
                position_apply_trade(trade=trade)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=apply, args=(t,)) for t in trades]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    position = Position.objects.get()
    assert (position.quantity, position.average_price) == (D(2), D(150))


def test_order_list_open_means_every_active_status(tenant, other_tenant, conn):
    from django.core.exceptions import ValidationError

    from trading.models import OrderStatus
    from trading.selectors import order_list

    active = [OrderFactory(connection=conn, status=s) for s in (OrderStatus.WAITING, OrderStatus.UNKNOWN,
                                                               OrderStatus.PARTIALLY_FILLED)]  # fmt: skip
    OrderFactory(connection=conn, status=OrderStatus.FILLED, symbol="ETH/USDT")
    OrderFactory(connection=ExchangeConnectionFactory(tenant=other_tenant), status=OrderStatus.OPEN)
    assert set(order_list(tenant=tenant, status="open")) == set(active)
    assert [o.symbol for o in order_list(tenant=tenant, status="filled")] == ["ETH/USDT"]
    assert order_list(tenant=tenant, symbol="eth-usdt").count() == 1
    with pytest.raises(ValidationError) as error:
        order_list(tenant=tenant, status="done")
    assert "status" in error.value.message_dict


def test_an_answer_with_fees_in_two_currencies_counts_one_and_flags_the_other(conn):
    """Fees are added up in the order's one fee currency (the first the exchange named); a
    second currency is flagged on the order, never added to the first as if it were the same."""
    from exchanges.adapters import types as ex
    from trading.services.execution import _adopt

    order = OrderFactory(connection=conn, symbol="BTC/USDT", side="buy", amount=D("0.02"), remaining=D("0.02"))
    answer = ex.Order(
        exchange="binance", id="1", client_order_id=order.client_order_id, symbol="BTC/USDT", side=ex.Side.BUY,
        type=ex.OrderType.MARKET, status=ex.OrderStatus.PARTIALLY_FILLED, amount=D("0.02"), filled=D("0.01"),
        remaining=D("0.01"), average=D("60000"), fees=(ex.Fee("USDT", D("0.6")), ex.Fee("BNB", D("0.001"))),
    )  # fmt: skip
    _, trade = _adopt(order, answer, "synced")
    assert (order.fee, order.fee_currency, trade.fee, trade.fee_currency) == (D("0.6"), "USDT", D("0.6"), "USDT")
    assert order.events.filter(kind="fees", reason="fees in BNB too: only the USDT fee is counted").exists()
