"""The paper exchange behind the common adapter interface: no keys, no network (unless it
follows a real exchange's prices), balances and orders in the database.

Options (``options=`` when constructing; the factory passes ``account_id``):

- ``account_id``: the ExchangeConnection id; private calls need it. The paper account is
  created on first use, funded with ``starting_balances``.
- ``starting_balances``: ``{"USDT": "100000", ...}`` for a new account (default 100 000
  USDT and 100 000 USD).
- ``price_source``: ``"simulated"``, ``"candles"``, ``"follow"``, ``"fixed"`` or a
  ``PriceSource`` object. Default: the account's setting, or ``"simulated"``.
- ``follow_exchange``: the exchange id to follow (default: the account's).
- ``follow_adapter``: an adapter object to follow instead of the factory's public adapter.
- ``fixed_prices``: ``{"BTC/USDT": "60000"}`` for the ``"fixed"`` source.
- ``seed``: the simulated market's seed (default 20240601: every process must agree).
- ``clock``: a callable returning seconds since the epoch (default ``time.time``).

Resting orders are matched whenever the account is looked at (balance, orders, placing,
cancelling) against the prices since it was last looked at.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.db import connection as db_connection

from exchanges.adapters.base import ExchangeAdapter
from exchanges.adapters.errors import (
    AuthenticationFailed,
    ExchangeError,
    ExchangeUnavailable,
    OrderNotFound,
)
from exchanges.adapters.registry import register
from exchanges.adapters.types import (
    Balance,
    BalanceEntry,
    Candle,
    Capabilities,
    ConnectionTest,
    Credentials,
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
from exchanges.paper.markets import EXCHANGE_ID, LISTINGS, MARKETS, listing_for, normalize_symbol, plain
from exchanges.paper.matching import OrderRequest
from exchanges.paper.models import PaperAccount, PaperOrder, PaperTrade
from exchanges.paper.pricing import PriceSource, source_named
from exchanges.paper.selectors import (
    paper_balances,
    paper_open_order_windows,
    paper_order_get,
    paper_orders,
    paper_trades,
)
from exchanges.paper.services import (
    MarketView,
    paper_account_ensure,
    paper_order_cancel,
    paper_order_place,
    paper_orders_match,
)

logger = logging.getLogger(__name__)

#: levels of the book a market order may walk
BOOK_DEPTH = 100


def _in_db_thread(func, kwargs):
    try:
        return func(**kwargs)
    finally:
        # Like the end of a request: a connection past CONN_MAX_AGE is closed. Not inside a
        # caller's transaction (a test's, or a service's), whose connection must stay.
        if db_connection.get_autocommit():
            close_old_connections()


async def _db(func, /, **kwargs):
    return await sync_to_async(_in_db_thread, thread_sensitive=True)(func, kwargs)


def _account_for(connection_id, starting_balances) -> PaperAccount:
    from django.core.exceptions import ValidationError

    from exchanges.models import ExchangeConnection

    connection = ExchangeConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        raise AuthenticationFailed(f"paper connection {connection_id} does not exist", exchange=EXCHANGE_ID)
    try:
        return paper_account_ensure(connection=connection, starting_balances=starting_balances)
    except ValidationError as exc:
        raise AuthenticationFailed("; ".join(exc.messages), exchange=EXCHANGE_ID) from None


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _decimal(value) -> Decimal | None:
    return None if value is None else value if isinstance(value, Decimal) else Decimal(str(value))


@register(EXCHANGE_ID, name="Paper trading", regions=("us", "eu", "global"))
class PaperAdapter(ExchangeAdapter):
    required_credentials = ()
    uses_django_db = True

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_base_url: str | None = None,
        testnet: bool = False,
        options: dict | None = None,
    ):
        super().__init__(credentials, api_base_url=api_base_url, testnet=testnet, options=options)
        self._clock = self.options.get("clock") or time.time
        self._account: PaperAccount | None = None
        self._source: PriceSource | None = None

    def _now(self) -> float:
        return float(self._clock())

    # --- markets ---------------------------------------------------------------------------------
    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        return dict(MARKETS)

    def normalize_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        return normalize_symbol(symbol)

    def exchange_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        return listing_for(symbol).market.id

    def capabilities(self, markets: dict[str, Market] | None = None) -> Capabilities:
        # Stop orders rest here, but the platform watches stop-loss / take-profit itself.
        return Capabilities(spot=True, stop_loss=True, take_profit=True, fetch_tickers=True, client_order_id=True)

    # --- where the account and the prices come from ------------------------------------------------
    async def _get_account(self) -> PaperAccount:
        if self._account is None:
            connection_id = self.options.get("account_id")
            if connection_id is None:
                raise AuthenticationFailed("a paper adapter needs options['account_id']", exchange=EXCHANGE_ID)
            self._account = await _db(
                _account_for, connection_id=connection_id, starting_balances=self.options.get("starting_balances")
            )
        return self._account

    async def _prices(self) -> PriceSource:
        if self._source is None:
            configured = self.options.get("price_source")
            if isinstance(configured, PriceSource):
                self._source = configured
                return configured
            name, follow = configured, self.options.get("follow_exchange", "")
            if name is None and self.options.get("account_id") is not None:
                account = await self._get_account()
                name, follow = account.price_source, follow or account.follow_exchange
            self._source = source_named(
                name or "simulated",
                seed=self.options.get("seed"),
                follow_exchange=follow,
                follow_adapter=self.options.get("follow_adapter"),
                fixed_prices=self.options.get("fixed_prices"),
            )
        return self._source

    async def _touch(self) -> PaperAccount:
        """Match the account's resting orders against the market since they were last looked at."""
        account = await self._get_account()
        windows = await _db(paper_open_order_windows, account=account)
        if not windows:
            return account
        now, source, trails = self._now(), await self._prices(), {}
        for symbol, since in windows.items():
            try:
                trails[symbol] = await source.trail(LISTINGS[symbol], since.timestamp(), now)
            except (ExchangeError, KeyError) as exc:  # no prices now: the orders wait for the next look
                logger.warning("paper: no prices for %s to match open orders: %s", symbol, exc)
        if trails:
            await _db(paper_orders_match, account=account, trails=trails, now=_dt(now))
        return account

    # --- public data ----------------------------------------------------------------------------------
    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await (await self._prices()).ticker(listing_for(symbol), self._now())

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        source, now = await self._prices(), self._now()
        return {symbol: await source.ticker(listing_for(symbol), now) for symbol in symbols}

    async def fetch_order_book(self, symbol: str, *, limit: int = 20) -> OrderBook:
        return await (await self._prices()).order_book(listing_for(symbol), self._now(), limit=limit)

    async def fetch_ohlcv(
        self, symbol: str, *, timeframe: str = "1m", since: int | None = None, limit: int = 100
    ) -> list[Candle]:
        source = await self._prices()
        return await source.ohlcv(listing_for(symbol), self._now(), timeframe=timeframe, since=since, limit=limit)

    # --- the account ------------------------------------------------------------------------------------
    async def fetch_balance(self) -> Balance:
        account = await self._touch()
        rows = await _db(paper_balances, account=account)
        assets = {
            row.asset: BalanceEntry(asset=row.asset, free=plain(row.free), used=plain(row.used), total=plain(row.total))
            for row in rows
            if row.total
        }
        return Balance(exchange=EXCHANGE_ID, assets=assets, timestamp=int(self._now() * 1000))

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
        listing = listing_for(symbol)
        account = await self._touch()
        if client_order_id:
            existing = await _db(paper_order_get, account=account, client_order_id=client_order_id)
            if existing is not None:
                return _order(existing)
        source, now = await self._prices(), self._now()
        book = await source.order_book(listing, now, limit=BOOK_DEPTH)
        if not book.bids or not book.asks:
            raise ExchangeUnavailable(f"no book for {listing.market.symbol}", exchange=EXCHANGE_ID)
        bid, ask = book.bids[0][0], book.asks[0][0]
        last = (bid + ask) / 2
        if type in (OrderType.STOP, OrderType.STOP_LIMIT):
            last = (await source.ticker(listing, now)).price or last
        request = OrderRequest(
            symbol=listing.market.symbol,
            side=side,
            type=type,
            amount=_decimal(amount),
            price=_decimal(price),
            stop_price=_decimal(stop_price),
            client_order_id=client_order_id or "",
            time_in_force=time_in_force or "GTC",
        )
        order = await _db(
            paper_order_place,
            account=account,
            market=listing.market,
            request=request,
            view=MarketView(book=book, bid=bid, ask=ask, last=last),
            now=_dt(now),
        )
        return _order(order)

    async def fetch_order(
        self, *, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        account = await self._touch()
        order = await _db(paper_order_get, account=account, order_id=order_id, client_order_id=client_order_id)
        if order is None or (symbol and normalize_symbol(symbol) != order.symbol):
            raise OrderNotFound(f"order {order_id or client_order_id} does not exist", exchange=EXCHANGE_ID)
        return _order(order)

    async def cancel_order(self, *, symbol: str, order_id: str) -> Order:
        account = await self._touch()
        order = await _db(paper_order_get, account=account, order_id=order_id)
        if order is None or (symbol and normalize_symbol(symbol) != order.symbol):
            raise OrderNotFound(f"order {order_id} does not exist", exchange=EXCHANGE_ID)
        return _order(await _db(paper_order_cancel, account=account, order_id=order_id, now=_dt(self._now())))

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        account = await self._touch()
        unified = normalize_symbol(symbol) if symbol else None
        return [_order(order) for order in await _db(paper_orders, account=account, symbol=unified, open=True)]

    async def fetch_closed_orders(self, symbol: str | None = None, *, since: int | None = None) -> list[Order]:
        account = await self._touch()
        unified = normalize_symbol(symbol) if symbol else None
        after = None if since is None else _dt(since / 1000)
        orders = await _db(paper_orders, account=account, symbol=unified, open=False, since=after)
        return [_order(order) for order in orders]

    async def fetch_my_trades(self, symbol: str | None = None, *, since: int | None = None) -> list[Trade]:
        account = await self._touch()
        unified = normalize_symbol(symbol) if symbol else None
        after = None if since is None else _dt(since / 1000)
        return [_trade(trade) for trade in await _db(paper_trades, account=account, symbol=unified, since=after)]

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return []  # spot only

    # --- lifecycle ------------------------------------------------------------------------------------
    async def test_connection(self) -> ConnectionTest:
        started = time.perf_counter()
        try:
            if self.options.get("account_id") is not None:
                await self._get_account()  # creates and funds the account on the first test
        except ExchangeError as exc:
            return ConnectionTest(ok=False, latency_ms=None, error=str(exc), error_code=exc.code)
        return ConnectionTest(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))

    async def close(self) -> None:
        if self._source is not None and not isinstance(self.options.get("price_source"), PriceSource):
            await self._source.close()
        self._source = None


# --- rows -> boundary dataclasses ------------------------------------------------------------------------
def _order(order: PaperOrder) -> Order:
    return Order(
        exchange=EXCHANGE_ID,
        id=str(order.id),
        client_order_id=order.client_order_id or None,
        symbol=order.symbol,
        side=Side(order.side),
        type=OrderType(order.type),
        status=OrderStatus(order.status),
        amount=plain(order.amount),
        filled=plain(order.filled),
        remaining=plain(order.remaining),
        price=plain(order.price),
        stop_price=plain(order.stop_price),
        average=plain(order.average),
        fees=(Fee(currency=order.fee_currency, cost=plain(order.fee)),) if order.fee else (),
        timestamp=_ms(order.created_at),
    )


def _trade(trade: PaperTrade) -> Trade:
    return Trade(
        exchange=EXCHANGE_ID,
        id=str(trade.id),
        order_id=str(trade.order_id),
        symbol=trade.symbol,
        side=Side(trade.side),
        amount=plain(trade.amount),
        price=plain(trade.price),
        fee=Fee(currency=trade.fee_currency, cost=plain(trade.fee)),
        timestamp=_ms(trade.created_at),
    )
