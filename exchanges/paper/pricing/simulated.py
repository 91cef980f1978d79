"""A seeded price process per asset, advanced by the wall clock, computed from scratch.

The log price is a geometric Brownian motion at 1-second steps, held near a realistic
anchor (BTC ~ 60 000 USD) over weeks. It is built so that any second can be computed
alone, from the seed and the time, in about twenty hash evaluations: web processes
and workers agree on every price without sharing memory or a database row.

- Every 2**16 s (~18 h) the log price has an anchor value: a mean-reverting random walk
  (an Ornstein-Uhlenbeck process) written as a sum over the last 300 blocks of hashed
  normal shocks, so it stays within a few tens of percent of the anchor.
- Between two anchor values the path is a Brownian bridge refined by halving: the
  value at the middle second of an interval is the mean of its ends plus a hashed
  normal shock scaled to the interval's length. Sixteen halvings reach one second.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import lru_cache
from itertools import groupby

from exchanges.adapters.errors import BadSymbol
from exchanges.paper.markets import ASSETS, EXCHANGE_ID, STABLE, PaperMarket
from exchanges.paper.pricing.synthetic import QUOTE_SHARE, UsdRatioSource, hashed_normal, hashed_unit

DEFAULT_SEED = 20240601
BLOCK = 1 << 16  # seconds between two anchor values
PHI = 0.985  # per-block persistence of the anchor walk: its half-life is ~46 blocks (~5 weeks)
WINDOW = 300  # shocks in an anchor value; PHI**300 ~ 1 %: older shocks no longer matter
_PHI_POWERS = tuple(PHI**i for i in range(WINDOW))
DAY = 86_400


def _sigma(asset: str) -> float:
    """The per-second volatility of the asset's log price."""
    return ASSETS[asset].daily_vol / math.sqrt(DAY)


@lru_cache(maxsize=8192)
def anchor_value(seed: int, asset: str, block: int) -> float:
    """The log price (relative to the anchor price) at the start of ``block``."""
    # Scaled so that one block's change has the volatility of a Brownian motion over the block.
    shock = _sigma(asset) * math.sqrt(BLOCK) * math.sqrt((1 + PHI) / 2)
    return shock * sum(p * hashed_normal(seed, asset, "k", block - i) for i, p in enumerate(_PHI_POWERS))


def _bridge(seed: int, asset: str, a: int, b: int, xa: float, xb: float, times: list[int]) -> list[float]:
    """Values at ``times`` (sorted, within [a, b]) of the bridge from (a, xa) to (b, xb)."""
    if times[-1] == a:
        return [xa] * len(times)
    if times[0] == b:
        return [xb] * len(times)
    m = (a + b) // 2  # every second is the middle of exactly one interval: its shock's key
    xm = (xa + xb) / 2 + math.sqrt((b - a) / 4) * _sigma(asset) * hashed_normal(seed, asset, "m", m)
    split = bisect_right(times, m)
    left = _bridge(seed, asset, a, m, xa, xm, times[:split]) if split else []
    right = _bridge(seed, asset, m, b, xm, xb, times[split:]) if split < len(times) else []
    return left + right


def log_prices(seed: int, asset: str, times: list[int]) -> list[float]:
    values: list[float] = []
    for block, in_block in groupby(times, key=lambda t: t // BLOCK):
        a = block * BLOCK
        xa, xb = anchor_value(seed, asset, block), anchor_value(seed, asset, block + 1)
        values.extend(_bridge(seed, asset, a, a + BLOCK, xa, xb, list(in_block)))
    return values


class SimulatedPrices(UsdRatioSource):
    name = "simulated"

    def __init__(self, *, seed: int = DEFAULT_SEED):
        super().__init__(seed=seed)

    def usd(self, asset: str, times: list[int]) -> list[float]:
        if asset in STABLE:
            return [1.0] * len(times)
        if asset not in ASSETS:
            raise BadSymbol(f"no simulated price for {asset}", exchange=EXCHANGE_ID)
        anchor = ASSETS[asset].anchor
        return [anchor * math.exp(x) for x in log_prices(self.seed, asset, times)]

    def volume(self, listing: PaperMarket, start: int, end: int) -> float:
        """Busier in some minutes (hours, for long spans) than others; deterministic."""
        profile = ASSETS.get(listing.market.base)
        if profile is None or end <= start:
            return 0.0
        per_second = profile.volume_24h / DAY * QUOTE_SHARE.get(listing.market.quote, 0.2)
        bucket = 60 if end - start <= 6 * 3600 else 3600
        total = 0.0
        t = start
        while t < end:
            edge = min(end, (t // bucket + 1) * bucket)
            noise = 0.5 + hashed_unit(self.seed, listing.market.base, "v", bucket, t // bucket)
            total += per_second * (edge - t) * noise
            t = edge
        return total
