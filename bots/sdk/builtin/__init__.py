"""The built-in bots by key: what the catalog seeds and `builtin_bot()` instantiates."""

from __future__ import annotations

from typing import Any

from ..base import CustomBot
from .technical import BollingerBot, MacdBot, RsiBot, SmaCrossover

REGISTRY: dict[str, type[CustomBot]] = {
    SmaCrossover.key: SmaCrossover,
    RsiBot.key: RsiBot,
    MacdBot.key: MacdBot,
    BollingerBot.key: BollingerBot,
}


def builtin_bot(key: str, config: dict[str, Any] | None = None) -> CustomBot:
    """An instance of the built-in bot `key` with `config` over its schema defaults."""
    try:
        cls = REGISTRY[key]
    except KeyError:
        raise ValueError(f"unknown built-in bot {key!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return cls(config)


__all__ = ["REGISTRY", "BollingerBot", "MacdBot", "RsiBot", "SmaCrossover", "builtin_bot"]
