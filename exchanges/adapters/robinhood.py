"""Robinhood Crypto Trading API adapter (Robinhood is not in ccxt).

API reference: https://docs.robinhood.com/crypto/trading/ (v1). Every request is signed
(see ``robinhood_signing``), market data included. Prices and quantities are parsed
straight from the JSON text into ``Decimal`` (the API sends some of them as JSON numbers),
so no float is ever created.

Choices where Robinhood differs from an order-book exchange:

- Robinhood has no order book. ``fetch_order_book`` returns one level per side: the best
  bid / ask (spread included, i.e. what a sell / buy would get) with the pair's
  ``max_order_size`` as the amount, because Robinhood fills any single order up to that size
  at its quote. ``estimated_price`` gives an average fill price for a quantity, not depth,
  so it is not used to invent further levels.
- Fees are built into the spread; orders report none, so ``Order.fees`` is empty.
- Trades are the ``executions`` of orders; executions carry no id, so a trade id is
  ``"{order_id}-{index}"``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from yarl import URL

from exchanges.adapters.base import ExchangeAdapter
from exchanges.adapters.errors import (
    AuthenticationFailed,
    BadSymbol,
    ClockSkew,
    ExchangeConnectionError,
    ExchangeError,
    ExchangeTimeout,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    RateLimited,
)
from exchanges.adapters.registry import register
from exchanges.adapters.robinhood_signing import RequestSigner
from exchanges.adapters.types import (
    Balance,
    BalanceEntry,
    Capabilities,
    ConnectionTest,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
    Trade,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://trading.robinhood.com"
DEFAULT_TIMEOUT = 10.0  # seconds, per request
MAX_PAGES = 200  # a guard against a pagination loop
TICKER_BATCH = 50  # symbols per best_bid_ask request

ACCOUNTS = "/api/v1/crypto/trading/accounts/"
TRADING_PAIRS = "/api/v1/crypto/trading/trading_pairs/"
HOLDINGS = "/api/v1/crypto/trading/holdings/"
BEST_BID_ASK = "/api/v1/crypto/marketdata/best_bid_ask/"
ORDERS = "/api/v1/crypto/trading/orders/"

ORDER_TYPES = {  # ours -> Robinhood's; the order config key is f"{type}_order_config"
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop_loss",
    OrderType.STOP_LIMIT: "stop_limit",
}
ORDER_TYPES_BACK = {value: key for key, value in ORDER_TYPES.items()}
STATES = {
    "open": OrderStatus.OPEN,
    "pending": OrderStatus.OPEN,
    "queued": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "failed": OrderStatus.REJECTED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}
TERMINAL = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
TIME_IN_FORCE = {"gtc", "gfd", "gfw", "gfm"}
KNOWN_QUOTES = ("USDC", "USDT", "USD", "EUR", "BTC", "ETH")  # for BTCUSD without loaded markets
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_INSUFFICIENT = re.compile(r"insufficient|not enough|buying power|exceeds? (your )?(available|holdings|balance)")
_SYMBOL_WORDS = re.compile(r"symbol|trading pair|currency pair")
_UNKNOWN_WORDS = re.compile(r"invalid|unknown|unsupported|not (a valid|supported|found|tradable|listed)|does not exist")
_MISSING_HEADERS = re.compile(r"required headers|x-api-key|x-signature|x-timestamp")


@register("robinhood", name="Robinhood", regions=("us",))
class RobinhoodAdapter(ExchangeAdapter):
    required_credentials = ("apiKey", "privateKey")
    public_data_needs_credentials = True  # market data endpoints are signed too

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "timeout_ms" is what the factory passes every adapter (ccxt's unit); "timeout" is in seconds.
        if "timeout_ms" in self.options:
            self.timeout = float(self.options["timeout_ms"]) / 1000
        else:
            self.timeout = float(self.options.get("timeout", DEFAULT_TIMEOUT))
        # Robinhood has no testnet: "testnet" without an api_base_url must never reach production.
        self._base_url = None if self.testnet and not self.api_base_url else _base_url(self.api_base_url)
        self._session: aiohttp.ClientSession | None = None
        self._signer: RequestSigner | None = None
        self._markets: dict[str, Market] | None = None
        self._max_order_size: dict[str, Decimal | None] = {}

    async def __aenter__(self) -> RobinhoodAdapter:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # --- markets and symbols -------------------------------------------------------
    def markets_cached(self) -> bool:
        return self._markets is not None

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        if self._markets is not None and not reload:
            return self._markets
        markets: dict[str, Market] = {}
        max_sizes: dict[str, Decimal | None] = {}
        for pair in await self._paginate(TRADING_PAIRS):
            market = self._parse_market(pair)
            if market is not None:
                markets[market.symbol] = market
                max_sizes[market.symbol] = _dec(pair.get("max_order_size"))
        self._markets, self._max_order_size = markets, max_sizes
        return markets

    def normalize_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        """BTC/USD, BTC-USD, btc_usd or BTCUSD -> BTC/USD (loaded markets first, then by shape)."""
        markets = markets if markets is not None else self._markets
        text = (symbol or "").strip().upper()
        if markets:
            if text in markets:
                return text
            for market in markets.values():
                if text in (market.id.upper(), f"{market.base}{market.quote}"):
                    return market.symbol
        parts = re.split(r"[/\-_:]", text)
        if len(parts) == 2 and all(parts):
            return f"{parts[0]}/{parts[1]}"
        for quote_code in KNOWN_QUOTES:
            if text.endswith(quote_code) and len(text) > len(quote_code) and text.isalnum():
                return f"{text[: -len(quote_code)]}/{quote_code}"
        raise BadSymbol(f"cannot read the symbol {symbol!r}", exchange=self.exchange_id)

    def exchange_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        """Unified -> Robinhood's id (BTC-USD). With markets loaded, an unlisted symbol is a BadSymbol."""
        markets = markets if markets is not None else self._markets
        unified = self.normalize_symbol(symbol, markets=markets)
        if markets:
            if unified not in markets:
                raise BadSymbol(f"{symbol} is not listed", exchange=self.exchange_id)
            return markets[unified].id
        return unified.replace("/", "-")

    def _unified_from_id(self, market_id: str | None) -> str:
        if not market_id:
            return ""
        try:
            return self.normalize_symbol(market_id)
        except BadSymbol:
            return market_id

    def capabilities(self, markets: dict[str, Market] | None = None) -> Capabilities:
        return Capabilities(
            spot=True,
            futures=False,
            margin=False,
            stop_loss=True,  # stop_loss_order_config / stop_limit_order_config
            take_profit=False,
            advanced_orders=False,
            websocket=False,
            fetch_tickers=True,  # best_bid_ask takes the symbol parameter repeated
            client_order_id=True,
        )

    # --- public data ---------------------------------------------------------------
    async def fetch_ticker(self, symbol: str) -> Ticker:
        market_id = self.exchange_symbol(symbol)
        tickers = await self._best_bid_ask([market_id])
        if market_id not in tickers:
            raise BadSymbol(f"no quote for {symbol}", exchange=self.exchange_id)
        return tickers[market_id]

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        ids = list(dict.fromkeys(self.exchange_symbol(symbol) for symbol in symbols))
        tickers: dict[str, Ticker] = {}
        for start in range(0, len(ids), TICKER_BATCH):
            found = await self._best_bid_ask(ids[start : start + TICKER_BATCH])
            tickers.update({ticker.symbol: ticker for ticker in found.values()})
        return tickers

    async def fetch_order_book(self, symbol: str, *, limit: int = 20) -> OrderBook:
        """One level per side from best bid / ask; the amount is the pair's max order size."""
        markets = await self.load_markets()
        unified = self.normalize_symbol(symbol, markets=markets)
        ticker = await self.fetch_ticker(unified)
        size = self._max_order_size.get(unified) or Decimal(0)
        return OrderBook(
            exchange=self.exchange_id,
            symbol=ticker.symbol,
            bids=((ticker.bid, size),) if ticker.bid is not None and limit > 0 else (),
            asks=((ticker.ask, size),) if ticker.ask is not None and limit > 0 else (),
            timestamp=ticker.timestamp,
        )

    async def _best_bid_ask(self, market_ids: list[str]) -> dict[str, Ticker]:
        data = await self._request("GET", BEST_BID_ASK, params=[("symbol", market_id) for market_id in market_ids])
        tickers = {}
        for row in data.get("results") or []:
            market_id = row.get("symbol")
            tickers[market_id] = Ticker(
                exchange=self.exchange_id,
                symbol=self._unified_from_id(market_id),
                price=_dec(row.get("price")),
                bid=_dec(row.get("bid_inclusive_of_sell_spread")),
                ask=_dec(row.get("ask_inclusive_of_buy_spread")),
                volume=None,  # Robinhood publishes no volume
                timestamp=_timestamp(row.get("timestamp")),
            )
        return tickers

    # --- private data --------------------------------------------------------------
    async def fetch_balance(self) -> Balance:
        account = await self._request("GET", ACCOUNTS)
        assets: dict[str, BalanceEntry] = {}
        cash = _dec(account.get("buying_power"))
        currency = account.get("buying_power_currency") or "USD"
        if cash:
            assets[currency] = BalanceEntry(asset=currency, free=cash, used=Decimal(0), total=cash)
        for holding in await self._paginate(HOLDINGS):
            total = _dec(holding.get("total_quantity")) or Decimal(0)
            if not total:
                continue
            free = _dec(holding.get("quantity_available_for_trading"))
            free = total if free is None else min(free, total)
            asset = holding.get("asset_code") or ""
            assets[asset] = BalanceEntry(asset=asset, free=free, used=total - free, total=total)
        return Balance(exchange=self.exchange_id, assets=assets, timestamp=time.time_ns() // 1_000_000)

    # --- trading -------------------------------------------------------------------
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
        """Places the order; ``client_order_id`` is always sent (a uuid4 when not given)."""
        try:
            side, type = Side(side), OrderType(type)
        except ValueError:
            raise InvalidOrder(f"unknown side {side!r} or order type {type!r}", exchange=self.exchange_id) from None
        body = {
            "client_order_id": client_order_id or str(uuid.uuid4()),
            "side": side.value,
            "type": ORDER_TYPES[type],
            "symbol": self.exchange_symbol(symbol),
        }
        body[f"{body['type']}_order_config"] = self._order_config(
            type, amount=amount, price=price, stop_price=stop_price, time_in_force=time_in_force
        )
        return self._parse_order(await self._request("POST", ORDERS, body=body))

    def _order_config(
        self,
        order_type: OrderType,
        *,
        amount: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
        time_in_force: str | None,
    ) -> dict[str, str]:
        config = {"asset_quantity": self._amount("amount", amount)}
        if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            if price is None:
                raise InvalidOrder(f"a {order_type} order needs a price", exchange=self.exchange_id)
            config["limit_price"] = self._amount("price", price)
        if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
            if stop_price is None:
                raise InvalidOrder(f"a {order_type} order needs a stop price", exchange=self.exchange_id)
            config["stop_price"] = self._amount("stop price", stop_price)
        if order_type != OrderType.MARKET:
            tif = (time_in_force or "gtc").lower()
            if tif not in TIME_IN_FORCE:
                raise InvalidOrder(f"time in force {time_in_force!r} is not offered", exchange=self.exchange_id)
            config["time_in_force"] = tif
        return config

    def _amount(self, what: str, value: Decimal) -> str:
        """A positive Decimal as plain text (never via float, never in exponent notation)."""
        if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
            raise InvalidOrder(f"{what} must be a Decimal, not {type(value).__name__}", exchange=self.exchange_id)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise InvalidOrder(f"{what} is not a number", exchange=self.exchange_id) from None
        if not number.is_finite() or number <= 0:
            raise InvalidOrder(f"{what} must be positive", exchange=self.exchange_id)
        return _plain(number)

    async def fetch_order(
        self, *, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        if order_id:
            return self._parse_order(await self._request("GET", self._order_path(order_id), order_lookup=True))
        if not client_order_id:
            raise InvalidOrder("an order id or a client order id is needed", exchange=self.exchange_id)
        params = [("symbol", self.exchange_symbol(symbol))] if symbol else []
        async for row in self._iterate(ORDERS, params):
            if row.get("client_order_id") == client_order_id:
                return self._parse_order(row)
        raise OrderNotFound(f"no order with client order id {client_order_id}", exchange=self.exchange_id)

    async def cancel_order(self, *, symbol: str, order_id: str) -> Order:
        """Requests the cancellation, then returns the order as Robinhood reports it.

        Cancelling is asynchronous at Robinhood: the order may still read ``open`` for a moment.
        An order that had already finished is returned as it is instead of an error.
        """
        path = self._order_path(order_id)
        try:
            await self._request("POST", f"{path}cancel/", order_lookup=True, expect_json=False)
        except InvalidOrder:
            order = await self.fetch_order(symbol=symbol, order_id=order_id)
            if order.status in TERMINAL:
                return order
            raise
        return await self.fetch_order(symbol=symbol, order_id=order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        base = [("symbol", self.exchange_symbol(symbol))] if symbol else []
        rows = await self._paginate(ORDERS, [*base, ("state", "open")])
        rows += await self._paginate(ORDERS, [*base, ("state", "partially_filled")])
        # An order that moved from open to partially filled between the two calls appears twice.
        orders = {order.id: order for order in map(self._parse_order, rows)}
        return _by_time(order for order in orders.values() if order.status not in TERMINAL)

    async def fetch_closed_orders(self, symbol: str | None = None, *, since: int | None = None) -> list[Order]:
        params = [("symbol", self.exchange_symbol(symbol))] if symbol else []
        if since is not None:
            params.append(("created_at_start", _iso(since)))
        orders = (self._parse_order(row) for row in await self._paginate(ORDERS, params))
        return _by_time(order for order in orders if order.status in TERMINAL)

    async def fetch_my_trades(self, symbol: str | None = None, *, since: int | None = None) -> list[Trade]:
        """The executions of the account's orders (an order updated since ``since`` may hold newer fills)."""
        params = [("symbol", self.exchange_symbol(symbol))] if symbol else []
        if since is not None:
            params.append(("updated_at_start", _iso(since)))
        trades = []
        for row in await self._paginate(ORDERS, params):
            for trade in self._parse_trades(row):
                if since is None or (trade.timestamp is not None and trade.timestamp >= since):
                    trades.append(trade)
        return sorted(trades, key=lambda trade: (trade.timestamp or 0, trade.id))

    def _order_path(self, order_id: str) -> str:
        if not ORDER_ID.match(order_id or ""):
            raise OrderNotFound(f"{order_id!r} is not a Robinhood order id", exchange=self.exchange_id)
        return f"{ORDERS}{quote(order_id)}/"

    # --- lifecycle -----------------------------------------------------------------
    async def test_connection(self) -> ConnectionTest:
        """One signed call to accounts/: checks the keys, the signature and the clock."""
        started = time.perf_counter()
        try:
            await self._request("GET", ACCOUNTS)
        except ExchangeError as exc:
            return ConnectionTest(ok=False, latency_ms=_ms(started), error=str(exc), error_code=exc.code)
        return ConnectionTest(ok=True, latency_ms=_ms(started))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # --- parsing -------------------------------------------------------------------
    def _parse_market(self, pair: dict) -> Market | None:
        market_id = pair.get("symbol") or ""
        base, quote_code = pair.get("asset_code"), pair.get("quote_code")
        if not (base and quote_code) and "-" in market_id:
            base, quote_code = market_id.split("-", 1)
        if not (base and quote_code):
            return None
        return Market(
            symbol=f"{base}/{quote_code}",
            id=market_id or f"{base}-{quote_code}",
            base=base,
            quote=quote_code,
            type="spot",
            active=pair.get("status", "tradable") == "tradable",
            amount_precision=_dec(pair.get("asset_increment")),
            price_precision=_dec(pair.get("quote_increment")),
            min_amount=_dec(pair.get("min_order_size")),
        )

    def _parse_order(self, row: dict) -> Order:
        rh_type = row.get("type") or "market"
        config = row.get(f"{rh_type}_order_config") or {}
        executions = row.get("executions") or []
        filled = _dec(row.get("filled_asset_quantity"))
        if filled is None:
            filled = sum((_dec(e.get("quantity")) or Decimal(0) for e in executions), Decimal(0))
        amount = _dec(config.get("asset_quantity"))
        if amount is None:  # an order placed by quote amount elsewhere: only the filled part is known
            amount = filled
        return Order(
            exchange=self.exchange_id,
            id=str(row.get("id") or ""),
            client_order_id=row.get("client_order_id"),
            symbol=self._unified_from_id(row.get("symbol")),
            side=self._side(row),
            type=ORDER_TYPES_BACK.get(rh_type, OrderType.MARKET),
            status=STATES.get(row.get("state") or "", OrderStatus.OPEN),
            amount=amount,
            filled=filled,
            remaining=max(amount - filled, Decimal(0)),
            price=_dec(config.get("limit_price")),
            stop_price=_dec(config.get("stop_price")),
            average=_dec(row.get("average_price")) or _average(executions),
            fees=(),  # Robinhood's fee is in the spread; orders report none
            timestamp=_timestamp(row.get("created_at")),
        )

    def _side(self, row: dict) -> Side:
        try:
            return Side(row.get("side"))
        except ValueError:
            raise ExchangeError(f"order {row.get('id')} has an unknown side", exchange=self.exchange_id) from None

    def _parse_trades(self, row: dict) -> list[Trade]:
        trades = []
        for index, execution in enumerate(row.get("executions") or []):
            amount, price = _dec(execution.get("quantity")), _dec(execution.get("effective_price"))
            if not amount or price is None:
                continue
            trades.append(
                Trade(
                    exchange=self.exchange_id,
                    id=f"{row.get('id')}-{index}",
                    order_id=row.get("id"),
                    symbol=self._unified_from_id(row.get("symbol")),
                    side=self._side(row),
                    amount=amount,
                    price=price,
                    fee=None,
                    timestamp=_timestamp(execution.get("timestamp")),
                )
            )
        return trades

    # --- HTTP ----------------------------------------------------------------------
    async def _paginate(self, path: str, params: list[tuple[str, str]] | None = None) -> list[dict]:
        return [row async for row in self._iterate(path, params)]

    async def _iterate(self, path: str, params: list[tuple[str, str]] | None = None):
        """Rows of a paginated list, following ``next`` (a full URL with a cursor)."""
        target: str | None = _with_query(path, params)
        seen: set[str] = set()
        while target and target not in seen and len(seen) < MAX_PAGES:
            seen.add(target)
            page = await self._request("GET", target)
            for row in page.get("results") or []:
                yield row
            target = _next_target(page.get("next"))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: dict | None = None,
        order_lookup: bool = False,
        expect_json: bool = True,
    ):
        """One signed request. ``path`` may already carry a query string (pagination)."""
        if self._base_url is None:
            raise NotSupported("Robinhood has no testnet; set api_base_url to a simulator", exchange=self.exchange_id)
        target = _with_query(path, params)
        text = json.dumps(body) if body is not None else ""
        headers = self._signer_get().headers(path=target, method=method, body=text)
        if text:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            session = self._session_get()
            async with session.request(
                method, URL(self._base_url + target, encoded=True), data=text.encode() or None, headers=headers
            ) as response:
                status, raw, retry_after = response.status, await response.text(), response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ExchangeTimeout(
                f"no answer within {self.timeout:g}s ({method} {path})", exchange=self.exchange_id
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise ExchangeConnectionError(
                f"cannot connect ({method} {path}): {self._redact(str(exc))}", exchange=self.exchange_id
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            # The request may have reached Robinhood: for an order that must be looked up, not retried.
            error = ExchangeTimeout if method == "POST" else ExchangeConnectionError
            raise error(f"connection lost ({method} {path}): {type(exc).__name__}", exchange=self.exchange_id) from None
        logger.debug("robinhood %s %s -> %s in %s ms", method, path, status, _ms(started))
        if status >= 400:
            raise self._http_error(status, raw, retry_after=retry_after, order_lookup=order_lookup)
        if not expect_json:
            return raw
        try:
            return json.loads(raw, parse_float=Decimal) if raw.strip() else {}
        except ValueError:
            raise ExchangeError(
                f"unreadable answer to {method} {path} (HTTP {status})", exchange=self.exchange_id
            ) from None

    def _http_error(self, status: int, raw: str, *, retry_after: str | None, order_lookup: bool) -> ExchangeError:
        reason, attrs = _reason(raw)
        reason = self._redact(reason)[:500]
        lowered = reason.lower()
        message = f"HTTP {status}: {reason}" if reason else f"HTTP {status}"
        if "maintenance" in lowered:
            return ExchangeUnavailable(message, exchange=self.exchange_id)
        if status == 429:
            return RateLimited(message, exchange=self.exchange_id, retry_after=_retry_after(retry_after))
        if status in (408, 504):  # the request may have been executed
            return ExchangeTimeout(message, exchange=self.exchange_id)
        if status >= 500:
            return ExchangeUnavailable(message, exchange=self.exchange_id)
        if status == 401 and "timestamp" in lowered:
            return ClockSkew(message, exchange=self.exchange_id)
        if status in (401, 403) or (status == 400 and _MISSING_HEADERS.search(lowered)):
            return AuthenticationFailed(message, exchange=self.exchange_id)
        if status == 404 and order_lookup:
            return OrderNotFound(message, exchange=self.exchange_id)
        if status in (400, 422):
            if _INSUFFICIENT.search(lowered):
                return InsufficientFunds(message, exchange=self.exchange_id)
            if "symbol" in attrs or (_SYMBOL_WORDS.search(lowered) and _UNKNOWN_WORDS.search(lowered)):
                return BadSymbol(message, exchange=self.exchange_id)
            return InvalidOrder(message, exchange=self.exchange_id)
        return ExchangeError(message, exchange=self.exchange_id)

    def _redact(self, text: str) -> str:
        for secret in self.credentials.values():
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _signer_get(self) -> RequestSigner:
        if self._signer is None:
            self._signer = RequestSigner(api_key=self.credentials.apiKey, private_key_b64=self.credentials.privateKey)
        return self._signer

    def _session_get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), headers={"Accept": "application/json"}
            )
        return self._session


# --- helpers ---------------------------------------------------------------------------
def _base_url(api_base_url: str | None) -> str:
    """Scheme and host of ``api_base_url`` (plus a path prefix, if any) replace Robinhood's."""
    if not api_base_url:
        return DEFAULT_BASE_URL
    parts = urlsplit(api_base_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError("api_base_url must be an absolute URL such as http://127.0.0.1:8000")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _with_query(path: str, params: list[tuple[str, str]] | None) -> str:
    if not params:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode(params, safe=':,', quote_via=quote)}"


def _next_target(next_url: str | None) -> str | None:
    """Path and query of a ``next`` link: it is re-based on our own base URL (simulator, proxy)."""
    if not next_url:
        return None
    parts = urlsplit(next_url)
    if not parts.path.startswith("/api/"):
        return None
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _reason(raw: str) -> tuple[str, set[str]]:
    """The exchange's reason text and the fields it blames, from Robinhood's error envelope
    ``{"type": "validation_error", "errors": [{"detail": "...", "attr": "symbol"}]}`` or plain text."""
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        return " ".join(raw.split())[:500], set()
    details, attrs = [], set()
    if isinstance(data, dict):
        for error in data.get("errors") or []:
            if isinstance(error, dict):
                attr = error.get("attr")
                details.append(f"{error.get('detail', '')}" + (f" ({attr})" if attr else ""))
                if attr:
                    attrs.add(str(attr))
        for key in ("detail", "message", "error"):
            if not details and isinstance(data.get(key), str):
                details.append(data[key])
    elif isinstance(data, str):
        details.append(data)
    return "; ".join(details) or " ".join(raw.split())[:500], attrs


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def _dec(value) -> Decimal | None:
    """A JSON string, integer or (parsed as) Decimal -> Decimal; empty -> None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _average(executions: list[dict]) -> Decimal | None:
    quantity = cost = Decimal(0)
    for execution in executions:
        q, p = _dec(execution.get("quantity")), _dec(execution.get("effective_price"))
        if q and p is not None:
            quantity += q
            cost += q * p
    return cost / quantity if quantity else None


def _timestamp(value: str | None) -> int | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)  # exact, no float


def _iso(ms: int) -> str:
    return (EPOCH + timedelta(seconds=ms // 1000)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _by_time(orders) -> list[Order]:
    return sorted(orders, key=lambda order: (order.timestamp or 0, order.id))
