"""Train the ML example bot's model on the shipped sample candles and save it as skops.

    .venv/bin/python -m bots.examples_ml.train

Target: does the next candle close higher than this one. Features: `bots.sdk.features.feature_matrix`.
Model: Pipeline(StandardScaler, LogisticRegression), deterministic. The split is by time (the first
70 % trains, the last 30 % tests): shuffling candles would leak the future into training.

The sample is synthetic (regime-switching random walk), so there is little to predict: expect a test
accuracy close to the share of the majority class. The point is a working, honest pipeline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bots.data import sample_candles
from bots.examples_ml.bot import MODEL_FILE
from bots.safety.models import load_skops
from bots.sdk.features import feature_matrix

TRAIN_SHARE = 0.7


def dataset(candles: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Feature rows with a known next close; label 1 when the next close is higher."""
    matrix = feature_matrix(candles)
    next_close = candles["close"].shift(-1)
    label = (next_close > candles["close"]).astype("int64")
    usable = matrix.notna().all(axis=1) & next_close.notna()
    return matrix[usable], label[usable]


def train(*, output: Path = MODEL_FILE, timeframe: str = "1h") -> dict[str, float]:
    X, y = dataset(sample_candles(timeframe))
    cut = int(len(X) * TRAIN_SHARE)
    model = Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression(C=0.1, max_iter=1000))])
    model.fit(X.iloc[:cut], y.iloc[:cut])
    figures = {
        "train_rows": cut,
        "test_rows": len(X) - cut,
        "train_accuracy": float(model.score(X.iloc[:cut], y.iloc[:cut])),
        "test_accuracy": float(model.score(X.iloc[cut:], y.iloc[cut:])),
        # what always answering the test set's majority class would score
        "test_majority_baseline": float(max(y.iloc[cut:].mean(), 1 - y.iloc[cut:].mean())),
    }
    data = sio.dumps(model)
    load_skops(data)  # the saved file must pass the same trusted-types loader as an upload
    output.write_bytes(data)
    figures["bytes"] = len(data)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    figures = train(output=args.output)
    print(f"trained on {figures['train_rows']} candles, tested on the next {figures['test_rows']} (time-ordered split)")
    print(f"train accuracy {figures['train_accuracy']:.4f}")
    baseline = figures["test_majority_baseline"]
    print(f"test accuracy  {figures['test_accuracy']:.4f} (majority-class baseline {baseline:.4f})")
    print(f"saved {args.output} ({figures['bytes']} bytes)")


if __name__ == "__main__":
    main()
