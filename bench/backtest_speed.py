"""Bots (issue 6), benchmark 2: backtest speed.

The SMA crossover bot (10/50, long or flat, 0.1 % fee) over 1,000,000 synthetic one-minute candles
(seeded GBM, BTC-like level and volatility, generated here), run by the platform's `run_backtest` and by
the backtesting.py library on the same data in the same run.

Making the two engines trade the same:
  * price: backtesting.py fills a market order at the NEXT bar's open by default; with
    `trade_on_close=True` it fills at the close of the bar whose `next()` placed it, which is our
    convention (a signal on candle i is executed at candle i's close).
  * size: backtesting.py trades whole units, so it runs as `FractionalBacktest` (prices scaled to
    1e-8 BTC, one unit is a satoshi). Both spend 99.99 % of cash per entry, fee included: backtesting.py
    reads a size of 1 as one unit, so the fraction must stay below 1, and it buys
    floor(0.9999 * cash / (price * 1.001)) units - our `position_size` means exactly that, fractional.
  * fee: 0.1 % of the notional on entry and on exit in both.
  * the crossover: `backtesting.lib.crossover` (strictly below, then strictly above) against our bot's
    cross (not above, then above by more than 1e-9 of the price); they differ only on exact ties.
  * the end: backtesting.py cannot fill an order placed on the last bar and leaves a final open trade out
    of its trade count; both report equity marked at the last close.
  * cash: on a random walk this strategy makes ~14,000 round trips in a million minutes and each costs
    0.2 % in fees, so it keeps only about 1e-12 of its capital. Starting from 10,000 the account would
    fall below one satoshi's worth within ~9,000 trades and backtesting.py would stop trading (it cannot
    buy a fraction of its unit), so both start with "ample cash", 1e15: the final equity stays in the
    thousands and the comparison means something.

Usage: .venv/bin/python bench/backtest_speed.py [candles]   (no Django, no services needed)
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backtesting import Strategy  # noqa: E402
from backtesting.lib import FractionalBacktest, crossover  # noqa: E402

from bots.engine import run_backtest  # noqa: E402
from bots.sdk.builtin import SmaCrossover  # noqa: E402

SEED = 6
CANDLES = 1_000_000
SLOW_PATH_CANDLES = 20_000
FAST, SLOW = 10, 50
FEE = 0.001
CASH = 1e15  # see the docstring: the strategy loses ~all of it to fees on random-walk minutes
SIZE = 0.9999
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def synthetic_minutes(n: int, seed: int = SEED) -> pd.DataFrame:
    """Seeded GBM minute candles: 42,000 start, 60 % annual volatility, prices to the cent."""
    rng = np.random.default_rng(seed)
    sigma = 0.60 / np.sqrt(365 * 24 * 60)
    close = 42_000.0 * np.exp(np.cumsum(rng.normal(-0.5 * sigma**2, sigma, n)))
    close = close.round(2)
    open_ = np.concatenate([[42_000.0], close[:-1]])
    wick = np.abs(rng.normal(0.0, sigma * 0.6, (2, n)))
    high = (np.maximum(open_, close) * (1 + wick[0])).round(2)
    low = (np.minimum(open_, close) * (1 - wick[1])).round(2)
    volume = rng.lognormal(2.0, 0.5, n).round(4)
    timestamps = START_MS + np.arange(n, dtype=np.int64) * 60_000
    return pd.DataFrame(
        {"timestamp": timestamps, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


class SmaCross(Strategy):
    fast = FAST
    slow = SLOW

    def init(self) -> None:
        close = pd.Series(self.data.Close)
        self.sma_fast = self.I(lambda: close.rolling(self.fast).mean().to_numpy(), name="fast")
        self.sma_slow = self.I(lambda: close.rolling(self.slow).mean().to_numpy(), name="slow")

    def next(self) -> None:
        if crossover(self.sma_fast, self.sma_slow):
            if not self.position:
                self.buy(size=SIZE)
        elif crossover(self.sma_slow, self.sma_fast) and self.position:
            self.position.close()


def ours(candles: pd.DataFrame, *, vectorized: bool = True):
    return run_backtest(
        bot=SmaCrossover({"fast": FAST, "slow": SLOW}),
        candles=candles,
        initial_capital=CASH,
        fee=FEE,
        position_size=SIZE,
        vectorized=vectorized,
    )


def theirs(candles: pd.DataFrame):
    data = pd.DataFrame(
        {
            "Open": candles["open"].to_numpy(),
            "High": candles["high"].to_numpy(),
            "Low": candles["low"].to_numpy(),
            "Close": candles["close"].to_numpy(),
            "Volume": candles["volume"].to_numpy(),
        },
        index=pd.to_datetime(candles["timestamp"].to_numpy(), unit="ms", utc=True).tz_localize(None),
    )
    bt = FractionalBacktest(data, SmaCross, cash=CASH, commission=FEE, trade_on_close=True, fractional_unit=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open" and the like
        return bt.run()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else CANDLES
    t0 = time.perf_counter()
    candles = synthetic_minutes(n)
    print(f"{n:,} synthetic 1m candles generated in {time.perf_counter() - t0:.1f} s")
    print(f"SMA crossover {FAST}/{SLOW}, long or flat, fee {FEE:.1%}, cash {CASH:.0e}, size {SIZE} of cash\n")

    runs = []
    for _ in range(3):
        t = time.perf_counter()
        result = ours(candles)
        runs.append(time.perf_counter() - t)
    ours_s = statistics.median(runs)

    part = candles.iloc[:SLOW_PATH_CANDLES].reset_index(drop=True)
    t = time.perf_counter()
    slow = ours(part, vectorized=False)
    slow_s = time.perf_counter() - t
    fast_part = ours(part)

    t = time.perf_counter()
    stats = theirs(candles)
    theirs_s = time.perf_counter() - t

    their_trades = stats._trades
    their_equity = float(stats["Equity Final [$]"])
    our_equity = result.figures["final_equity"]
    diff = abs(our_equity - their_equity) / their_equity

    our_candles = [(t.entry_time, t.exit_time) for t in result.trades]
    their_candles = [
        (int(entry.value // 1_000_000), int(exit_.value // 1_000_000))
        for entry, exit_ in zip(their_trades["EntryTime"], their_trades["ExitTime"], strict=True)
    ]
    same_trades = our_candles == their_candles
    open_ours = result.open_position is not None
    last_signal = int(SmaCrossover({"fast": FAST, "slow": SLOW}).signals(candles.iloc[-(SLOW + 2) :]).iloc[-1])

    rows = [
        ("platform run_backtest, vectorized (median of 3)", n / ours_s, ours_s),
        (
            f"platform run_backtest, candle by candle ({SLOW_PATH_CANDLES:,}, extrapolated)",
            SLOW_PATH_CANDLES / slow_s,
            slow_s * n / SLOW_PATH_CANDLES,
        ),
        ("backtesting.py 0.6 FractionalBacktest, trade_on_close", n / theirs_s, theirs_s),
    ]
    print(f"{'engine':<72} {'candles/s':>12} {'seconds':>9}")
    for name, rate, seconds in rows:
        print(f"{name:<72} {rate:>12,.0f} {seconds:>9.2f}")
    print(f"\nspeed ratio, vectorized vs backtesting.py: {theirs_s / ours_s:.1f}x (target >= 10x)")
    print(
        f"closed trades: platform {len(result.trades)}, backtesting.py {len(their_trades)} "
        f"(target equal); same entry and exit candles: {'yes' if same_trades else 'NO'}"
    )
    print(
        f"open position at the end: platform {'yes' if open_ours else 'no'}; "
        f"signal on the last candle: {last_signal} (backtesting.py cannot fill one there)"
    )
    print(
        f"final equity: platform {our_equity:,.2f}, backtesting.py {their_equity:,.2f}, "
        f"relative difference {diff:.2e} = {diff * 100:.5f} % (target within 0.1 %)"
    )
    print(
        f"candle-by-candle path on {SLOW_PATH_CANDLES:,} candles: {len(slow.trades)} trades, identical to the "
        f"vectorized path on the same slice: {'yes' if slow.trades == fast_part.trades else 'NO'}"
    )


if __name__ == "__main__":
    main()
