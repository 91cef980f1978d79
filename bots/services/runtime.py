"""Turning a catalog ``Bot`` into something that answers ``analyze_market``.

Built-in strategies are SDK classes and run in the worker. An author's uploaded CODE
never does: it runs in the sandbox (bots.safety.sandbox), a separate process without
network and with CPU, memory and wall-clock limits, JSON in and out. Model files are
loaded by the safe loaders only (skops with trusted types, ONNX); nothing is unpickled.
"""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
from django.conf import settings

from bots.models import Bot, FileType


class BotUnavailable(Exception):
    """The bot cannot run: a missing class, no code, a model that does not load. User-facing."""


@cache
def builtin_registry() -> dict[str, type]:
    from bots.examples_ml.bot import MlExampleBot
    from bots.sdk.builtin import REGISTRY

    return {**REGISTRY, "ml_example": MlExampleBot}


def _model_files(bot: Bot) -> list:
    # .all() so that a prefetch (bot__files) serves every subscription of a group
    return [f for f in bot.files.all() if f.file_type in (FileType.MODEL, FileType.WEIGHTS)]


def _models_for(bot: Bot) -> dict[str, object]:
    from bots.safety.models import ModelLoadError, UnsafeModel, load_model

    loaded = {}
    for file in _model_files(bot):
        try:
            loaded[file.name] = load_model(framework=file.framework, data=file.read())
        except (UnsafeModel, ModelLoadError) as exc:
            raise BotUnavailable(f"Model file {file.name!r} does not load: {exc}") from None
    return loaded


class SandboxedBot:
    """An uploaded CODE bot seen through the sandbox: the same face as a CustomBot."""

    def __init__(self, *, bot: Bot, config: dict, code: str, model_files: dict[str, bytes]):
        self.bot_id = bot.pk
        self.version = bot.version
        self.config = config
        self.code = code
        self.model_files = model_files
        self.warmup = int(config.get("warmup") or settings.BOTS_SANDBOX_WINDOW)
        self.lookback = self.warmup

    def required_history(self) -> int:
        return self.warmup

    def feature_key(self) -> tuple:
        return ("sandbox", self.bot_id, self.version, json.dumps(self.config, sort_keys=True, default=str))

    def signals(self, candles: pd.DataFrame):
        return None

    def analyze_market(self, candles: pd.DataFrame):
        from bots.safety.sandbox import Limits, run_sandboxed
        from bots.sdk import Action
        from bots.sdk.candles import candles_to_rows

        window = candles.tail(max(self.warmup, 1))
        result = run_sandboxed(
            code=self.code, candles=candles_to_rows(window), config=self.config, model_files=self.model_files,
            limits=Limits(**settings.BOTS_SANDBOX_LIMITS),
        )  # fmt: skip
        if not result.ok:
            raise BotUnavailable(result.error or f"the bot's process was killed ({result.killed})")
        return Action.from_json(result.action)


def bot_load(*, bot: Bot, strategy_config: dict):
    """A ready-to-run bot: a CustomBot for built-ins, a SandboxedBot for uploaded code."""
    if bot.builtin:
        cls = builtin_registry().get(bot.builtin)
        if cls is None:
            raise BotUnavailable(f"This platform has no built-in strategy {bot.builtin!r}.")
        instance = cls(strategy_config)
        models = _models_for(bot)
        if models:
            instance.load_models(models)
        return instance
    code_files = sorted((f for f in bot.files.all() if f.file_type == FileType.CODE), key=lambda f: f.created_at)
    if not code_files:
        raise BotUnavailable("Upload the bot's CODE file first (a Python file with one CustomBot subclass).")
    code_file = code_files[-1]
    model_files = {f.name: f.read() for f in _model_files(bot)}
    return SandboxedBot(bot=bot, config=strategy_config, code=code_file.read().decode(), model_files=model_files)


def feature_key(instance) -> tuple:
    try:
        return instance.feature_key()
    except Exception:  # a bot without a usable key shares nothing
        return ("instance", id(instance))
