"""Performance figures against hand-computed numbers, and round trips from fills."""

import json
import math
import statistics
from decimal import Decimal

import pytest

from bots.engine import ClosedTrade, figures, open_position_from_fills, round_trips

H = 3_600_000  # one hour in ms

TRADES = [
    ClosedTrade(entry_time=0, exit_time=1 * H, amount=1.0, entry_price=10_000, exit_price=10_102, fees=2.0, pnl=100.0),
    ClosedTrade(
        entry_time=2 * H, exit_time=4 * H, amount=1.0, entry_price=10_100, exit_price=10_052, fees=2.0, pnl=-50.0
    ),
    ClosedTrade(
        entry_time=4 * H, exit_time=5 * H, amount=0.5, entry_price=10_050, exit_price=10_102, fees=1.0, pnl=25.0
    ),
]
# hourly equity: +100 after trade 1, -50 after trade 2, +25 after trade 3
CURVE = [(0, 10_000.0), (H, 10_100.0), (2 * H, 10_100.0), (3 * H, 10_050.0), (4 * H, 10_050.0), (5 * H, 10_075.0)]


def test_figures_against_a_hand_computed_trade_list():
    result = figures(trades=TRADES, equity_curve=CURVE, initial_capital=10_000)
    assert set(result) == {
        "total_trades", "winning_trades", "losing_trades", "win_rate", "total_pnl", "total_pnl_percent",
        "average_trade_duration", "max_drawdown", "sharpe_ratio", "final_equity", "equity_curve",
    }  # fmt: skip
    assert result["total_trades"] == 3
    assert result["winning_trades"] == 2  # +100, +25
    assert result["losing_trades"] == 1  # -50
    assert result["win_rate"] == 66.67  # 2 / 3 = 66.666..% -> 2 dp
    assert result["total_pnl"] == 75.0  # 100 - 50 + 25
    assert result["total_pnl_percent"] == 0.75  # 75 / 10,000
    assert result["average_trade_duration"] == 4_800.0  # (3,600 + 7,200 + 3,600) / 3 s
    # peak 10,100, trough 10,050: 50 / 10,100 = 0.4950495 %
    assert result["max_drawdown"] == 0.495
    assert result["final_equity"] == 10_075.0
    assert result["equity_curve"] == [list(p) for p in CURVE]

    # Sharpe: hourly returns 100/10,000 = 0.01, 0, -50/10,100 = -0.0049505, 0, 25/10,050 = 0.0024876;
    # mean 0.0015074, sample std 0.0054597 -> 0.27610 per hour; hourly spacing -> 8,760 a year,
    # x sqrt(8,760) = 93.5949 -> about 25.84
    returns = [0.01, 0.0, -50 / 10_100, 0.0, 25 / 10_050]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(8_760)
    assert expected == pytest.approx(25.84, abs=0.01)
    assert result["sharpe_ratio"] == round(expected, 4)
    json.dumps(result)


def test_sharpe_uses_the_given_periods_per_year_and_is_zero_without_variance():
    daily = figures(trades=TRADES, equity_curve=CURVE, initial_capital=10_000, periods_per_year=365)
    hourly = figures(trades=TRADES, equity_curve=CURVE, initial_capital=10_000)
    assert daily["sharpe_ratio"] == pytest.approx(hourly["sharpe_ratio"] * math.sqrt(365 / 8_760), abs=1e-3)
    steady = [(i * H, 10_000.0 * 1.01**i) for i in range(5)]  # every return exactly 1 %
    assert figures(trades=[], equity_curve=steady, initial_capital=10_000)["sharpe_ratio"] == 0.0
    two_points = [(0, 10_000.0), (H, 10_500.0)]  # one return: no standard deviation
    assert figures(trades=[], equity_curve=two_points, initial_capital=10_000)["sharpe_ratio"] == 0.0


def test_no_trades_and_no_curve():
    result = figures(trades=[], equity_curve=[], initial_capital=5_000)
    assert result == {
        "total_trades": 0,
        "winning_trades": 0,
        "losing_trades": 0,
        "win_rate": 0.0,
        "total_pnl": 0.0,
        "total_pnl_percent": 0.0,
        "average_trade_duration": 0.0,
        "max_drawdown": 0.0,
        "sharpe_ratio": 0.0,
        "final_equity": 5_000.0,
        "equity_curve": [],
    }


