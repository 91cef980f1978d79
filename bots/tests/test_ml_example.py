"""The ML example bot: its shipped skops model, its signals, the training script, and the same bot
uploaded as code with its model and run in the sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from bots.data import sample_candles
from bots.examples_ml import MODEL_NAME, MlExampleBot, ml_example_model, ml_example_model_bytes
from bots.examples_ml.train import dataset, train
from bots.safety.formats import inspect_upload
from bots.safety.models import TRUSTED_SKOPS_TYPES, load_skops, skops_types
from bots.safety.sandbox import test_bot_code
from bots.sdk import Action, features
from bots.sdk.candles import candles_to_rows


@pytest.fixture(scope="module")
def candles():
    return sample_candles("1h")


@pytest.fixture(scope="module")
def signals(candles):
    return MlExampleBot().signals(candles)


def test_the_shipped_model_passes_the_upload_checks():
    data = ml_example_model_bytes()
    assert set(skops_types(data)) <= set(TRUSTED_SKOPS_TYPES)
    verdict = inspect_upload(
        file_type="MODEL", framework="sklearn", filename="ml_example.skops", data=data, max_bytes=1_000_000
    )
    assert verdict.ok, verdict.message
    assert verdict.details["estimator"] == "Pipeline"
    assert verdict.details["n_features"] == features.feature_matrix(sample_candles("1h").head(5)).shape[1]
    assert list(ml_example_model().classes_) == [0, 1]


def test_warmup_and_holding_before_it(candles):
    bot = MlExampleBot()
    assert bot.warmup == features.feature_warmup()
    assert bot.required_history() >= bot.warmup
    action = bot.analyze_market(candles.head(bot.warmup - 1))
    assert action.kind == "HOLD" and "not enough candles" in action.reason


def test_analyze_market_answers_with_the_probability(candles):
    action = MlExampleBot().analyze_market(candles)
    assert isinstance(action, Action)
    assert action.price == float(candles["close"].iloc[-1])
    assert "P(next close higher)" in action.reason
    assert 0.0 <= action.confidence <= 1.0


def test_default_thresholds_trade_both_ways_on_the_sample(signals):
    counts = signals.value_counts().to_dict()
    assert counts.get(1, 0) > 10 and counts.get(-1, 0) > 10
    assert signals.dtype == np.int8
    assert (signals.iloc[: features.feature_warmup() - 1] == 0).all()


def test_signals_agree_with_analyze_market_candle_by_candle(candles, signals):
    bot = MlExampleBot()
    trades = np.flatnonzero(signals.to_numpy() != 0)
    rows = sorted({*trades[:25].tolist(), *trades[-25:].tolist(), *range(30, len(candles), 401)})
    for i in rows:
        assert bot.analyze_market(candles.iloc[: i + 1]).signal == signals.iloc[i], i


def test_thresholds_come_from_the_config(candles):
    window = candles.tail(800)
    always_buy = MlExampleBot({"buy_threshold": 0.0, "sell_threshold": 0.0}).signals(window)
    assert (always_buy.iloc[MlExampleBot().warmup :] == 1).all()
    always_sell = MlExampleBot({"buy_threshold": 1.0, "sell_threshold": 1.0}).signals(window)
    assert (always_sell.iloc[MlExampleBot().warmup :] == -1).all()
    with pytest.raises(ValueError, match="sell_threshold"):
        MlExampleBot({"buy_threshold": 0.4, "sell_threshold": 0.6})
    with pytest.raises(ValueError):
        MlExampleBot({"buy_threshold": 2})


def test_a_model_given_by_the_platform_replaces_the_shipped_one(candles):
    class Constant:
        def predict(self, X):
            return np.zeros(len(X))

        def predict_proba(self, X):
            return np.tile([0.1, 0.9], (len(X), 1))

    bot = MlExampleBot()
    bot.load_models({MODEL_NAME: Constant()})
    assert bot.analyze_market(candles).kind == "BUY"


def test_the_training_script_writes_a_loadable_model(tmp_path, candles):
    output = tmp_path / "model.skops"
    figures = train(output=output)
    assert figures["train_rows"] > 2 * figures["test_rows"]
    assert 0.3 < figures["test_accuracy"] < 0.7  # honest figures on synthetic data: about a coin flip
    model = load_skops(output.read_bytes())
    X, _ = dataset(candles)
    np.testing.assert_allclose(model.predict_proba(X.tail(50)), ml_example_model().predict_proba(X.tail(50)))


UPLOADED_ML_BOT = '''
import math

from bots.sdk import Action, CustomBot, features


class UploadedMl(CustomBot):
    """The example bot as an author would upload it: code plus a skops MODEL file."""

    bot_type = "ML"

    def __init__(self, config=None):
        super().__init__(config)
        self.warmup = features.feature_warmup()

    def analyze_market(self, candles):
        row = features.feature_matrix(candles).iloc[[-1]]
        p = float(self.predict_with_model("model", row, proba=True)[0][1])
        price = float(candles["close"].iloc[-1])
        if p > 0.55:
            return Action.buy(price, f"p={p:.6f}", confidence=p)
        if p < 0.45:
            return Action.sell(price, f"p={p:.6f}", confidence=1 - p)
        return Action("HOLD", price, f"p={p:.6f}", confidence=p)
'''


def test_the_bot_uploaded_as_code_runs_in_the_sandbox_with_its_skops_model(candles):
    result = test_bot_code(code=UPLOADED_ML_BOT, model_files={MODEL_NAME: ml_example_model_bytes()}, config={})

    assert result.ok, (result.error, result.stderr_tail)
    # the same 300 candles in this process give the same probability
    window = candles.tail(300).reset_index(drop=True)
    expected = MlExampleBot().probabilities(window).iloc[-1]
    assert result.action["reason"] == f"p={expected:.6f}"
    expected_kind = "BUY" if expected > 0.55 else "SELL" if expected < 0.45 else "HOLD"
    assert result.action["kind"] == expected_kind
    assert result.action["price"] == candles_to_rows(candles.tail(1))[0][4]
