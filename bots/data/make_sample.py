"""Generate bots/data/sample_btc_usdt_1h.csv: one year of SYNTHETIC hourly BTC/USDT candles.

The data is made up, not market history (the platform is built offline). It is regime-switching
geometric Brownian motion, seeded so every run writes the same file:

  * three regimes with BTC-like annual drift / volatility: bull (+90 % / 50 %), bear (-60 % / 65 %) and
    sideways (0 % / 35 %); a Markov chain switches between them, staying about three weeks on average;
  * each hour is simulated as twelve 5-minute GBM steps, so high and low are the true extremes of the
    path inside the hour; open is the previous close (crypto trades around the clock);
  * volume (BTC) is log-normal around ~900 an hour, higher on big moves and in the European/US afternoon;
  * prices start at 42,000 on 2024-01-01 00:00 UTC, rounded to 2 decimals, volume to 4.

Run from the repository root: ``.venv/bin/python bots/data/make_sample.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240109  # one of several tried; its year (+24 %, 42 % max drawdown) looks like a typical BTC year
HOURS = 8760
STEPS_PER_HOUR = 12
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
START_PRICE = 42_000.0
OUTPUT = Path(__file__).with_name("sample_btc_usdt_1h.csv")

# (annual drift, annual volatility)
REGIMES = {"bull": (0.90, 0.50), "bear": (-0.60, 0.65), "sideways": (0.0, 0.35)}
MEAN_REGIME_HOURS = 500
HOURS_PER_YEAR = 8760


def generate(seed: int = SEED, hours: int = HOURS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(REGIMES)
    # regime path: leave the current regime with probability 1/MEAN_REGIME_HOURS each hour
    regime = np.empty(hours, dtype=np.int64)
    current = names.index("sideways")
    switches = rng.random(hours) < 1.0 / MEAN_REGIME_HOURS
    choices = rng.integers(0, len(names) - 1, size=hours)
    for h in range(hours):
        if switches[h]:
            others = [i for i in range(len(names)) if i != current]
            current = others[choices[h]]
        regime[h] = current
    drift = np.array([REGIMES[n][0] for n in names])[regime]
    vol = np.array([REGIMES[n][1] for n in names])[regime]

    dt = 1.0 / (HOURS_PER_YEAR * STEPS_PER_HOUR)
    shocks = rng.standard_normal((hours, STEPS_PER_HOUR))
    steps = (drift - 0.5 * vol**2)[:, None] * dt + vol[:, None] * np.sqrt(dt) * shocks
    log_path = np.log(START_PRICE) + np.cumsum(steps.ravel()).reshape(hours, STEPS_PER_HOUR)
    path = np.exp(log_path)

    close = path[:, -1]
    open_ = np.concatenate([[START_PRICE], close[:-1]])
    high = np.maximum(path.max(axis=1), open_)
    low = np.minimum(path.min(axis=1), open_)

    hour_of_day = np.arange(hours) % 24
    session = 1.0 + 0.35 * np.exp(-(((hour_of_day - 15) / 4.0) ** 2))  # busiest around 15:00 UTC
    move = np.abs(np.log(close / open_)) / (vol * np.sqrt(1.0 / HOURS_PER_YEAR))
    volume = 900.0 * session * (0.6 + 0.4 * move) * rng.lognormal(0.0, 0.35, size=hours)

    frame = pd.DataFrame(
        {
            "timestamp": START_MS + np.arange(hours, dtype=np.int64) * 3_600_000,
            "open": open_.round(2),
            "high": high.round(2),
            "low": low.round(2),
            "close": close.round(2),
            "volume": volume.round(4),
        }
    )
    # rounding may break high >= open/close >= low by a cent: restore the candle's invariants
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    return frame


def main() -> None:
    frame = generate()
    frame.to_csv(OUTPUT, index=False, float_format="%.10g")
    print(f"wrote {len(frame)} candles to {OUTPUT} ({OUTPUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
