"""The arithmetic of a fill, with no database: checking an order against the market's
rules, walking a book, slippage and fees. Services decide what to do with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchanges.adapters.errors import InvalidOrder
from exchanges.adapters.types import Market, OrderType, Side
from exchanges.paper.markets import EXCHANGE_ID, money, on_step, to_tick, truncate

BPS = Decimal("10000")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str = ""
    time_in_force: str = "GTC"


def _invalid(message: str) -> InvalidOrder:
    return InvalidOrder(message, exchange=EXCHANGE_ID)


def checked_request(request: OrderRequest, market: Market, *, reference_price: Decimal) -> OrderRequest:
    """The request with its amount truncated to the market's step, or InvalidOrder saying why not.

    ``reference_price`` (the limit or stop price, else the touch) prices the minimum cost.
    """
    try:
        side, type_ = Side(request.side), OrderType(request.type)
    except ValueError:
        raise _invalid(f"unknown side or type: {request.side} {request.type}") from None
    tif = (request.time_in_force or "GTC").upper()
    if tif not in TIME_IN_FORCE:
        raise _invalid(f"time in force {request.time_in_force} is not offered ({', '.join(TIME_IN_FORCE)})")
    if len(request.client_order_id) > 64:
        raise _invalid("the client order id is longer than 64 characters")
    amount = Decimal(request.amount)
    if not amount.is_finite() or amount <= 0:
        raise _invalid(f"amount must be positive, not {request.amount}")
    needs_price = type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = type_ in (OrderType.STOP, OrderType.STOP_LIMIT)
    price = _checked_price("price", request.price, market) if needs_price else None
    stop_price = _checked_price("stop price", request.stop_price, market) if needs_stop else None
    truncated = truncate(amount, market.amount_precision)
    if market.min_amount is not None and truncated < market.min_amount:
        raise _invalid(f"amount {amount} is below the minimum {market.min_amount} {market.base}")
    cost = truncated * (price or stop_price or reference_price)
    if market.min_cost is not None and cost < market.min_cost:
        raise _invalid(f"order value {cost.normalize():f} {market.quote} is below the minimum {market.min_cost}")
    return OrderRequest(
        symbol=market.symbol,
        side=side,
        type=type_,
        amount=truncated,
        price=price,
        stop_price=stop_price,
        client_order_id=request.client_order_id,
        time_in_force=tif,
    )


def _checked_price(name: str, value: Decimal | None, market: Market) -> Decimal:
    if value is None:
        raise _invalid(f"a {name} is required for this order type")
    price = Decimal(value)
    if not price.is_finite() or price <= 0:
        raise _invalid(f"{name} must be positive, not {value}")
    if not on_step(price, market.price_precision):
        raise _invalid(f"{name} {value} is not a multiple of the tick {market.price_precision}")
    return price


# --- the book ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Take:
    amount: Decimal
    price: Decimal  # volume-weighted over the levels taken, before slippage


def walk(
    levels: tuple[tuple[Decimal, Decimal], ...], amount: Decimal, *, side: Side, limit: Decimal | None = None
) -> Take:
    """Take ``amount`` from the opposite side's ``levels`` (best first), never past ``limit``.

    Without a limit an order larger than the book takes the rest at the last level's price:
    the synthetic book is deeper than it shows.
    """
    left, cost = amount, Decimal(0)
    for price, size in levels:
        if limit is not None and (price > limit if side == Side.BUY else price < limit):
            break
        take = min(size, left)
        cost += take * price
        left -= take
        if not left:
            break
    if left and limit is None and levels:
        cost += left * levels[-1][0]
        left = Decimal(0)
    filled = amount - left
    return Take(amount=filled, price=cost / filled if filled else Decimal(0))


def slipped(
    price: Decimal, *, side: Side, slippage_bps: Decimal, tick: Decimal, limit: Decimal | None = None
) -> Decimal:
    """``price`` moved against the taker by the slippage, on the tick, never past ``limit``."""
    if side == Side.BUY:
        moved = to_tick(price * (1 + slippage_bps / BPS), tick, rounding=ROUND_CEILING)
        return min(moved, limit) if limit is not None else moved
    moved = to_tick(price * (1 - slippage_bps / BPS), tick, rounding=ROUND_FLOOR)
    return max(moved, limit) if limit is not None else moved


def fee_for(cost: Decimal, rate: Decimal) -> Decimal:
    return money(cost * rate, up=True)


def buy_reservation(amount: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """Quote held for a resting buy: exactly what filling all of it at ``price`` costs."""
    cost = amount * price
    return cost + fee_for(cost, rate)
