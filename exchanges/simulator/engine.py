"""The matching engine of one simulated exchange: books, balances, orders and fills.

Protocol modules (binance, okx, robinhood) parse requests, call a ``Venue`` and render its
records in their exchange's JSON. Engine errors carry a neutral reason; each protocol turns
it into that exchange's real error code. Every public method takes the venue's lock, since
tests change prices from their own thread while the server thread serves requests.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

from exchanges.simulator import history
from exchanges.simulator.book import Book
from exchanges.simulator.markets import VenueSpec, is_multiple
from exchanges.simulator.models import ZERO, Account, Fill, Order, Status

FEE_QUANTUM = Decimal("0.00000001")


class EngineError(Exception):
    """An order or query the exchange refuses; ``reason`` names the rule for the protocol."""

    reason = "error"


class UnknownSymbol(EngineError):
    reason = "unknown_symbol"


class InsufficientBalance(EngineError):
    reason = "insufficient_balance"

    def __init__(self, asset: str, needed: Decimal, available: Decimal):
        self.asset, self.needed, self.available = asset, needed, available
        super().__init__(f"insufficient {asset}: needs {needed}, has {available}")


class FilterFailure(EngineError):
    """A market rule: ``rule`` is one of lot_size, min_amount, max_amount, tick_size, min_notional."""

    reason = "filter"

    def __init__(self, rule: str, message: str = ""):
        self.rule = rule
        super().__init__(message or rule)


class InvalidRequest(EngineError):
    reason = "invalid"


class OrderNotFound(EngineError):
    reason = "order_not_found"


class OrderNotOpen(EngineError):
    """Cancel of an order that has already filled, been canceled or expired."""

    reason = "order_not_open"

    def __init__(self, order: Order):
        self.order = order
        super().__init__(f"order {order.id} is {order.status}")


class DuplicateClientOrderId(EngineError):
    reason = "duplicate_client_order_id"

    def __init__(self, order: Order):
        self.order = order
        super().__init__(f"client order id {order.client_order_id} is in use")


class WouldTakeLiquidity(EngineError):
    """A post-only order that would match at once."""

    reason = "would_take"


class WouldTriggerImmediately(EngineError):
    """A stop order whose stop price the market has already passed (Binance refuses those)."""

    reason = "would_trigger"


def _order_ids(style: str) -> Callable[[], str]:
    counter = itertools.count(1)
    if style == "int":
        return lambda: str(3_000_000 + next(counter))
    if style == "long":
        return lambda: str(612_000_000_000_000_000 + next(counter) * 7919)
    return lambda: str(uuid.uuid4())


class Venue:
    """One exchange: its markets, accounts, orders and fills."""

    def __init__(self, spec: VenueSpec, *, clock: Callable[[], int]):
        self.spec = spec
        self.name = spec.name
        self.clock = clock
        self.lock = threading.RLock()
        self.markets = {market.symbol: market for market in spec.markets}
        self.symbol_by_id = {spec.market_id(market): market.symbol for market in spec.markets}
        self.books = {
            market.symbol: Book(market, spec.market_id(market), spec.spread_bps, market.initial_price, clock())
            for market in spec.markets
        }
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self._by_client_id: dict[tuple[str, str], str] = {}
        self._fills: list[Fill] = []
        self._new_order_id = _order_ids(spec.order_ids)
        self._fill_ids = itertools.count(5_000_001)

    # --- markets -------------------------------------------------------------------------
    def book(self, symbol: str) -> Book:
        try:
            return self.books[symbol]
        except KeyError:
            raise UnknownSymbol(symbol) from None

    def symbol_for(self, market_id: str) -> str:
        """The unified symbol of an exchange market id (BTCUSDT, BTC-USDT)."""
        try:
            return self.symbol_by_id[market_id]
        except KeyError:
            raise UnknownSymbol(market_id) from None

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market: resting orders that the new book crosses fill, stops trigger."""
        with self.lock:
            self.book(symbol).set_mid(Decimal(price), self.clock())
            self._on_price_move(symbol)

    def candles(self, symbol: str, interval_ms: int, **window) -> list[history.Candle]:
        with self.lock:
            book = self.book(symbol)
            return history.candles(
                key=f"{self.name}:{symbol}",
                price=book.mid,
                tick=book.market.tick_size,
                interval_ms=interval_ms,
                now_ms=self.clock(),
                anchor_ms=book.changed_at,
                **window,
            )

    def day_stats(self, symbol: str) -> dict[str, Decimal]:
        with self.lock:
            book = self.book(symbol)
            key = f"{self.name}:{symbol}"
            tick = book.market.tick_size
            return history.day_stats(key=key, price=book.mid, tick=tick, now_ms=self.clock(), anchor_ms=book.changed_at)

    def public_trades(self, symbol: str, limit: int = 100) -> list[Fill]:
        with self.lock:
            return [fill for fill in self._fills if fill.symbol == symbol][-limit:]

    # --- accounts ------------------------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        with self.lock:
            self.accounts[account.api_key] = account
            return account

    def account(self, api_key: str) -> Account | None:
        return self.accounts.get(api_key)

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        """asset -> (free, locked) for every asset the account holds or its markets trade."""
        with self.lock:
            account = self.accounts[api_key]
            assets = set(account.free) | set(account.locked)
            return {asset: (account.free.get(asset, ZERO), account.locked.get(asset, ZERO)) for asset in sorted(assets)}

    # --- orders --------------------------------------------------------------------------
    def place_order(
        self,
        *,
        api_key: str,
        symbol: str,
        side: str,
        type: str,
        amount: Decimal | None = None,
        quote_amount: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        trigger: str | None = None,
        time_in_force: str = "GTC",
        post_only: bool = False,
        cancel_post_only: bool = False,
        reject_immediate_trigger: bool = False,
        client_order_id: str | None = None,
        visible_after_ms: int = 0,
        extra: dict | None = None,
        validate_only: bool = False,
    ) -> Order | None:
        """Check, accept and execute an order. ``validate_only`` checks without placing (order/test).

        ``cancel_post_only``: a post-only order that would take is kept as canceled (OKX)
        instead of refused (Binance's LIMIT_MAKER).
        """
        with self.lock:
            account = self.accounts[api_key]
            book = self.book(symbol)
            self._validate(book, side, type, amount, quote_amount, price, stop_price, trigger)
            if client_order_id:
                existing = self._client_order(api_key, client_order_id)
                if existing is not None and existing.is_open:
                    raise DuplicateClientOrderId(existing)
            if validate_only:
                return None
            now = self.clock()
            order = Order(
                id=self._new_order_id(),
                api_key=api_key,
                client_order_id=client_order_id or f"sim-{uuid.uuid4().hex[:20]}",
                symbol=symbol,
                side=side,
                type=type,
                amount=amount,
                quote_amount=quote_amount,
                price=price,
                stop_price=stop_price,
                trigger=trigger,
                time_in_force=time_in_force.upper(),
                post_only=post_only,
                created_at=now,
                updated_at=now,
                visible_at=now + visible_after_ms,
                triggered=trigger is None,
                extra=dict(extra or {}),
            )
            if post_only and self._crosses(book, order):
                if not cancel_post_only:
                    raise WouldTakeLiquidity("the order would immediately match and take")
                order.status = Status.CANCELED
                self._store(order)
                return order
            if not order.triggered and reject_immediate_trigger and self._should_trigger(order, book):
                raise WouldTriggerImmediately("the stop price would trigger immediately")
            if order.triggered:
                self._execute(account, book, order)
            else:
                self._reserve(account, order, order.price if order.type == "limit" else order.stop_price)
            self._store(order)
            if not order.triggered and self._should_trigger(order, book):
                self._trigger(account, book, order)
            return order

    def _validate(self, book, side, type, amount, quote_amount, price, stop_price, trigger) -> None:
        market = book.market
        if side not in ("buy", "sell"):
            raise InvalidRequest(f"invalid side {side!r}")
        if type not in ("market", "limit"):
            raise InvalidRequest(f"invalid order type {type!r}")
        if type == "limit" and (price is None or price <= 0):
            raise InvalidRequest("a limit order needs a price")
        if trigger is not None and (stop_price is None or stop_price <= 0):
            raise InvalidRequest("a stop order needs a stop price")
        if (amount is None) == (quote_amount is None):
            raise InvalidRequest("give either an amount or a quote amount")
        for value in (price, stop_price):
            if value is not None and not is_multiple(value, market.tick_size):
                raise FilterFailure("tick_size", f"price {value} is not a multiple of {market.tick_size}")
        if amount is not None:
            if amount <= 0 or amount < market.min_amount:
                raise FilterFailure("min_amount", f"amount {amount} is below the minimum {market.min_amount}")
            if amount > market.max_amount:
                raise FilterFailure("max_amount", f"amount {amount} is above the maximum {market.max_amount}")
            if not is_multiple(amount, market.step_size):
                raise FilterFailure("lot_size", f"amount {amount} is not a multiple of {market.step_size}")
        reference = price or stop_price or book.mid
        notional = quote_amount if quote_amount is not None else amount * reference
        if notional <= 0 or notional < market.min_notional:
            raise FilterFailure("min_notional", f"order value {notional} is below the minimum {market.min_notional}")

    def _client_order(self, api_key: str, client_order_id: str) -> Order | None:
        order_id = self._by_client_id.get((api_key, client_order_id))
        return self.orders.get(order_id) if order_id else None

    def _store(self, order: Order) -> None:
        self.orders[order.id] = order
        self._by_client_id[(order.api_key, order.client_order_id)] = order.id

    def _crosses(self, book: Book, order: Order) -> bool:
        if order.type != "limit":
            return True
        return order.price >= book.best_ask() if order.side == "buy" else order.price <= book.best_bid()

    def _reserve(self, account: Account, order: Order, price: Decimal) -> None:
        """Hold the funds a resting order may spend, so they cannot be spent twice."""
        market = self.markets[order.symbol]
        if order.side == "buy":
            asset, needed = market.quote, order.remaining * price
        else:
            asset, needed = market.base, order.remaining
        available = account.free.get(asset, ZERO)
        if needed > available:
            raise InsufficientBalance(asset, needed, available)
        account.move(asset, free=-needed, locked=needed)
        order.locked = needed

    def _release(self, account: Account, order: Order) -> None:
        market = self.markets[order.symbol]
        asset = market.quote if order.side == "buy" else market.base
        account.move(asset, free=order.locked, locked=-order.locked)
        order.locked = ZERO

    def _execute(self, account: Account, book: Book, order: Order) -> None:
        """Run a (triggered) order against the book: market orders fill now, limit orders may rest."""
        if order.type == "market":
            fills = book.walk(order.side, amount=order.amount, quote_amount=order.quote_amount)
            self._check_taker_funds(account, order, fills)
            for price, amount in fills:
                self._fill(account, order, price, amount, maker=False)
            if order.amount is None:  # sized by quote amount: done once the money is spent
                order.amount = order.filled
                order.status = Status.FILLED if fills else Status.EXPIRED
            elif order.remaining > 0 or not fills:
                order.status = Status.EXPIRED  # the book ran dry before the order was done
            return
        self._reserve(account, order, order.price)
        fills = book.walk(order.side, amount=order.remaining, limit_price=order.price)
        available = sum((amount for _, amount in fills), ZERO)
        if order.time_in_force == "FOK" and available < order.remaining:
            self._expire(account, order)
            return
        for price, amount in fills:
            self._fill(account, order, price, amount, maker=False)
        if order.remaining > 0 and order.time_in_force in ("IOC", "FOK"):
            self._expire(account, order)

    def _check_taker_funds(self, account: Account, order: Order, fills: list) -> None:
        market = self.markets[order.symbol]
        if order.side == "buy":
            asset = market.quote
            needed = order.quote_amount if order.quote_amount is not None else sum((p * a for p, a in fills), ZERO)
        else:
            asset, needed = market.base, order.amount
        available = account.free.get(asset, ZERO)
        if needed > available:
            raise InsufficientBalance(asset, needed, available)

    def _expire(self, account: Account, order: Order) -> None:
        self._release(account, order)
        order.status = Status.EXPIRED
        order.updated_at = self.clock()

    def _fill(self, account: Account, order: Order, price: Decimal, amount: Decimal, *, maker: bool) -> Fill:
        market = self.markets[order.symbol]
        rate = self.spec.maker_fee if maker else self.spec.taker_fee
        cost = price * amount
        if order.side == "buy":
            # a resting buy holds remaining * limit price; a fill at a better price frees the difference
            if order.locked:
                keep = (order.remaining - amount) * order.price
                account.move(market.quote, free=order.locked - keep - cost, locked=keep - order.locked)
                order.locked = keep
            else:
                account.move(market.quote, free=-cost)
            fee, fee_asset = (amount * rate).quantize(FEE_QUANTUM), market.base
            account.move(market.base, free=amount - fee)
        else:
            if order.locked:
                account.move(market.base, locked=-amount)
                order.locked -= amount
            else:
                account.move(market.base, free=-amount)
            fee, fee_asset = (cost * rate).quantize(FEE_QUANTUM), market.quote
            account.move(market.quote, free=cost - fee)
        now = self.clock()
        fill = Fill(
            next(self._fill_ids),
            order.id,
            order.api_key,
            order.symbol,
            order.side,
            price,
            amount,
            fee,
            fee_asset,
            maker,
            now,
        )
        order.fills.append(fill)
        self._fills.append(fill)
        order.filled += amount
        order.cost += cost
        order.updated_at = now
        done = order.amount is not None and order.remaining <= 0
        order.status = Status.FILLED if done else Status.PARTIALLY_FILLED
        return fill

    def _should_trigger(self, order: Order, book: Book) -> bool:
        price = book.mid
        falling = order.stop_price >= price  # the price is at or below the stop
        rising = order.stop_price <= price
        if order.trigger == "stop_loss":
            return falling if order.side == "sell" else rising
        return rising if order.side == "sell" else falling  # take_profit

    def _trigger(self, account: Account, book: Book, order: Order) -> None:
        order.triggered = True
        order.updated_at = self.clock()
        self._release(account, order)
        try:
            self._execute(account, book, order)
        except InsufficientBalance:
            order.status = Status.EXPIRED  # the account spent the funds elsewhere meanwhile

    def _on_price_move(self, symbol: str) -> None:
        book = self.books[symbol]
        for order in sorted(self.orders.values(), key=lambda o: o.created_at):
            if order.symbol != symbol or not order.is_open:
                continue
            account = self.accounts[order.api_key]
            if not order.triggered:
                if self._should_trigger(order, book):
                    self._trigger(account, book, order)
                continue
            if order.type == "limit" and order.remaining > 0 and self._crosses(book, order):
                # the market moved through a resting order: it fills at its own price, as maker
                self._fill(account, order, order.price, order.remaining, maker=True)

    def fill_order(self, order_id: str, *, amount: Decimal | None = None, price: Decimal | None = None) -> Fill:
        """Fill (part of) a resting order by hand, as if another trader took it: partial fills in tests."""
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise OrderNotFound(order_id)
            if not order.is_open or not order.triggered:
                raise OrderNotOpen(order)
            fill_amount = min(Decimal(amount) if amount is not None else order.remaining, order.remaining)
            return self._fill(
                self.accounts[order.api_key], order, Decimal(price or order.price), fill_amount, maker=True
            )

    def cancel_order(self, api_key: str, *, order_id: str | None = None, client_order_id: str | None = None) -> Order:
        with self.lock:
            order = self.get_order(api_key, order_id=order_id, client_order_id=client_order_id)
            if not order.is_open:
                raise OrderNotOpen(order)
            self._release(self.accounts[api_key], order)
            order.status = Status.CANCELED
            order.updated_at = self.clock()
            return order

    # --- queries (they see only what the exchange reports: a late order is not there yet) ---
    def get_order(self, api_key: str, *, order_id: str | None = None, client_order_id: str | None = None) -> Order:
        with self.lock:
            if order_id:
                order = self.orders.get(str(order_id))
            elif client_order_id:
                order = self._client_order(api_key, client_order_id)
            else:
                raise InvalidRequest("give an order id or a client order id")
            if order is None or order.api_key != api_key or not self._visible(order):
                raise OrderNotFound(order_id or client_order_id)
            return order

    def find_client_order(self, api_key: str, client_order_id: str) -> Order | None:
        """The latest order with this client order id, reported or not (idempotency checks)."""
        with self.lock:
            return self._client_order(api_key, client_order_id)

    def list_orders(self, api_key: str, *, symbol: str | None = None, open_only: bool = False) -> list[Order]:
        with self.lock:
            return [
                order
                for order in self.orders.values()
                if order.api_key == api_key
                and (symbol is None or order.symbol == symbol)
                and (order.is_open or not open_only)
                and self._visible(order)
            ]

    def list_fills(self, api_key: str, *, symbol: str | None = None, order_id: str | None = None) -> list[Fill]:
        with self.lock:
            visible = {order.id for order in self.orders.values() if order.api_key == api_key and self._visible(order)}
            return [
                fill
                for fill in self._fills
                if fill.order_id in visible
                and (symbol is None or fill.symbol == symbol)
                and (order_id is None or fill.order_id == str(order_id))
            ]

    def _visible(self, order: Order) -> bool:
        return order.visible_at <= self.clock()