def test_a_break_even_trade_neither_wins_nor_loses():
    trade = ClosedTrade(entry_time=0, exit_time=H, amount=1, entry_price=1, exit_price=1, fees=0, pnl=0.0)
    result = figures(trades=[trade, TRADES[0]], equity_curve=[], initial_capital=10_000)
    assert (result["winning_trades"], result["losing_trades"], result["win_rate"]) == (1, 0, 50.0)
    assert result["final_equity"] == 10_100.0  # no curve: initial capital + realized PnL


def test_round_trips_with_partial_sells_and_average_cost():
    fills = [
        {"time": 500, "side": "sell", "amount": 3, "price": 90, "fee": 0.3},  # flat: coins held before, ignored
        {"time": 1_000, "side": "buy", "amount": 1, "price": 100, "fee": 0.10},
        {"time": 2_000, "side": "buy", "amount": 1, "price": 110, "fee": 0.11},  # average cost 105
        {"time": 3_000, "side": "sell", "amount": 0.5, "price": 120, "fee": 0.06},  # partial
        {"time": 4_000, "side": "sell", "amount": 1.5, "price": 100, "fee": 0.15},  # back to zero: closes
        {"time": 5_000, "side": "BUY", "amount": Decimal("2"), "price": Decimal("50"), "fee": Decimal("0.1")},
        {"time": 6_000, "side": "sell", "amount": 1, "price": 60, "fee": 0.06},  # leaves 1 open
    ]
    (trade,) = round_trips(fills)
    # bought 1 @ 100 + 1 @ 110 = 210 for 2; sold 0.5 @ 120 + 1.5 @ 100 = 60 + 150 = 210 for 2
    # fees 0.10 + 0.11 + 0.06 + 0.15 = 0.42; pnl 210 - 210 - 0.42 = -0.42
    assert trade == ClosedTrade(
        entry_time=1_000, exit_time=4_000, amount=2.0, entry_price=105.0, exit_price=105.0, fees=pytest.approx(0.42),
        pnl=pytest.approx(-0.42),
    )  # fmt: skip
    position = open_position_from_fills(fills)
    # 2 @ 50 bought, 1 sold @ 60: 1 left at an average cost of 50; realized so far 60 - 50 = 10
    assert position == pytest.approx(
        {"entry_time": 5_000, "amount": 1.0, "entry_price": 50.0, "fees": 0.16, "realized_pnl": 10.0}
    )


def test_round_trip_average_cost_across_a_buy_after_a_partial_sell():
    fills = [
        {"time": 1, "side": "buy", "amount": 1, "price": 100, "fee": 0},
        {"time": 2, "side": "sell", "amount": 0.5, "price": 110, "fee": 0},  # basis out: 0.5 * 100 = 50
        {"time": 3, "side": "buy", "amount": 0.5, "price": 130, "fee": 0},  # 1 held at (50 + 65) / 1 = 115
        {"time": 4, "side": "sell", "amount": 1, "price": 120, "fee": 1},  # basis out: 115
    ]
    (trade,) = round_trips(fills)
    # sold 55 + 120 = 175 against a basis of 50 + 115 = 165, fee 1: pnl 9
    assert trade.pnl == pytest.approx(9.0)
    assert trade.amount == 1.5
    assert trade.entry_price == pytest.approx(110.0)  # (100 + 65) / 1.5
    assert trade.exit_price == pytest.approx(175 / 1.5)
    assert open_position_from_fills(fills) is None


def test_dust_left_by_amount_precision_still_closes_the_trip():
    fills = [
        {"time": 1, "side": "buy", "amount": 1.0, "price": 100, "fee": 0},
        {"time": 2, "side": "sell", "amount": 0.9999995, "price": 101, "fee": 0},
    ]
    assert len(round_trips(fills)) == 1
    assert round_trips(fills, dust=0) == []
    with pytest.raises(ValueError, match="'buy' or 'sell'"):
        round_trips([{"time": 1, "side": "short", "amount": 1, "price": 1}])
    with pytest.raises(ValueError, match="needs 'price'"):
        round_trips([{"time": 1, "side": "buy", "amount": 1}])
