"""Scripted faults: what a real exchange does to a client on a bad day.

A fault targets a protocol and/or a path (exact, or a glob such as ``/api/v3/*``) and/or a
method, and applies to the next ``times`` matching requests, or until cleared when
``times`` is None; with ``probability`` below 1 each matching request is hit only by that
chance (e.g. 0.2: a fifth of the requests, at random). Three kinds act only on order placement and are used up only by a
request that really creates an order:

- ``timeout_after_accept``: the order is created, the answer comes ``delay`` seconds later
  (past the client's timeout);
- ``drop_after_accept``: the order is created, the connection is closed without an answer;
- ``late_visibility``: the order is created and answered, but queries do not show it for
  ``delay`` seconds (a lagging read replica).
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from exchanges.simulator.markets import PROTOCOLS


class FaultKind(StrEnum):
    LATENCY = "latency"  # ``delay`` seconds before the request is handled
    HTTP_ERROR = "http_error"  # ``status`` (default 503) with a gateway's HTML page
    RATE_LIMIT = "rate_limit"  # ``status`` 429 (or 418), ``Retry-After: retry_after``, the exchange's body
    MAINTENANCE = "maintenance"  # the exchange's own "under maintenance" answer
    CLOCK_SKEW = "clock_skew"  # the server's clock is ``skew`` seconds ahead (negative: behind)
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    DROP_AFTER_ACCEPT = "drop_after_accept"
    LATE_VISIBILITY = "late_visibility"


RESPONSE_KINDS = (FaultKind.HTTP_ERROR, FaultKind.RATE_LIMIT, FaultKind.MAINTENANCE)
ORDER_KINDS = (FaultKind.TIMEOUT_AFTER_ACCEPT, FaultKind.DROP_AFTER_ACCEPT, FaultKind.LATE_VISIBILITY)

_ids = itertools.count(1)


@dataclass(eq=False)  # two faults with the same settings are still two faults
class Fault:
    kind: FaultKind
    protocol: str | None = None  # binance / okx / robinhood; None: all
    path: str | None = None  # "/api/v3/order" or a glob "/api/v5/trade/*"; None: all
    method: str | None = None  # GET / POST / DELETE; None: all
    times: int | None = None  # how many matching requests; None: until cleared
    status: int | None = None
    delay: float = 0.0  # seconds
    retry_after: float | None = None  # seconds, sent as Retry-After
    skew: float = 0.0  # seconds
    probability: float = 1.0  # the chance a matching request is hit
    id: str = field(default_factory=lambda: f"f{next(_ids)}")
    applied: int = 0

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if self.protocol is not None and self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}")
        if self.method:
            self.method = self.method.upper()
        if not 0 < self.probability <= 1:
            raise ValueError("probability must be above 0 and at most 1")

    def matches(self, protocol: str, method: str, path: str) -> bool:
        if self.protocol and self.protocol != protocol:
            return False
        if self.method and self.method != method.upper():
            return False
        if self.path and not (self.path == path or fnmatch.fnmatchcase(path, self.path)):
            return False
        return self.times is None or self.applied < self.times

    def as_dict(self) -> dict:
        return asdict(self) | {"kind": str(self.kind)}


@dataclass
class Plan:
    """What the faults do to one request."""

    delay: float = 0.0
    response: Fault | None = None  # answer with this instead of handling the request
    skew_ms: int = 0
    order_faults: list[Fault] = field(default_factory=list)  # candidates, used up only if an order is created


class FaultSet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault | None = None, /, **spec) -> Fault:
        """``faults.add(kind="rate_limit", protocol="binance", times=2, retry_after=1)``."""
        fault = fault or Fault(**spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [fault for fault in self._faults if fault.id != fault_id]
            return len(self._faults) < before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [fault for fault in self._faults if fault.times is None or fault.applied < fault.times]

    def plan(self, protocol: str, method: str, path: str) -> Plan:
        """Use up the faults that act on this request before it is handled."""
        plan = Plan()
        with self._lock:
            for fault in self._faults:
                if not fault.matches(protocol, method, path):
                    continue
                if fault.probability < 1 and random.random() >= fault.probability:
                    continue
                if fault.kind in ORDER_KINDS:
                    plan.order_faults.append(fault)
                    continue
                if fault.kind in RESPONSE_KINDS:
                    if plan.response is not None:
                        continue  # one answer per request: the first matching fault gives it
                    plan.response = fault
                elif fault.kind == FaultKind.LATENCY:
                    plan.delay += fault.delay
                elif fault.kind == FaultKind.CLOCK_SKEW:
                    plan.skew_ms += int(fault.skew * 1000)
                fault.applied += 1
            self._prune()
        return plan

    def claim(self, candidates: list[Fault]) -> list[Fault]:
        """The order faults that act on an order just created; each use counts."""
        claimed = []
        with self._lock:
            for fault in candidates:
                if fault in self._faults and (fault.times is None or fault.applied < fault.times):
                    fault.applied += 1
                    claimed.append(fault)
            self._prune()
        return claimed

    def _prune(self) -> None:
        self._faults = [fault for fault in self._faults if fault.times is None or fault.applied < fault.times]
