"""The backtest engine: execution, fees, slippage, equity, both signal paths, progress, sample data."""

import json

import numpy as np
import pytest

from bots.data import SAMPLE_SYMBOL, sample_candles
from bots.engine import candle_window, run_backtest
from bots.sdk import Action, CustomBot, builtin_bot, candles_frame
from bots.sdk.builtin import SmaCrossover

HOUR = 3_600_000
T0 = 1_700_000_000_000


class VolumeScripted(CustomBot):
    """Reads its orders from the candles' volume column: 1 BUY, 2 SELL, anything else HOLD.

    It has both paths, so the engine's handling of each can be checked on a hand-made script."""

    name = "scripted"

    def analyze_market(self, candles):
        code = candles["volume"].iloc[-1]
        price = float(candles["close"].iloc[-1])
        return Action.buy(price) if code == 1 else Action.sell(price) if code == 2 else Action.hold(price=price)

    def signals(self, candles):
        volume = candles["volume"]
        return (volume == 1).astype("int8") - (volume == 2).astype("int8")


class NotVectorized(SmaCrossover):
    def signals(self, candles):
        return None


def scripted(closes, codes):
    return candles_frame([[T0 + i * HOUR, c, c, c, c, v] for i, (c, v) in enumerate(zip(closes, codes, strict=True))])


def test_trades_fees_and_equity_by_hand():
    # row:      0     1     2     3     4     5     6
    closes = [100, 100, 110, 120, 120, 90, 100]
    codes = [2, 1, 1, 2, 0, 1, 0]  # SELL while flat (ignored), BUY, BUY while long (ignored), SELL, -, BUY, -
    result = run_backtest(bot=VolumeScripted(), candles=scripted(closes, codes), initial_capital=10_000, fee=0.001)

    # Row 1 BUY at 100 with all 10,000, fee included: notional 10,000 / 1.001 = 9,990.00999,
    # units 99.9000999, fee 9.99000999, cash 0.
    notional1 = 10_000 / 1.001
    units1 = notional1 / 100
    # Row 3 SELL at 120: proceeds 99.9000999 * 120 = 11,988.01199, fee 11.98801199, cash 11,976.02398.
    proceeds = units1 * 120
    cash3 = proceeds * 0.999
    # Row 5 BUY at 90: notional 11,976.02398 / 1.001 = 11,964.05992, units 132.93400, fee 11.96405992.
    notional2 = cash3 / 1.001
    units2 = notional2 / 90

    assert len(result.trades) == 1
    trade = result.trades[0]
    assert (trade.entry_time, trade.exit_time) == (T0 + HOUR, T0 + 3 * HOUR)
    assert trade.side == "long" and trade.entry_price == 100 and trade.exit_price == 120
    assert trade.amount == pytest.approx(units1)
    assert trade.fees == pytest.approx(notional1 * 0.001 + proceeds * 0.001)  # 9.99001 + 11.98801 = 21.97802
    assert trade.pnl == pytest.approx(1_976.023976, abs=1e-6)  # 11,988.01199 - 10,000 - 11.98801

    equity = [e for _, e in result.equity_curve]
    assert equity == pytest.approx(
        [
            10_000,  # flat
            units1 * 100,  # 9,990.00999: the entry fee is gone
            units1 * 110,  # 10,989.01099: marked to market
            cash3,  # 11,976.02398 after the exit fee
            cash3,
            units2 * 90,  # 11,964.05992
            units2 * 100,  # 13,293.39991: open, marked at the last close
        ]
    )
    assert result.open_position == pytest.approx(
        {
            "side": "long",
            "entry_time": T0 + 5 * HOUR,
            "amount": units2,
            "entry_price": 90.0,
            "fees": notional2 * 0.001,
            "mark_price": 100.0,
            "unrealized_pnl": units2 * 10 - notional2 * 0.001,
        }
    )
    assert result.figures["total_trades"] == 1 and result.figures["final_equity"] == pytest.approx(units2 * 100)
    assert result.path == "vectorized" and result.candles == 7
    json.dumps(result.to_json())  # storable as is


def test_slippage_and_position_size():
    candles = scripted([100, 100, 200], [0, 1, 2])
    result = run_backtest(
        bot=VolumeScripted(), candles=candles, initial_capital=1_000, fee=0.0, slippage=0.01, position_size=0.5
    )
    trade = result.trades[0]
    # half the cash, 500, buys at 100 * 1.01 = 101: 4.950495 units; they sell at 200 * 0.99 = 198
    assert trade.entry_price == pytest.approx(101) and trade.exit_price == pytest.approx(198)
    assert trade.amount == pytest.approx(500 / 101)
    assert trade.pnl == pytest.approx(500 / 101 * 97)  # 480.198
    assert result.figures["final_equity"] == pytest.approx(1_000 + 500 / 101 * 97)


