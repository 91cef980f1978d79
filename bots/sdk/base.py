"""`CustomBot`: the class every marketplace bot subclasses.

A bot looks at a candle frame (see `bots.sdk.candles`) and answers an `Action`. Two ways to answer:

* `analyze_market(candles)` (required): the answer for the LAST candle of the frame it is given.
* `signals(candles)` (optional, the vectorized path): the answers for every row at once, +1 BUY,
  -1 SELL, 0 HOLD, where row i is exactly what `analyze_market(candles.iloc[:i + 1])` answers.
  Backtests over a year of minute candles rely on it; bots that cannot vectorize return None and are
  run candle by candle.

Nothing here imports Django: the same class runs in a worker and in the sandboxed subprocess that
executes uploaded code.
"""

from __future__ import annotations

import abc
import copy
import json
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .actions import Action

BOT_TYPES = ("TECHNICAL", "ML", "DL", "LLM")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# A bot that declares no strategy schema accepts any object (it cannot say what it reads).
DEFAULT_STRATEGY_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "type": "object",
    "properties": {},
    "additionalProperties": True,
}

# How much a subscription spends per BUY and whether the platform may use limit orders.
DEFAULT_EXECUTION_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "type": "object",
    "properties": {
        "order_amount": {
            "description": "quote currency spent per BUY (e.g. USDT), a decimal string or a number",
            "type": ["string", "number"],
            "pattern": r"^\d+(\.\d+)?$",
            "exclusiveMinimum": 0,
            "default": "100",
        },
        "order_type": {"type": "string", "enum": ["market", "limit"], "default": "market"},
    },
    "required": ["order_amount"],
    "additionalProperties": False,
}

DEFAULT_RISK_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "type": "object",
    "properties": {
        "stop_loss_pct": {
            "description": "close a long position this many percent below its entry price",
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "maximum": 100,
        },
        "take_profit_pct": {
            "description": "close a long position this many percent above its entry price",
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
        },
    },
    "additionalProperties": False,
}


class ModelNotLoaded(LookupError):
    """`predict_with_model` was asked for a model name that `load_models` never received."""


def schema_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """The defaults an object schema declares, nested objects included (JSON-safe deep copies)."""
    defaults: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if "default" in prop:
            defaults[key] = copy.deepcopy(prop["default"])
        elif prop.get("type") == "object" and prop.get("properties"):
            nested = schema_defaults(prop)
            if nested:
                defaults[key] = nested
    return defaults


def merge_defaults(schema: dict[str, Any], config: dict[str, Any] | None) -> dict[str, Any]:
    """`config` over the schema's defaults; nested objects are merged key by key."""
    merged = schema_defaults(schema)
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            prop = (schema.get("properties") or {}).get(key) or {}
            merged[key] = merge_defaults(prop, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_config(schema: dict[str, Any], config: dict[str, Any], *, what: str = "config") -> None:
    """Raise ValueError naming the first problem of `config` against a draft 2020-12 schema."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:  # pragma: no cover - jsonschema is a project dependency; a bare sandbox may lack it
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ValueError(f"invalid {what} at {where}: {error.message}")


def _canonical(value: Any) -> Any:
    # 10 and 10.0 configure the same bot: make them one key
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


class CustomBot(abc.ABC):
    """Subclass, set the class attributes, implement `analyze_market` (and `signals` if you can)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    bot_type: ClassVar[str] = "TECHNICAL"
    #: candles needed before a signal is possible; with fewer the bot answers HOLD.
    #: A subclass whose need depends on its config sets `self.warmup` in `__init__`.
    warmup: int = 1
    #: candles of history `analyze_market` must see so that its answer no longer depends on older
    #: candles (EMA-type indicators remember their seed for a long time). None means `warmup`.
    #: The candle-by-candle backtest hands the bot windows at least this long.
    lookback: int | None = None

    strategy_schema: ClassVar[dict[str, Any]] = DEFAULT_STRATEGY_SCHEMA
    execution_schema: ClassVar[dict[str, Any]] = DEFAULT_EXECUTION_SCHEMA
    risk_schema: ClassVar[dict[str, Any]] = DEFAULT_RISK_SCHEMA

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        if config is not None and not isinstance(config, dict):
            raise ValueError(f"a bot config must be a JSON object, got {type(config).__name__}")
        self.config: dict[str, Any] = merge_defaults(self.strategy_schema, config)
        validate_config(self.strategy_schema, self.config, what=f"{type(self).__name__} strategy config")
        self.check_config(self.config)
        self.models: dict[str, Any] = {}

    def check_config(self, config: dict[str, Any]) -> None:
        """Rules a JSON Schema cannot say (e.g. fast < slow); raise ValueError. Override as needed."""
        return None

    # -- models ---------------------------------------------------------------------------------

    def load_models(self, models: dict[str, object]) -> None:
        """Receive the loaded model objects by name (the platform loads skops/ONNX files safely)."""
        for model_name, model in models.items():
            if not callable(getattr(model, "predict", None)):
                raise TypeError(f"model {model_name!r} has no predict() method")
        self.models.update(models)

    def predict_with_model(self, name: str, features: Any, *, proba: bool = False) -> np.ndarray:
        """Run a loaded model on `features` (a DataFrame, 2-D array, or one row as a 1-D array).

        With `proba=True` answers `predict_proba(X)` (class probabilities) instead of `predict(X)`.
        """
        try:
            model = self.models[name]
        except KeyError:
            loaded = ", ".join(sorted(self.models)) or "none"
            raise ModelNotLoaded(f"model {name!r} is not loaded (loaded: {loaded})") from None
        if isinstance(features, pd.Series):
            features = features.to_frame().T
        elif not isinstance(features, pd.DataFrame):
            features = np.asarray(features)
            if features.ndim == 1:
                features = features.reshape(1, -1)
        if proba:
            method = getattr(model, "predict_proba", None)
            if not callable(method):
                raise TypeError(f"model {name!r} has no predict_proba() method")
            return np.asarray(method(features))
        return np.asarray(model.predict(features))

    # -- signals --------------------------------------------------------------------------------

    @abc.abstractmethod
    def analyze_market(self, candles: pd.DataFrame) -> Action:
        """The action for the last candle of `candles` (oldest first)."""

    def signals(self, candles: pd.DataFrame) -> pd.Series | None:
        """Per row +1 BUY, -1 SELL, 0 HOLD (int8, the frame's index); None when not vectorizable."""
        return None

    def required_history(self) -> int:
        """Candles `analyze_market` should be given: max(warmup, lookback), at least 1."""
        return max(int(self.warmup), int(self.lookback or 0), 1)

    def feature_key(self) -> tuple:
        """Hashable identity of what this bot computes: two bots with equal keys give equal signals
        on equal candles, so a caller can compute once for many subscriptions."""
        cls = type(self)
        config = json.dumps(_canonical(self.config), sort_keys=True, separators=(",", ":"), default=str)
        return (f"{cls.__module__}.{cls.__qualname__}", config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config}>"
