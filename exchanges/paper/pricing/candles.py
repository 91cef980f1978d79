"""Replay of the 1-minute candles shipped in ``exchanges/paper/data/`` (synthetic, see
``data/generate.py``), looping through wall-clock time.

Minute ``i`` of the clock (since the file's first candle, modulo its length) plays
candle ``i``. Inside a minute the price moves in straight lines through the candle:
open at :00, the first extreme at :16, the other at :32, close at :48, then on to
the next candle's open (low before high when the candle closed up). An asset without
a file (SOL) takes its price from the simulated process instead.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from exchanges.paper.markets import STABLE, PaperMarket
from exchanges.paper.pricing.simulated import DEFAULT_SEED, SimulatedPrices
from exchanges.paper.pricing.synthetic import QUOTE_SHARE, UsdRatioSource

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
KNOTS = (0, 16, 32, 48, 60)


@dataclass(frozen=True)
class Series:
    start: int  # seconds: the first candle's open time
    opens: tuple[float, ...]
    highs: tuple[float, ...]
    lows: tuple[float, ...]
    closes: tuple[float, ...]
    volumes: tuple[float, ...]
    cumulative: tuple[float, ...]  # volume of candles [0, i)

    @property
    def length(self) -> int:
        return len(self.opens)

    def row(self, t: int) -> tuple[int, int]:
        """(candle index, second within the minute) that time ``t`` plays."""
        offset = (t - self.start) % (self.length * 60)
        return offset // 60, offset % 60

    def price_at(self, t: int) -> float:
        i, second = self.row(t)
        o, c = self.opens[i], self.closes[i]
        first, second_extreme = (self.lows[i], self.highs[i]) if c >= o else (self.highs[i], self.lows[i])
        values = (o, first, second_extreme, c, self.opens[(i + 1) % self.length])
        k = bisect_right(KNOTS, second) - 1
        if KNOTS[k] == second:
            return values[k]
        share = (second - KNOTS[k]) / (KNOTS[k + 1] - KNOTS[k])
        return values[k] + (values[k + 1] - values[k]) * share

    def ohlc(self, start: int, end: int) -> tuple[float, float, float, float]:
        """Of the seconds [start, end): whole minutes straight from the file, a cut minute from the path."""
        opens, highs, lows, closes = [], [], [], []
        t = start
        while t < end:
            minute_end = (t // 60 + 1) * 60
            if t % 60 == 0 and minute_end <= end:
                i, _ = self.row(t)
                opens.append(self.opens[i])
                highs.append(self.highs[i])
                lows.append(self.lows[i])
                closes.append(self.closes[i])
            else:
                path = [self.price_at(second) for second in range(t, min(minute_end, end))]
                opens.append(path[0])
                highs.append(max(path))
                lows.append(min(path))
                closes.append(path[-1])
            t = min(minute_end, end)
        return opens[0], max(highs), min(lows), closes[-1]

    def volume_until(self, t: int) -> float:
        """Volume from the series' start to ``t``, counting every loop (a minute's volume spreads evenly)."""
        loops, offset = divmod(t - self.start, self.length * 60)
        i, second = divmod(offset, 60)
        return loops * self.cumulative[-1] + self.cumulative[i] + self.volumes[i] * second / 60


@lru_cache(maxsize=16)
def load_series(path: Path) -> Series:
    columns: list[list[float]] = [[], [], [], [], [], []]
    for line in path.read_text().splitlines():
        if not line or line.startswith("#") or line.startswith("timestamp"):
            continue
        for column, value in zip(columns, line.split(","), strict=True):
            column.append(float(value))
    timestamps, opens, highs, lows, closes, volumes = columns
    if not timestamps or timestamps[0] % 60_000:
        raise ValueError(f"{path.name}: candles must start on a whole minute")
    return Series(
        start=int(timestamps[0]) // 1000,
        opens=tuple(opens),
        highs=tuple(highs),
        lows=tuple(lows),
        closes=tuple(closes),
        volumes=tuple(volumes),
        cumulative=tuple(accumulate(volumes, initial=0.0)),
    )


def candle_files(data_dir: Path = DATA_DIR) -> dict[str, Path]:
    """Asset -> its USDT candle file (``BTC-USDT-1m.csv``)."""
    return {path.name.split("-")[0]: path for path in sorted(data_dir.glob("*-USDT-1m.csv"))}


class CandlePrices(UsdRatioSource):
    name = "candles"

    def __init__(self, *, seed: int = DEFAULT_SEED, data_dir: Path | None = None):
        super().__init__(seed=seed)
        self.files = candle_files(data_dir or DATA_DIR)
        self.fallback = SimulatedPrices(seed=seed)

    def usd(self, asset: str, times: list[int]) -> list[float]:
        if asset in STABLE:
            return [1.0] * len(times)
        if asset not in self.files:
            return self.fallback.usd(asset, times)
        series = load_series(self.files[asset])
        return [series.price_at(t) for t in times]

    def ohlc(self, listing: PaperMarket, spans: list[tuple[int, int]]) -> list[tuple[float, float, float, float]]:
        if listing.market.base not in self.files or listing.market.quote not in STABLE:
            return super().ohlc(listing, spans)  # a cross (ETH/BTC) or an asset without a file
        series = load_series(self.files[listing.market.base])
        return [series.ohlc(start, end) for start, end in spans]

    def volume(self, listing: PaperMarket, start: int, end: int) -> float:
        base = listing.market.base
        if base not in self.files:
            return self.fallback.volume(listing, start, end)
        series = load_series(self.files[base])
        share = QUOTE_SHARE.get(listing.market.quote, 0.2)
        return max(0.0, series.volume_until(end) - series.volume_until(start)) * share
