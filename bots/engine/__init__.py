"""Backtest engine and performance figures (pure Python + numpy/pandas, no Django)."""

from .backtest import BacktestResult, candle_window, run_backtest
from .performance import ClosedTrade, figures, open_position_from_fills, round_trips

__all__ = [
    "BacktestResult",
    "ClosedTrade",
    "candle_window",
    "figures",
    "open_position_from_fills",
    "round_trips",
    "run_backtest",
]
