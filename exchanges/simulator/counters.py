"""Counts of the requests the simulator served, per protocol, method and path.

Tests assert behaviour a user would notice, and "how many requests reached the exchange"
is one: a retry policy, a cache or a batch call shows up here.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def record(self, protocol: str, method: str, path: str) -> None:
        with self._lock:
            self._counts[(protocol, method.upper(), path)] += 1

    def count(self, protocol: str | None = None, path: str | None = None, method: str | None = None) -> int:
        """Requests matching every filter given; ``path`` may be a glob ("/api/v3/order*")."""
        with self._lock:
            return sum(
                number
                for (proto, meth, p), number in self._counts.items()
                if (protocol is None or proto == protocol)
                and (method is None or meth == method.upper())
                and (path is None or p == path or fnmatch.fnmatchcase(p, path))
            )

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [
                {"protocol": proto, "method": meth, "path": p, "count": number}
                for (proto, meth, p), number in sorted(self._counts.items())
            ]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
