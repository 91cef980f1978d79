"""The bot SDK: what a bot author imports. Pure Python + pandas/numpy, no Django.

from bots.sdk import CustomBot, Action, features

class MyBot(CustomBot):
    name = "My bot"
    warmup = 30

    def analyze_market(self, candles):
        ...
        return Action.buy(price=float(candles["close"].iloc[-1]), reason="...")
"""

from . import features
from .actions import BUY, HOLD, KINDS, SELL, Action
from .base import (
    BOT_TYPES,
    DEFAULT_EXECUTION_SCHEMA,
    DEFAULT_RISK_SCHEMA,
    DEFAULT_STRATEGY_SCHEMA,
    CustomBot,
    ModelNotLoaded,
    merge_defaults,
    schema_defaults,
    validate_config,
)
from .builtin import REGISTRY, builtin_bot
from .candles import COLUMNS, TIMEFRAMES, candles_frame, candles_to_rows, read_candles_csv, resample_candles
from .features import atr, bollinger, ema, feature_matrix, log_returns, macd, returns, rsi, sma, volatility, zscore

__all__ = [
    "BOT_TYPES",
    "BUY",
    "COLUMNS",
    "DEFAULT_EXECUTION_SCHEMA",
    "DEFAULT_RISK_SCHEMA",
    "DEFAULT_STRATEGY_SCHEMA",
    "HOLD",
    "KINDS",
    "REGISTRY",
    "SELL",
    "TIMEFRAMES",
    "Action",
    "CustomBot",
    "ModelNotLoaded",
    "atr",
    "bollinger",
    "builtin_bot",
    "candles_frame",
    "candles_to_rows",
    "ema",
    "feature_matrix",
    "features",
    "log_returns",
    "macd",
    "merge_defaults",
    "read_candles_csv",
    "resample_candles",
    "returns",
    "rsi",
    "schema_defaults",
    "sma",
    "validate_config",
    "volatility",
    "zscore",
]