@pytest.mark.parametrize(
    ("key", "config", "n"),
    [
        ("sma_crossover", {}, 900),
        ("bollinger", {}, 900),
        ("rsi", {"period": 5}, 900),
        ("macd", {"fast": 3, "slow": 6, "signal": 3}, 900),
        # the defaults' windows (RSI 966, MACD 1,278 candles) need longer runs to be cut
        ("rsi", {}, 1_400),
        ("macd", {}, 1_700),
    ],
)
def test_both_paths_give_identical_trades(key, config, n):
    candles = sample_candles("1h").iloc[:n]
    bot = builtin_bot(key, config)
    assert n > candle_window(bot) + 100  # the candle path really sees a cut window, not the whole history
    vectorized = run_backtest(bot=bot, candles=candles)
    by_candle = run_backtest(bot=builtin_bot(key, config), candles=candles, vectorized=False)
    assert (vectorized.path, by_candle.path) == ("vectorized", "candle")
    assert len(vectorized.trades) >= 3, "the sample should make every built-in trade"
    assert by_candle.trades == vectorized.trades
    assert by_candle.open_position == vectorized.open_position
    assert by_candle.figures == vectorized.figures


def test_a_bot_without_signals_runs_candle_by_candle_on_a_bounded_window():
    seen = []

    class Recording(NotVectorized):
        def analyze_market(self, candles):
            seen.append(len(candles))
            assert candles.index[0] == 0  # a fresh 0-based index, whatever the window's position
            return super().analyze_market(candles)

    bot = Recording({"fast": 3, "slow": 6})
    candles = sample_candles("1h").iloc[:400]
    result = run_backtest(bot=bot, candles=candles)
    assert result.path == "candle"
    # never asked before warmup (7 candles), then windows grow to warmup + max(100, warmup)
    assert seen[0] == bot.warmup and max(seen) == candle_window(bot) == 7 + 100
    assert len(seen) == 400 - bot.warmup + 1
    assert result.trades == run_backtest(bot=SmaCrossover({"fast": 3, "slow": 6}), candles=candles).trades


@pytest.mark.parametrize("vectorized", [True, False])
def test_progress_is_reported_at_most_about_a_hundred_times(vectorized):
    calls = []
    candles = sample_candles("4h").iloc[:700]
    run_backtest(
        bot=SmaCrossover({"fast": 3, "slow": 6}), candles=candles, progress=calls.append, vectorized=vectorized
    )
    assert 2 <= len(calls) <= 101
    assert calls == sorted(calls) and calls[-1] == 1.0


def test_long_runs_store_a_downsampled_curve_but_figures_use_all_of_it():
    candles = sample_candles("1h")
    result = run_backtest(bot=SmaCrossover(), candles=candles)
    assert len(result.equity_curve) <= 2_000
    assert result.equity_curve[0][0] == int(candles["timestamp"].iloc[0])
    assert result.equity_curve[-1] == (int(candles["timestamp"].iloc[-1]), result.figures["final_equity"])
    assert result.figures["equity_curve"] == [list(p) for p in result.equity_curve]
    # the full curve's lowest point (after the peak that sets the drawdown) survives downsampling
    equity = np.array([e for _, e in result.equity_curve])
    stored_drawdown = float(((np.maximum.accumulate(equity) - equity) / np.maximum.accumulate(equity)).max() * 100)
    assert stored_drawdown == pytest.approx(result.figures["max_drawdown"], abs=1e-3)


def test_bad_inputs_are_refused_with_a_reason():
    candles = scripted([1, 2, 3], [0, 0, 0])
    with pytest.raises(ValueError, match="position_size"):
        run_backtest(bot=VolumeScripted(), candles=candles, position_size=1.5)
    with pytest.raises(ValueError, match="fee"):
        run_backtest(bot=VolumeScripted(), candles=candles, fee=-0.1)
    with pytest.raises(ValueError, match="no candles"):
        run_backtest(bot=VolumeScripted(), candles=candles.iloc[:0])

    class Sloppy(VolumeScripted):
        def signals(self, candles):
            return candles["volume"].iloc[:-1]

        def analyze_market(self, candles):
            return "BUY"

    with pytest.raises(ValueError, match="returned 2 values for 3 candles"):
        run_backtest(bot=Sloppy(), candles=candles)
    with pytest.raises(TypeError, match="must return an Action"):
        run_backtest(bot=Sloppy(), candles=candles, vectorized=False)


def test_shipped_sample_candles():
    hourly = sample_candles()
    assert SAMPLE_SYMBOL == "BTC/USDT"
    assert 8_700 <= len(hourly) <= 8_800
    assert (np.diff(hourly["timestamp"].to_numpy()) == HOUR).all()
    assert (hourly["high"] >= hourly[["open", "close"]].max(axis=1)).all()
    assert (hourly["low"] <= hourly[["open", "close"]].min(axis=1)).all()
    assert 10_000 < hourly["close"].median() < 200_000  # BTC-like levels
    daily = sample_candles("1d")
    assert len(daily) == 365 and daily["volume"].sum() == pytest.approx(hourly["volume"].sum())
    assert daily["high"].iloc[0] == hourly["high"].iloc[:24].max()
    assert len(sample_candles("4h")) == len(hourly) // 4
    with pytest.raises(ValueError, match="1h, 4h, 1d only, not '1m'"):
        sample_candles("1m")
    hourly.loc[0, "close"] = -1  # callers get a copy
    assert sample_candles()["close"].iloc[0] > 0
