"""The ML example bot: a scikit-learn model trained on the shipped sample candles, saved as skops.

`MlExampleBot` predicts from `bots.sdk.features.feature_matrix` whether the next candle closes
higher; `python -m bots.examples_ml.train` retrains `ml_example.skops`. Everything runs offline.
"""

from .bot import MODEL_FILE, MODEL_NAME, MlExampleBot, ml_example_model, ml_example_model_bytes

__all__ = ["MODEL_FILE", "MODEL_NAME", "MlExampleBot", "ml_example_model", "ml_example_model_bytes"]
