from bots.models.backtests import Backtest, BacktestStatus, DataSource
from bots.models.catalog import Bot, BotFile, BotType, FileType, Framework, ReviewStatus, Visibility
from bots.models.subscriptions import BotSignal, SignalOutcome, Subscription, SubscriptionStatus

__all__ = [
    "Backtest",
    "BacktestStatus",
    "Bot",
    "BotFile",
    "BotSignal",
    "BotType",
    "DataSource",
    "FileType",
    "Framework",
    "ReviewStatus",
    "SignalOutcome",
    "Subscription",
    "SubscriptionStatus",
    "Visibility",
]
