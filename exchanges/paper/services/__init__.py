"""Writes of the paper exchange. Everything that moves a balance goes through here."""

from exchanges.paper.services.accounts import (
    paper_account_configure,
    paper_account_ensure,
    paper_account_reset,
    paper_connection_ensure,
)
from exchanges.paper.services.orders import (
    MarketView,
    paper_order_cancel,
    paper_order_place,
    paper_orders_match,
)

__all__ = [
    "MarketView",
    "paper_account_configure",
    "paper_account_ensure",
    "paper_account_reset",
    "paper_connection_ensure",
    "paper_order_cancel",
    "paper_order_place",
    "paper_orders_match",
]
