"""Synthetic price history: candles that end at the current price.

Bots and charts need OHLCV, and tests need it to be the same on every call. The curve
is a closed-form function of time (a few slow waves plus per-bucket noise from a hash),
scaled so that the candle in which the price was last set closes at that price; since
then the market has been flat. So the history changes only when the price does, and any
window is computed without walking the history: `since` a year ago costs no more than
the last hour.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

from exchanges.simulator.markets import floor_to

MINUTE_MS = 60_000

# (period in ms, amplitude in log-price): a day cycle, a six-hour cycle and a weekly drift.
_WAVES = ((86_400_000, 0.012, 0.0), (21_600_000, 0.006, 1.3), (604_800_000, 0.03, 2.1))
_NOISE = 0.0015  # per-candle jitter, in log-price, scaled by sqrt(minutes)


@dataclass(frozen=True)
class Candle:
    open_time: int  # ms
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base
    quote_volume: Decimal


def _unit(key: str, bucket: int, salt: str) -> float:
    """A stable pseudo-random number in [-1, 1) for one candle."""
    digest = hashlib.blake2b(f"{key}|{bucket}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def _curve(key: str, t_ms: int, interval_ms: int) -> float:
    waves = sum(amp * math.sin(2 * math.pi * t_ms / period + phase) for period, amp, phase in _WAVES)
    scale = math.sqrt(max(interval_ms / MINUTE_MS, 1.0))
    return waves + _NOISE * scale * _unit(key, t_ms // interval_ms, "close")  # t_ms is a candle boundary


def candles(
    *,
    key: str,
    price: Decimal,
    tick: Decimal,
    interval_ms: int,
    now_ms: int,
    anchor_ms: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = 500,
    base_volume_per_minute: Decimal = Decimal("2"),
) -> list[Candle]:
    """Candles of ``interval_ms`` in [start, end], oldest first, at most ``limit``.

    ``anchor_ms``: when the price was last set (default: now). Without ``start_ms``: the
    newest ``limit`` candles up to ``end_ms`` (default: now).
    """
    current = (now_ms // interval_ms) * interval_ms
    last = min(current, (end_ms // interval_ms) * interval_ms) if end_ms is not None else current
    if start_ms is not None:
        first = -(-start_ms // interval_ms) * interval_ms  # the first candle opening at or after start
        last = min(last, first + (limit - 1) * interval_ms)
    else:
        first = last - (limit - 1) * interval_ms
    if last < first:
        return []
    anchor_end = ((anchor_ms if anchor_ms is not None else now_ms) // interval_ms + 1) * interval_ms
    anchor = _curve(key, anchor_end, interval_ms)
    pf = float(price)

    def close_at(open_time: int) -> float:
        if open_time + interval_ms >= anchor_end:
            return pf  # the candle where the price was set, and the flat market since
        return pf * math.exp(_curve(key, open_time + interval_ms, interval_ms) - anchor)

    minutes = Decimal(interval_ms) / MINUTE_MS
    result = []
    for open_time in range(first, last + 1, interval_ms):
        o, c = close_at(open_time - interval_ms), close_at(open_time)
        wick = 1 + abs(_unit(key, open_time // interval_ms, "wick")) * _NOISE * math.sqrt(float(minutes))
        high, low = max(o, c) * wick, min(o, c) / wick
        volume = base_volume_per_minute * minutes * Decimal(str(round(1.0 + _unit(key, open_time, "vol") / 2, 4)))
        op, hi, lo, cl = (_price(x, tick) for x in (o, high, low, c))
        result.append(Candle(open_time, op, max(hi, op, cl), min(lo, op, cl), cl, volume, (volume * cl).quantize(tick)))
    return result


def _price(value: float, tick: Decimal) -> Decimal:
    return max(floor_to(Decimal(repr(value)), tick), tick)


def day_stats(*, key: str, price: Decimal, tick: Decimal, now_ms: int, anchor_ms: int) -> dict[str, Decimal]:
    """24 h open/high/low/volume from the hourly candles, for tickers."""
    hourly = candles(
        key=key, price=price, tick=tick, interval_ms=3_600_000, now_ms=now_ms, anchor_ms=anchor_ms, limit=24
    )
    return {
        "open": hourly[0].open,
        "high": max(max(c.high for c in hourly), price),
        "low": min(min(c.low for c in hourly), price),
        "volume": sum((c.volume for c in hourly), Decimal(0)),
        "quote_volume": sum((c.quote_volume for c in hourly), Decimal(0)),
    }


INTERVALS_MS = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
    "1M": 2_592_000_000,  # a month as 30 days: the simulator does not need calendar months
}
