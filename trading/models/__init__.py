"""Trading rows: the watchlist, orders with their events and fills, positions and the
tenant's trading settings."""

from trading.models.market import WatchedSymbol
from trading.models.orders import (
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    Purpose,
    Routing,
    Side,
    TimeInForce,
    Trade,
    TriggerMode,
)
from trading.models.positions import Position, TradingSettings

__all__ = [
    "Order",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "Position",
    "Purpose",
    "Routing",
    "Side",
    "TimeInForce",
    "Trade",
    "TradingSettings",
    "TriggerMode",
    "WatchedSymbol",
]
