"""`MlExampleBot`: BUY when a logistic regression gives the next candle's close a high chance to be
higher, SELL when a low one, else HOLD.

The model (`ml_example.skops`, next to this file) is a scikit-learn Pipeline(StandardScaler,
LogisticRegression) trained by `bots/examples_ml/train.py` on the shipped synthetic hourly sample.
It is loaded with `bots.safety.models.load_skops`, the same trusted-types loader uploaded models go
through. A subscription may hand the bot another model under the name `MODEL_NAME` (`load_models`);
without one the bot uses the shipped model.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from bots.safety.models import load_skops
from bots.sdk import features
from bots.sdk.actions import Action
from bots.sdk.base import SCHEMA_DIALECT, CustomBot

MODEL_FILE = Path(__file__).with_name("ml_example.skops")
MODEL_NAME = "model"  # the name the catalog gives a MODEL upload by default
# An exponential average's seed must weigh less than this before a window of candles and the whole
# history give the same features (to ~1e-9, far below what moves a probability across a threshold).
_SEED_FORGOTTEN = 1e-9


def ml_example_model_bytes() -> bytes:
    """The shipped skops file (what the catalog stores as the bot's MODEL file)."""
    return MODEL_FILE.read_bytes()


@lru_cache(maxsize=1)
def ml_example_model() -> Any:
    """The shipped model, loaded once per process (10,000 subscriptions share one read-only model)."""
    return load_skops(ml_example_model_bytes())


def _memory(alpha: float) -> int:
    return math.ceil(math.log(_SEED_FORGOTTEN) / math.log(1.0 - alpha))


class MlExampleBot(CustomBot):
    """Logistic regression on scale-free candle features; probabilities against two thresholds."""

    key: ClassVar[str] = "ml_example"
    name = "ML example (logistic regression)"
    description = (
        "Predicts the probability that the next candle closes higher with a scikit-learn model trained on the "
        "platform's sample candles; buys above the buy threshold, sells below the sell threshold. An example of "
        "the SDK, not a strategy: the sample is synthetic, and the listing's figures on it include the candles the "
        "model was trained on (in-sample, so optimistic)."
    )
    bot_type = "ML"
    strategy_schema = {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "buy_threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.55,
                "description": "BUY when P(next close higher) is above this",
            },
            "sell_threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.45,
                "description": "SELL when P(next close higher) is below this",
            },
        },
        "additionalProperties": False,
    }

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.warmup = features.feature_warmup()
        # RSI/ATR (Wilder, alpha 1/14) and MACD (EMA 26, then its EMA 9) remember their seeds
        self.lookback = self.warmup + _memory(1.0 / 14) + _memory(2.0 / 27) + _memory(2.0 / 10)

    def check_config(self, config: dict[str, Any]) -> None:
        if config["sell_threshold"] > config["buy_threshold"]:
            raise ValueError(
                f"sell_threshold ({config['sell_threshold']}) must not exceed buy_threshold ({config['buy_threshold']})"
            )

    def _model(self) -> Any:
        return self.models[MODEL_NAME] if MODEL_NAME in self.models else ml_example_model()

    def probabilities(self, candles: pd.DataFrame) -> pd.Series:
        """P(next close > this close) per candle; NaN where the features are not ready yet."""
        matrix = features.feature_matrix(candles)
        ready = matrix.notna().all(axis=1).to_numpy(copy=True)
        ready[: max(self.warmup - 1, 0)] = False
        out = np.full(len(candles), np.nan)
        if ready.any():
            out[ready] = self._model().predict_proba(matrix[ready])[:, 1]
        return pd.Series(out, index=candles.index)

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        buy = proba > self.config["buy_threshold"]
        sell = proba < self.config["sell_threshold"]
        # NaN compares False both ways: HOLD until the features are ready
        return np.where(buy, 1, np.where(sell, -1, 0)).astype("int8")

    def signals(self, candles: pd.DataFrame) -> pd.Series:
        proba = self.probabilities(candles).to_numpy()
        return pd.Series(self._decide(proba), index=candles.index, dtype="int8")

    def analyze_market(self, candles: pd.DataFrame) -> Action:
        n = len(candles)
        price = float(candles["close"].iloc[-1]) if n else None
        if n < self.warmup:
            return Action.hold(f"not enough candles: {n} of {self.warmup}", price=price)
        # the features of the last candle need only its lookback window
        window = candles.iloc[-self.required_history() :]
        p = float(self.probabilities(window).iloc[-1])
        if math.isnan(p):
            return Action.hold("features not available for the last candle", price=price)
        reason = f"P(next close higher) = {p:.3f}"
        signal = int(self._decide(np.array([p]))[0])
        if signal > 0:
            return Action.buy(price, f"{reason} > {self.config['buy_threshold']}", confidence=p)
        if signal < 0:
            return Action.sell(price, f"{reason} < {self.config['sell_threshold']}", confidence=1.0 - p)
        return Action(
            "HOLD",
            price,
            f"{reason}, between {self.config['sell_threshold']} and {self.config['buy_threshold']}",
            confidence=p,
        )
