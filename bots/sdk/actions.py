"""What a bot answers for one look at the market: BUY, SELL or HOLD, with the price it saw and why.

An Action crosses a process boundary (the sandbox speaks JSON), so it turns into and back from a
plain JSON-safe dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BUY = "BUY"
SELL = "SELL"
HOLD = "HOLD"
KINDS = (BUY, SELL, HOLD)

# The vectorized signal encoding (bots' `signals()`), one place for both directions.
SIGNAL_OF_KIND = {BUY: 1, SELL: -1, HOLD: 0}
KIND_OF_SIGNAL = {1: BUY, -1: SELL, 0: HOLD}


def _optional_float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"Action {field} must be a number, not a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Action {field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        # NaN/inf are not valid JSON and would poison an order.
        raise ValueError(f"Action {field} must be finite, got {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    price: float | None = None
    reason: str = ""
    confidence: float | None = None

    def __post_init__(self) -> None:
        kind = self.kind.upper() if isinstance(self.kind, str) else self.kind
        if kind not in KINDS:
            raise ValueError(f"Action kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        # frozen: assign the normalized values through object.__setattr__
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "price", _optional_float(self.price, "price"))
        object.__setattr__(self, "confidence", _optional_float(self.confidence, "confidence"))
        if not isinstance(self.reason, str):
            object.__setattr__(self, "reason", str(self.reason))

    @classmethod
    def buy(cls, price: float | None = None, reason: str = "", confidence: float | None = None) -> Action:
        return cls(BUY, price, reason, confidence)

    @classmethod
    def sell(cls, price: float | None = None, reason: str = "", confidence: float | None = None) -> Action:
        return cls(SELL, price, reason, confidence)

    @classmethod
    def hold(cls, reason: str = "", price: float | None = None) -> Action:
        return cls(HOLD, price, reason)

    @property
    def signal(self) -> int:
        """+1 BUY, -1 SELL, 0 HOLD: the encoding of `CustomBot.signals()`."""
        return SIGNAL_OF_KIND[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "price": self.price, "reason": self.reason, "confidence": self.confidence}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Action:
        if not isinstance(data, dict):
            raise ValueError(f"an Action must be a JSON object, got {type(data).__name__}")
        if "kind" not in data:
            raise ValueError("an Action needs a 'kind' (BUY, SELL or HOLD)")
        unknown = set(data) - {"kind", "price", "reason", "confidence"}
        if unknown:
            raise ValueError(f"unknown Action fields: {', '.join(sorted(unknown))}")
        return cls(
            kind=data["kind"],
            price=data.get("price"),
            reason=data.get("reason") or "",
            confidence=data.get("confidence"),
        )
