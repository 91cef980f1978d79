"""An exchange's own request limit: more than N requests in any 1 s window are refused with
the protocol's 429 (and Retry-After), as a real exchange would. Arrival times are kept
while a limit is set, so a benchmark can find the busiest 1 s window afterwards."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict, deque


class RateLimits:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_second: dict[str, int] = {}
        self._recent: dict[str, deque] = defaultdict(deque)
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.rejected: Counter[str] = Counter()

    def set(self, protocol: str, per_second: int | None) -> None:
        with self._lock:
            if per_second:
                self._per_second[protocol] = per_second
            else:
                self._per_second.pop(protocol, None)

    def admit(self, protocol: str) -> bool:
        """Record one request; False when it is over the protocol's limit."""
        with self._lock:
            limit = self._per_second.get(protocol)
            if limit is None:
                return True
            now = time.monotonic()
            self.arrivals[protocol].append(now)
            recent = self._recent[protocol]
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= limit:
                self.rejected[protocol] += 1
                return False
            recent.append(now)
            return True

    def busiest_second(self, protocol: str) -> int:
        """The most requests that arrived in any 1 s window (accepted or not)."""
        with self._lock:
            times = sorted(self.arrivals[protocol])
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def reset(self) -> None:
        with self._lock:
            self._per_second.clear()
            self._recent.clear()
            self.arrivals.clear()
            self.rejected.clear()
