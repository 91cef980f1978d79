"""The generic ccxt adapter: one class for every ccxt exchange; small subclasses in
ccxt_exchanges.py declare only what differs for one exchange."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from decimal import Decimal

import ccxt
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS

from exchanges.adapters import ccxt_pool
from exchanges.adapters.base import ExchangeAdapter
from exchanges.adapters.ccxt_catalog import ccxt_describe
from exchanges.adapters.ccxt_errors import translate
from exchanges.adapters.errors import BadSymbol, ExchangeError, InvalidOrder, NotSupported, OrderNotFound
from exchanges.adapters.types import (
    Balance,
    BalanceEntry,
    Candle,
    Capabilities,
    Fee,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Ticker,
    Trade,
)
from exchanges.precision import to_decimal
from exchanges.symbols import InvalidSymbol

D = to_decimal
_STOP_TYPES = {"stop", "stop_loss", "stop_market", "stop-loss", "stoploss", "trigger"}
_STOP_LIMIT_TYPES = {"stop_limit", "stop_loss_limit", "stop-limit", "stoplimit"}


class CcxtAdapter(ExchangeAdapter):
    #: the ccxt class name (``ccxt.async_support.<ccxt_id>``)
    ccxt_id: str = ""
    #: extra ccxt constructor options of this exchange
    ccxt_options: dict = {}
    #: the param that fetches an order by our client order id (None: search the lists)
    client_order_id_fetch_param: str | None = None
    #: texts of the exchange's "this client order id is taken" answer, where ccxt maps it to
    #: a plain InvalidOrder: an order send that gets it did reach the exchange before
    duplicate_order_messages: tuple[str, ...] = ()
    #: request timeout in milliseconds
    timeout_ms: int = 10_000
    #: the pooled instances pay every request from the shared budget (ccxt_pool), which asks
    #: the call's breakers with the first one
    requests_check_breakers = True

    def __init__(self, *args, ccxt_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if ccxt_id:
            self.ccxt_id = ccxt_id
        self.ccxt_id = self.ccxt_id or self.exchange_id
        if not self.exchange_id:
            self.exchange_id = self.ccxt_id
        if self.ccxt_id not in ccxt.exchanges:
            raise NotSupported(f"ccxt has no exchange {self.ccxt_id!r}", exchange=self.ccxt_id)

    # --- plumbing ------------------------------------------------------------------------
    @property
    def _exchange(self):
        config = {
            **self.credentials.as_ccxt(),
            "timeout": int(self.options.get("timeout_ms", self.timeout_ms)),
            "options": {**self.ccxt_options, **self.options.get("ccxt_options", {})},
        }
        return ccxt_pool.get_exchange(self.ccxt_id, config=config, api_base_url=self.api_base_url, testnet=self.testnet)

    async def _call(self, method: str, *args, **kwargs):
        """A ccxt method after the markets are loaded; ccxt's errors become ours."""
        exchange = self._exchange
        await self._load(exchange)
        with self._translated(exchange):
            return await getattr(exchange, method)(*args, **kwargs)

    async def _load(self, exchange, *, reload: bool = False) -> dict:
        with self._translated(exchange):
            return await ccxt_pool.load_markets(
                exchange, api_base_url=self.api_base_url, testnet=self.testnet, reload=reload
            )

    @contextlib.contextmanager
    def _translated(self, exchange):
        try:
            yield
        except ccxt.BaseError as exc:
            raise translate(
                exc,
                exchange_id=self.exchange_id,
                secrets=self.credentials.values(),
                headers=exchange.last_response_headers,
                duplicate_order_messages=self.duplicate_order_messages,
            ) from None

    def _precision_step(self, exchange, value) -> Decimal | None:
        if value is None:
            return None
        if exchange.precisionMode == DECIMAL_PLACES:
            return Decimal(1).scaleb(-int(value))
        if exchange.precisionMode == SIGNIFICANT_DIGITS:
            return None  # not a fixed step; ccxt truncates these itself
        return D(value)

    def _market(self, exchange, raw: dict) -> Market:
        limits = raw.get("limits") or {}
        precision = raw.get("precision") or {}
        return Market(
            symbol=raw["symbol"],
            id=str(raw["id"]),
            base=raw["base"],
            quote=raw["quote"],
            type=raw.get("type") or "spot",
            active=raw.get("active") is not False,
            amount_precision=self._precision_step(exchange, precision.get("amount")),
            price_precision=self._precision_step(exchange, precision.get("price")),
            min_amount=D((limits.get("amount") or {}).get("min")),
            min_cost=D((limits.get("cost") or {}).get("min")),
            taker_fee=D(raw.get("taker")),
            maker_fee=D(raw.get("maker")),
        )

    async def _symbol(self, symbol: str) -> str:
        markets = await self.load_markets()
        try:
            unified = self.normalize_symbol(symbol, markets=markets)
        except InvalidSymbol as exc:
            raise BadSymbol(str(exc), exchange=self.exchange_id) from None
        if unified not in markets:
            raise BadSymbol(f"{symbol} is not listed", exchange=self.exchange_id)
        return unified

    # --- markets -------------------------------------------------------------------------
    def markets_cached(self) -> bool:
        return ccxt_pool.markets_fresh(self.ccxt_id, api_base_url=self.api_base_url, testnet=self.testnet)

    def cached_markets(self) -> dict[str, Market] | None:
        exchange = ccxt_pool.fresh_markets_holder(self.ccxt_id, api_base_url=self.api_base_url, testnet=self.testnet)
        return self._converted(exchange, exchange.markets) if exchange is not None else None

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        exchange = self._exchange
        return self._converted(exchange, await self._load(exchange, reload=reload))

    def _converted(self, exchange, raw: dict) -> dict[str, Market]:
        """ccxt's markets as ours, converted once per loaded market list (every order reads
        them: converting 20+ markets each time cost more than the rest of the lookup)."""
        memo = exchange.__dict__.setdefault("_platform_markets", {})
        cached = memo.get(type(self))
        if cached is None or cached[0] is not raw:
            converted = {symbol: self._market(exchange, market) for symbol, market in raw.items()}
            cached = memo[type(self)] = (raw, converted)
        return dict(cached[1])

    def capabilities(self, markets: dict[str, Market] | None = None) -> Capabilities:
        has = _has(self.ccxt_id)
        spot, futures = bool(has.get("spot")), bool(has.get("swap") or has.get("future"))
        if markets:
            types = {m.type for m in markets.values() if m.active}
            spot, futures = "spot" in types, bool(types & {"swap", "future"})
        return Capabilities(
            spot=spot,
            futures=futures,
            margin=bool(has.get("margin")),
            stop_loss=bool(has.get("createStopLossOrder") or has.get("createStopOrder")),
            take_profit=bool(has.get("createTakeProfitOrder")),
            advanced_orders=bool(
                has.get("createOrderWithTakeProfitAndStopLoss")
                or has.get("createTrailingAmountOrder")
                or has.get("createTrailingPercentOrder")
            ),
            websocket=ccxt_describe(self.ccxt_id)["websocket"],
            fetch_tickers=bool(has.get("fetchTickers")),
            client_order_id=True,
        )

    # --- public data ---------------------------------------------------------------------
    def _ticker(self, raw: dict) -> Ticker:
        return Ticker(
            exchange=self.exchange_id,
            symbol=raw["symbol"],
            price=D(raw.get("last") if raw.get("last") is not None else raw.get("close")),
            bid=D(raw.get("bid")),
            ask=D(raw.get("ask")),
            volume=D(raw.get("baseVolume")),
            timestamp=raw.get("timestamp"),
        )

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return self._ticker(await self._call("fetch_ticker", await self._symbol(symbol)))

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        unified = [await self._symbol(s) for s in symbols]
        if not _has(self.ccxt_id).get("fetchTickers"):
            return await super().fetch_tickers(unified)
        raw = await self._call("fetch_tickers", unified)
        return {s: self._ticker(raw[s]) for s in unified if s in raw}

    async def fetch_order_book(self, symbol: str, *, limit: int = 20) -> OrderBook:
        unified = await self._symbol(symbol)
        raw = await self._call("fetch_order_book", unified, limit)
        return OrderBook(
            exchange=self.exchange_id,
            symbol=unified,
            bids=tuple((D(p), D(a)) for p, a, *_ in raw.get("bids", [])[:limit]),
            asks=tuple((D(p), D(a)) for p, a, *_ in raw.get("asks", [])[:limit]),
            timestamp=raw.get("timestamp"),
        )

    async def fetch_ohlcv(
        self, symbol: str, *, timeframe: str = "1m", since: int | None = None, limit: int = 100
    ) -> list[Candle]:
        unified = await self._symbol(symbol)
        rows = await self._call("fetch_ohlcv", unified, timeframe, since, limit)
        return [Candle(int(r[0]), D(r[1]), D(r[2]), D(r[3]), D(r[4]), D(r[5]) or Decimal(0)) for r in rows]

    # --- private data and trading --------------------------------------------------------
    async def fetch_balance(self) -> Balance:
        raw = await self._call("fetch_balance")
        assets = {}
        for asset, total in (raw.get("total") or {}).items():
            total = D(total) or Decimal(0)
            free = D((raw.get("free") or {}).get(asset)) or Decimal(0)
            used = D((raw.get("used") or {}).get(asset)) or Decimal(0)
            if total or free or used:
                assets[asset] = BalanceEntry(asset=asset, free=free, used=used, total=total or free + used)
        return Balance(exchange=self.exchange_id, assets=assets, timestamp=raw.get("timestamp"))

    def _order(self, raw: dict) -> Order:
        amount = D(raw.get("amount")) or Decimal(0)
        filled = D(raw.get("filled")) or Decimal(0)
        remaining = D(raw.get("remaining"))
        fees = tuple(
            Fee(currency=f.get("currency") or "", cost=D(f.get("cost")) or Decimal(0))
            for f in (raw.get("fees") or ([raw["fee"]] if raw.get("fee") else []))
            if f and f.get("cost") is not None
        )
        return Order(
            exchange=self.exchange_id,
            id=str(raw.get("id")),
            client_order_id=raw.get("clientOrderId"),
            symbol=raw.get("symbol") or "",
            side=Side(raw.get("side") or "buy"),
            type=_order_type(raw),
            status=_order_status(raw.get("status"), filled),
            amount=amount,
            filled=filled,
            remaining=remaining if remaining is not None else max(amount - filled, Decimal(0)),
            price=D(raw.get("price")),
            stop_price=D(raw.get("triggerPrice") or raw.get("stopPrice")),
            average=D(raw.get("average")),
            fees=fees,
            timestamp=raw.get("timestamp"),
        )

    def _create_params(self, *, type: OrderType, stop_price, client_order_id, time_in_force) -> dict:
        params = {"clientOrderId": client_order_id}
        if type in (OrderType.STOP, OrderType.STOP_LIMIT):
            if stop_price is None:
                raise InvalidOrder("a stop order needs stop_price", exchange=self.exchange_id)
            params["triggerPrice"] = float(stop_price)
        if time_in_force:
            params["timeInForce"] = time_in_force
        return params

    async def create_order(
        self,
        *,
        symbol: str,
        side: Side,
        type: OrderType,
        amount: Decimal,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        client_order_id: str | None = None,
        time_in_force: str | None = None,
        params: dict | None = None,
    ) -> Order:
        unified = await self._symbol(symbol)
        client_order_id = client_order_id or uuid.uuid4().hex
        ccxt_type = "limit" if type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else "market"
        if ccxt_type == "limit" and price is None:
            raise InvalidOrder("a limit order needs a price", exchange=self.exchange_id)
        request = self._create_params(
            type=type, stop_price=stop_price, client_order_id=client_order_id, time_in_force=time_in_force
        ) | (params or {})
        raw = await self._call(
            "create_order",
            unified,
            ccxt_type,
            str(side),
            float(amount),
            float(price) if price is not None else None,
            request,
        )
        order = self._order(raw)
        if not order.client_order_id or not order.symbol:
            # Some exchanges answer a placement with the id only: fill in what we sent.
            order = dataclasses.replace(
                order,
                client_order_id=order.client_order_id or client_order_id,
                symbol=order.symbol or unified,
                amount=order.amount or amount,
            )
        if raw.get("status") is None and order.id:
            # The answer says "accepted" and no more (OKX, Bybit ...): ask for the state, so a
            # market order that filled at once is not reported open until the next sync.
            with contextlib.suppress(ExchangeError):
                return await self.fetch_order(symbol=unified, order_id=order.id)
        return order

    async def fetch_order(
        self, *, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        unified = await self._symbol(symbol)
        if order_id:
            return self._order(await self._call("fetch_order", order_id, unified))
        if not client_order_id:
            raise OrderNotFound("an order id or a client order id is needed", exchange=self.exchange_id)
        if self.client_order_id_fetch_param:
            params = {self.client_order_id_fetch_param: client_order_id}
            return self._order(await self._call("fetch_order", None, unified, params))
        return await self._find_by_client_id(unified, client_order_id)

    async def _find_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        """No lookup by client id at this exchange: search open, then closed orders."""
        has = _has(self.ccxt_id)
        for method, capability in _ORDER_LISTS:
            if not has.get(capability):
                continue
            for raw in await self._call(method, symbol):
                if raw.get("clientOrderId") == client_order_id:
                    return self._order(raw)
        raise OrderNotFound(f"no order with client order id {client_order_id}", exchange=self.exchange_id)

    async def cancel_order(self, *, symbol: str, order_id: str) -> Order:
        unified = await self._symbol(symbol)
        raw = await self._call("cancel_order", order_id, unified)
        if not raw or raw.get("status") is None:
            return await self.fetch_order(symbol=unified, order_id=order_id)
        return self._order(raw)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        unified = await self._symbol(symbol) if symbol else None
        return [self._order(raw) for raw in await self._call("fetch_open_orders", unified)]

    async def fetch_closed_orders(self, symbol: str | None = None, *, since: int | None = None) -> list[Order]:
        """Finished orders: filled, canceled, expired or rejected (ccxt splits these up)."""
        unified = await self._symbol(symbol) if symbol else None
        has = _has(self.ccxt_id)
        methods = [m for m, capability in _FINISHED_LISTS if has.get(capability) is True]
        if "fetch_orders" in methods:
            methods = ["fetch_orders"]
        elif "fetch_canceled_and_closed_orders" in methods:
            methods = ["fetch_canceled_and_closed_orders"]
        if not methods:
            raise NotSupported("closed orders are not available", exchange=self.exchange_id)
        orders: dict[str, Order] = {}
        for method in methods:
            for raw in await self._call(method, unified, since):
                order = self._order(raw)
                if order.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    orders[order.id] = order
        return list(orders.values())

    async def fetch_my_trades(self, symbol: str | None = None, *, since: int | None = None) -> list[Trade]:
        unified = await self._symbol(symbol) if symbol else None
        trades = []
        for raw in await self._call("fetch_my_trades", unified, since):
            fee = raw.get("fee")
            trades.append(
                Trade(
                    exchange=self.exchange_id,
                    id=str(raw.get("id")),
                    order_id=raw.get("order"),
                    symbol=raw.get("symbol") or "",
                    side=Side(raw.get("side") or "buy"),
                    amount=D(raw.get("amount")) or Decimal(0),
                    price=D(raw.get("price")) or Decimal(0),
                    fee=Fee(fee.get("currency") or "", D(fee.get("cost")) or Decimal(0))
                    if fee and fee.get("cost") is not None
                    else None,
                    timestamp=raw.get("timestamp"),
                )
            )
        return trades

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        if not _has(self.ccxt_id).get("fetchPositions"):
            return []
        if not self.capabilities(await self.load_markets()).futures:
            return []  # no derivative markets listed: nothing can be held as a position
        unified = [await self._symbol(s) for s in symbols] if symbols else None
        positions = []
        for raw in await self._call("fetch_positions", unified):
            contracts = D(raw.get("contracts")) or Decimal(0)
            if not contracts:
                continue
            positions.append(
                Position(
                    exchange=self.exchange_id,
                    symbol=raw.get("symbol") or "",
                    side=raw.get("side") or "long",
                    contracts=contracts,
                    entry_price=D(raw.get("entryPrice")),
                    mark_price=D(raw.get("markPrice")),
                    unrealized_pnl=D(raw.get("unrealizedPnl")),
                    leverage=D(raw.get("leverage")),
                    liquidation_price=D(raw.get("liquidationPrice")),
                )
            )
        return positions

    async def set_leverage(self, *, symbol: str, leverage: int) -> None:
        if not _has(self.ccxt_id).get("setLeverage"):
            raise NotSupported("leverage is not available", exchange=self.exchange_id)
        await self._call("set_leverage", leverage, await self._symbol(symbol))

    async def fetch_status(self) -> str | None:
        if not _has(self.ccxt_id).get("fetchStatus"):
            return None
        raw = await self._call("fetch_status")
        return (raw or {}).get("status")

    async def close(self) -> None:
        """Pooled instances outlive an adapter; ccxt_pool.close_all() closes them."""


_FINISHED_LISTS = (
    ("fetch_orders", "fetchOrders"),
    ("fetch_canceled_and_closed_orders", "fetchCanceledAndClosedOrders"),
    ("fetch_closed_orders", "fetchClosedOrders"),
    ("fetch_canceled_orders", "fetchCanceledOrders"),
)
_ORDER_LISTS = (
    ("fetch_open_orders", "fetchOpenOrders"),
    ("fetch_closed_orders", "fetchClosedOrders"),
    ("fetch_orders", "fetchOrders"),
)


def _has(ccxt_id: str) -> dict:
    """ccxt's static ``has`` of an exchange class (no network)."""
    return ccxt_describe(ccxt_id)["has"]


def _order_status(status: str | None, filled: Decimal) -> OrderStatus:
    if status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    return {
        "closed": OrderStatus.FILLED,
        "canceled": OrderStatus.CANCELED,
        "cancelled": OrderStatus.CANCELED,
        "expired": OrderStatus.EXPIRED,
        "rejected": OrderStatus.REJECTED,
    }.get(status or "", OrderStatus.OPEN)


def _order_type(raw: dict) -> OrderType:
    kind = (raw.get("type") or "market").lower()
    has_trigger = raw.get("triggerPrice") or raw.get("stopPrice")
    if kind in _STOP_LIMIT_TYPES or (kind == "limit" and has_trigger):
        return OrderType.STOP_LIMIT
    if kind in _STOP_TYPES or (kind == "market" and has_trigger):
        return OrderType.STOP
    return OrderType.LIMIT if kind == "limit" else OrderType.MARKET
