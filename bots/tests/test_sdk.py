"""The bot SDK: actions, the candle contract, CustomBot, features and the built-in technical bots."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from bots.sdk import (
    BUY,
    HOLD,
    REGISTRY,
    SELL,
    TIMEFRAMES,
    Action,
    CustomBot,
    ModelNotLoaded,
    builtin_bot,
    candles_frame,
    candles_to_rows,
    features,
    read_candles_csv,
)
from bots.sdk.builtin import BollingerBot, MacdBot, RsiBot, SmaCrossover


def frame_of(closes, start=1_700_000_000_000, step=3_600_000):
    """Candles whose open/high/low equal the close: the built-ins only read closes."""
    closes = [float(c) for c in closes]
    return candles_frame([[start + i * step, c, c, c, c, 1.0] for i, c in enumerate(closes)])


def random_candles(n=300, seed=7):
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return candles_frame(
        [[1_700_000_000_000 + i * 3_600_000, c, c * 1.002, c * 0.998, c, 5.0] for i, c in enumerate(close)]
    )


# -- Action ---------------------------------------------------------------------------------------


def test_action_json_round_trip_through_text():
    action = Action.buy(101.5, "SMA10 crossed above SMA50", confidence=0.8)
    restored = Action.from_json(json.loads(json.dumps(action.to_json())))
    assert restored == action
    assert restored.to_json() == {
        "kind": "BUY",
        "price": 101.5,
        "reason": "SMA10 crossed above SMA50",
        "confidence": 0.8,
    }
    assert Action.hold("waiting").to_json() == {"kind": "HOLD", "price": None, "reason": "waiting", "confidence": None}
    assert Action.sell(99, "x").signal == -1 and Action.buy(1).signal == 1 and Action.hold().signal == 0


def test_action_refuses_unknown_kinds_and_non_finite_prices():
    with pytest.raises(ValueError, match="BUY, SELL, HOLD"):
        Action("SHORT")
    with pytest.raises(ValueError, match="finite"):
        Action(BUY, price=float("nan"))
    with pytest.raises(ValueError, match="unknown Action fields: size"):
        Action.from_json({"kind": "BUY", "size": 3})
    with pytest.raises(ValueError, match="needs a 'kind'"):
        Action.from_json({"price": 3})
    # lower case from a JSON producer is accepted and normalized
    assert Action.from_json({"kind": "sell", "price": "12.5"}) == Action(SELL, 12.5)


# -- candles --------------------------------------------------------------------------------------


def test_candles_frame_sorts_deduplicates_and_round_trips():
    rows = [[3000, 1, 2, 0.5, 1.5, 10], [1000, 1, 1, 1, 1, 1], [3000, 1, 3, 0.5, 2.5, 20]]
    frame = candles_frame(rows)
    assert list(frame.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert frame["timestamp"].dtype == np.int64 and frame["close"].dtype == np.float64
    # sorted, and the later row for timestamp 3000 (the exchange's update of that candle) wins
    assert candles_to_rows(frame) == [[1000, 1.0, 1.0, 1.0, 1.0, 1.0], [3000, 1.0, 3.0, 0.5, 2.5, 20.0]]
    dicts = [{"timestamp": 5, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 0}]
    assert candles_to_rows(candles_frame(dicts)) == [[5, 1.0, 1.0, 1.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="row 1 must be"):
        candles_frame([[1, 2, 3]])


def test_timeframes_are_milliseconds():
    assert TIMEFRAMES["1m"] == 60_000 and TIMEFRAMES["1h"] == 3_600_000 and TIMEFRAMES["1d"] == 86_400_000
    assert list(TIMEFRAMES) == ["1m", "5m", "15m", "30m", "1h", "4h", "1d"]


def test_read_candles_csv_accepts_iso_dates_and_capitalized_headers():
    text = "Date,Open,High,Low,Close,Volume\n2024-01-01T01:00:00Z,2,3,1,2.5,7\n2024-01-01 00:00,1,2,0.5,1.5,3\n"
    frame = read_candles_csv(text)
    # sorted ascending; 2024-01-01T00:00Z is 1,704,067,200,000 ms
    assert frame["timestamp"].tolist() == [1_704_067_200_000, 1_704_070_800_000]
    assert frame["close"].tolist() == [1.5, 2.5]
    # volume may be left out; the file may be bytes with a BOM
    frame = read_candles_csv(
        b"\xef\xbb\xbftimestamp,open,high,low,close\n1704067200000,1,1,1,1\n1704070800000,2,2,2,2\n"
    )
    assert frame["volume"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,open,high,low\n1,1,1,1\n2,1,1,1\n", "missing column(s) close"),
        ("open,high,low,close,volume\n1,1,1,1,1\n", "missing column(s) timestamp"),
        (
            "timestamp,open,high,low,close\n1,1,1,1,1\n2,1,1,1,abc\n",
            "non-numeric value 'abc' in column 'close' at row 2",
        ),
        ("timestamp,open,high,low,close\n1,1,1,1,1\n2,1,,1,1\n", "empty value in column 'high' at row 2"),
        ("date,open,high,low,close\nyesterday,1,1,1,1\n2024-01-01,1,1,1,1\n", "unreadable date 'yesterday'"),
        ("timestamp,open,high,low,close\n1,1,1,1,1\n", "too few rows: 1 candle(s), at least 2"),
        ("timestamp,open,high,low,close\n1,1,1,-1,1\n2,1,1,1,1\n", "non-positive price or negative volume at row 1"),
        ("", "empty"),
    ],
)
def test_read_candles_csv_names_the_problem(text, message):
    with pytest.raises(ValueError) as excinfo:
        read_candles_csv(text)
    assert message in str(excinfo.value)


# -- CustomBot ------------------------------------------------------------------------------------


class FakeModel:
    def predict(self, X):
        return np.asarray(X).sum(axis=1)

    def predict_proba(self, X):
        s = np.asarray(X).sum(axis=1)
        return np.column_stack([1 - s / 10, s / 10])


class AlwaysBuy(CustomBot):
    name = "always buy"
    strategy_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "threshold": {"type": "number", "default": 0.5},
            "nested": {"type": "object", "properties": {"k": {"type": "integer", "default": 3}}},
        },
        "additionalProperties": False,
    }

    def analyze_market(self, candles):
        return Action.buy(float(candles["close"].iloc[-1]), "always")


def test_config_gets_schema_defaults_and_is_validated():
    assert AlwaysBuy().config == {"threshold": 0.5, "nested": {"k": 3}}
    assert AlwaysBuy({"threshold": 0.7}).config == {"threshold": 0.7, "nested": {"k": 3}}
    with pytest.raises(ValueError, match="threshold"):
        AlwaysBuy({"threshold": "high"})
    with pytest.raises(ValueError, match="Additional properties"):
        AlwaysBuy({"treshold": 1})
    with pytest.raises(ValueError, match="fast \\(50\\) must be shorter than slow \\(10\\)"):
        SmaCrossover({"fast": 50, "slow": 10})


def test_default_schemas_and_signals():
    bot = AlwaysBuy()
    assert bot.signals(random_candles(10)) is None  # not vectorizable unless it says so
    assert bot.execution_schema["properties"]["order_amount"]["default"] == "100"
    assert set(bot.risk_schema["properties"]) == {"stop_loss_pct", "take_profit_pct"}
    with pytest.raises(TypeError):
        CustomBot()  # analyze_market is abstract


def test_feature_key_identifies_class_and_config():
    key = SmaCrossover().feature_key()
    assert key == SmaCrossover({"fast": 10, "slow": 50}).feature_key() == SmaCrossover({"fast": 10.0}).feature_key()
    assert key != SmaCrossover({"fast": 5}).feature_key()
    assert key != MacdBot().feature_key()
    assert len({key, SmaCrossover().feature_key()}) == 1  # hashable


def test_models_are_used_by_name_and_a_missing_one_is_named():
    bot = AlwaysBuy()
    bot.load_models({"clf": FakeModel()})
    assert bot.predict_with_model("clf", [[1, 2], [3, 4]]).tolist() == [3, 7]
    assert bot.predict_with_model("clf", [1, 2, 3]).tolist() == [6]  # one row as 1-D
    assert bot.predict_with_model("clf", [[1, 1]], proba=True).tolist() == [[0.8, 0.2]]
    with pytest.raises(ModelNotLoaded, match="model 'regressor' is not loaded \\(loaded: clf\\)"):
        bot.predict_with_model("regressor", [[1]])
    with pytest.raises(TypeError, match="no predict"):
        bot.load_models({"bad": object()})


# -- features -------------------------------------------------------------------------------------


def test_sma_ema_rsi_by_hand():
    s = pd.Series([1.0, 2, 3, 4, 5])
    assert features.sma(s, 2).tolist()[1:] == [1.5, 2.5, 3.5, 4.5]
    # EMA3: alpha 0.5, seeded with mean(1, 2, 3) = 2 at row 2; then 0.5*4 + 0.5*2 = 3, 0.5*5 + 0.5*3 = 4
    assert features.ema(s, 3).tolist()[2:] == [2.0, 3.0, 4.0]
    # RSI2 on 1,2,3,2,3: changes +1 +1 -1 +1. Seed at row 2: gain (1+1)/2 = 1, loss 0 -> 100.
    # row 3: gain 0.5*0 + 0.5*1 = 0.5, loss 0.5*1 + 0.5*0 = 0.5 -> RS 1 -> 50.
    # row 4: gain 0.5*1 + 0.5*0.5 = 0.75, loss 0.5*0 + 0.5*0.5 = 0.25 -> RS 3 -> 100 - 100/4 = 75.
    assert features.rsi(pd.Series([1.0, 2, 3, 2, 3]), 2).tolist()[2:] == [100.0, 50.0, 75.0]
    assert features.rsi(pd.Series([5.0] * 5), 2).tolist()[2:] == [50.0, 50.0, 50.0]


def test_bollinger_macd_columns_and_causality():
    candles = random_candles(200)
    close = candles["close"]
    bands = features.bollinger(pd.Series([2.0, 4, 6]), 3, 1.0)
    # mean 4, population std sqrt(8/3) = 1.63299
    assert bands.iloc[-1]["mid"] == 4.0 and math.isclose(bands.iloc[-1]["upper"], 4 + math.sqrt(8 / 3))
    # causal: a prefix gives exactly the values of the full series on that prefix
    full_macd, part_macd = features.macd(close), features.macd(close.iloc[:120])
    pd.testing.assert_frame_equal(full_macd.iloc[:120], part_macd)
    pd.testing.assert_series_equal(features.rsi(close).iloc[:90], features.rsi(close.iloc[:90]))
    pd.testing.assert_series_equal(features.atr(candles).iloc[:90], features.atr(candles.iloc[:90]))


def test_feature_matrix_order_and_warmup():
    candles = random_candles(120)
    matrix = features.feature_matrix(candles, windows=(5, 10))
    assert list(matrix.columns) == [
        "ret_5", "sma_gap_5", "vol_5", "z_5", "ret_10", "sma_gap_10", "vol_10", "z_10",
        "rsi_14", "macd_hist", "bb_pos", "atr_pct", "volume_z",
    ]  # fmt: skip
    assert len(matrix) == len(candles)
    incomplete = matrix.isna().any(axis=1).to_numpy()
    warmup = features.feature_warmup((5, 10))
    assert warmup == 34
    # volume is constant in random_candles, so volume_z is NaN throughout: check the other columns
    incomplete = matrix.drop(columns="volume_z").isna().any(axis=1).to_numpy()
    assert incomplete[: warmup - 1].all() and not incomplete[warmup - 1 :].any()


# -- built-in bots on hand-made prices ----------------------------------------------------------------


def test_sma_crossover_signals_on_the_crossing_candles():
    # SMA2 vs SMA4. Rows 3-4: both 10 (equal, no cross). Row 5: SMA2 (10+12)/2 = 11 > SMA4 (10+10+10+12)/4 = 10.5
    # -> BUY. Rows 6-7: 13 > 11.5, 14 > 12.5. Row 8: SMA2 (14+10)/2 = 12 < SMA4 (12+14+14+10)/4 = 12.5 -> SELL.
    closes = [10, 10, 10, 10, 10, 12, 14, 14, 10, 6, 6]
    bot = SmaCrossover({"fast": 2, "slow": 4})
    assert bot.warmup == 5
    assert bot.signals(frame_of(closes)).tolist() == [0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0]
    action = bot.analyze_market(frame_of(closes[:6]))
    assert action == Action(BUY, 12.0, "SMA2 11.00 crossed above SMA4 10.50")
    assert bot.analyze_market(frame_of(closes[:9])).reason == "SMA2 12.00 crossed below SMA4 12.50"
    short = bot.analyze_market(frame_of(closes[:4]))
    assert short.kind == HOLD and short.reason.startswith("not enough candles")


def test_rsi_bot_buys_out_of_oversold_and_sells_out_of_overbought():
    # RSI2 (alpha 0.5) on 10 9 8 7 8 9 10 11 10 9: row 2 seed gain 0 loss 1 -> 0; row 3 -> 0;
    # row 4 gain .5 loss .5 -> 50 (up through 30: BUY); row 5 .75/.25 -> 75; row 6 -> 87.5; row 7 -> 93.75;
    # row 8 gain .46875 loss .53125 -> 46.875 (down through 70: SELL); row 9 -> 23.4375 (no signal).
    closes = [10, 9, 8, 7, 8, 9, 10, 11, 10, 9]
    bot = RsiBot({"period": 2})
    assert bot.signals(frame_of(closes)).tolist() == [0, 0, 0, 0, 1, 0, 0, 0, -1, 0]
    assert bot.analyze_market(frame_of(closes[:5])).reason == "RSI2 50.0 crossed up through 30 (oversold)"
    assert bot.analyze_market(frame_of(closes[:9])).reason == "RSI2 46.9 crossed down through 70 (overbought)"


def test_macd_bot_on_signal_line_crosses():
    # fast EMA1 = close; slow EMA2 (alpha 2/3) 10 10 14 11.33 6.44 4.81 8.27 from row 1;
    # MACD 0 0 2 -1.33 -2.44 -0.81 1.73; signal EMA2 of MACD from row 2: 0 1.33 -0.44 -1.78 -1.14 0.77;
    # MACD - signal: row 3 +0.67 (BUY), row 4 -0.89 (SELL), row 5 -0.67, row 6 +0.32 (BUY), row 7 +0.95.
    closes = [10, 10, 10, 16, 10, 4, 4, 10]
    bot = MacdBot({"fast": 1, "slow": 2, "signal": 2})
    assert bot.signals(frame_of(closes)).tolist() == [0, 0, 0, 1, -1, 0, 1, 0]
    assert bot.analyze_market(frame_of(closes[:4])).reason == "MACD 2.00 crossed above signal 1.33"


def test_bollinger_bot_rules():
    # window 3, 1 std. Row 3 window 10 10 7: mid 9, std 1.414; close 7 falls below the mid -> SELL.
    # Row 4 window 10 7 9: lower 8.667-1.247 = 7.42; close 9 back above the lower band -> BUY.
    # Row 5 window 7 9 10: upper 9.91; close 10 crosses above the upper band -> SELL.
    # Row 6 still above the upper band (no new cross). Row 7 window 10 13 11: mid 11.33, close 11 back below -> SELL.
    closes = [10, 10, 10, 7, 9, 10, 13, 11, 9]
    bot = BollingerBot({"window": 3, "num_std": 1.0})
    assert bot.signals(frame_of(closes)).tolist() == [0, 0, 0, -1, 1, -1, 0, -1, 0]
    assert bot.analyze_market(frame_of(closes[:5])).reason == "close 9.00 crossed back above the lower band 7.42"
    assert bot.analyze_market(frame_of(closes[:6])).reason == "close 10.00 crossed above the upper band 9.91"
    assert bot.analyze_market(frame_of(closes[:8])).reason == "close 11.00 fell back below the mid band 11.33"


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_vectorized_signals_equal_analyze_market_on_every_prefix(key):
    bot = builtin_bot(key)
    candles = random_candles(260)
    vectorized = bot.signals(candles)
    assert len(vectorized) == len(candles)
    answers = [bot.analyze_market(candles.iloc[: i + 1]) for i in range(len(candles))]
    assert [a.signal for a in answers] == vectorized.tolist()
    assert {1, -1} <= set(vectorized.tolist())  # the series does trade, so the comparison means something
    assert (vectorized.iloc[: bot.warmup - 1] == 0).all()
    last_close = float(candles["close"].iloc[-1])
    assert all(a.price == last_close for a in answers[-1:])
    assert all(a.reason for a in answers)


def test_builtin_registry():
    assert set(REGISTRY) == {"sma_crossover", "rsi", "macd", "bollinger"}
    assert builtin_bot("rsi", {"period": 7}).config == {"period": 7, "oversold": 30, "overbought": 70}
    with pytest.raises(ValueError, match="unknown built-in bot 'ema'; known: bollinger, macd, rsi, sma_crossover"):
        builtin_bot("ema", {})
