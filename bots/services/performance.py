"""How a running subscription performs, from the fills of its own orders (and of the
protective orders attached to them), with the same figures a backtest reports."""

from __future__ import annotations

from decimal import Decimal

from bots.models import Subscription
from bots.services.signals import subscription_fills
from exchanges.symbols import split as split_symbol


def _fee_in_quote(trade) -> Decimal:
    base, _quote = split_symbol(trade.symbol)
    if trade.fee_currency and trade.fee_currency.upper() == base.upper():
        return trade.fee * trade.price
    return trade.fee


def subscription_performance(*, subscription: Subscription) -> dict:
    from bots.engine.performance import figures, round_trips

    fills = [
        {"time": int(t.executed_at.timestamp() * 1000), "side": t.side, "amount": float(t.amount),
         "price": float(t.price), "fee": float(_fee_in_quote(t))}
        for t in subscription_fills(subscription).order_by("executed_at", "id")
    ]  # fmt: skip
    trades = round_trips(fills)
    capital = _capital(subscription, fills)
    start = int(subscription.created_at.timestamp() * 1000)
    curve = [(start, capital)]
    equity = capital
    for trade in trades:
        equity += trade.pnl
        curve.append((trade.exit_time, equity))
    result = figures(trades=trades, equity_curve=curve, initial_capital=capital)
    held = sum(f["amount"] if f["side"] == "buy" else -f["amount"] for f in fills)
    result["open_position"] = round(held, 12) if abs(held) > 1e-12 else 0
    result["capital"] = capital
    result["fills"] = len(fills)
    return result


def _capital(subscription: Subscription, fills: list[dict]) -> float:
    """What the percent figures are of: the configured order size, else the first entry's cost."""
    execution = subscription.execution_config or {}
    for key in ("capital", "order_amount"):
        try:
            value = float(execution.get(key) or 0)
        except (TypeError, ValueError):
            value = 0
        if value > 0:
            return value
    first_buy = next((f for f in fills if f["side"] == "buy"), None)
    return first_buy["amount"] * first_buy["price"] if first_buy else 0.0
