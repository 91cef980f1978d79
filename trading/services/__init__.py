"""Trading services, split by responsibility: market data (``market``), orders
(``orders``), routing (``routing``), pre-trade risk (``risk``), positions and balances
(``positions``), stop-loss / take-profit (``protection``) and reconciliation
(``reconcile``). The market services are re-exported here for existing callers."""

from trading.services.market import (
    amount_clean,
    best_price,
    compare_prices,
    connection_order_book,
    connection_ticker,
    equivalent_symbols,
    symbol_clean,
    watch_add,
    watch_remove,
)

__all__ = [
    "amount_clean",
    "best_price",
    "compare_prices",
    "connection_order_book",
    "connection_ticker",
    "equivalent_symbols",
    "symbol_clean",
    "watch_add",
    "watch_remove",
]
