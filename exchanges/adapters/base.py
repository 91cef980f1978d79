"""The adapter interface: every exchange, ccxt-backed or not, looks like this.

Adapters are async, take plain ``Credentials`` (never a model), return the dataclasses
of ``exchanges.adapters.types`` and raise only ``exchanges.adapters.errors``.
"""

from __future__ import annotations

import contextvars
import functools
import time
from abc import ABC, abstractmethod
from decimal import Decimal

from exchanges.adapters.errors import ExchangeError, NotSupported
from exchanges.adapters.types import (
    Balance,
    Candle,
    Capabilities,
    ConnectionTest,
    Credentials,
    Market,
    Order,
    OrderBook,
    OrderType,
    Position,
    Side,
    Ticker,
    Trade,
)

#: the calls that reach an exchange: each runs under the shared circuit breakers and has its
#: outcome recorded (exchanges.resilience), whichever adapter implements it
GUARDED_METHODS = (
    "load_markets", "fetch_ticker", "fetch_tickers", "fetch_order_book", "fetch_ohlcv", "fetch_balance",
    "create_order", "fetch_order", "cancel_order", "fetch_open_orders", "fetch_closed_orders",
    "fetch_my_trades", "fetch_positions", "set_leverage", "fetch_status",
)  # fmt: skip
_inside_guard = contextvars.ContextVar("inside_exchange_guard", default=False)


def _guarded(method):
    """One guard per outer call: calls an adapter makes to itself inside it are not counted twice."""

    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        if self.uses_django_db or _inside_guard.get():
            return await method(self, *args, **kwargs)
        if method.__name__ == "load_markets" and not kwargs.get("reload") and self.markets_cached():
            return await method(self, *args, **kwargs)  # no request: neither success nor failure
        from exchanges.resilience import adapter_keys, guarded

        token = _inside_guard.set(True)
        try:
            keys = adapter_keys(self, method.__name__)
            async with guarded(**keys, check_on_first_request=self.requests_check_breakers):
                return await method(self, *args, **kwargs)
        finally:
            _inside_guard.reset(token)

    wrapper.is_guarded = True
    return wrapper


class ExchangeAdapter(ABC):
    #: the registry id, e.g. "binance", "robinhood", "paper"
    exchange_id: str = ""
    #: a human name for the catalog
    name: str = ""
    #: which credential fields (ccxt names) the exchange needs
    required_credentials: tuple[str, ...] = ("apiKey", "secret")
    #: the adapter reads the Django database itself (paper): sync callers must run it on
    #: their own thread, where Django's thread-sensitive database calls can reach them
    uses_django_db: bool = False
    #: even prices need the account's keys (Robinhood signs every request): public data
    #: then comes per connection instead of once per exchange
    public_data_needs_credentials: bool = False
    #: every request the adapter sends asks the call's circuit breakers first, with its shared
    #: budget (exchanges.resilience.ccxt_budget): the guard then leaves its check to them
    requests_check_breakers: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in GUARDED_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "is_guarded", False):
                setattr(cls, name, _guarded(method))

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_base_url: str | None = None,
        testnet: bool = False,
        options: dict | None = None,
    ):
        self.credentials = credentials or Credentials()
        self.api_base_url = api_base_url or None
        self.testnet = testnet
        self.options = options or {}

    # --- markets and symbols -------------------------------------------------------
    @abstractmethod
    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """Unified symbol -> Market. Loaded once and reused."""

    def markets_cached(self) -> bool:
        """True when load_markets would answer from memory, without asking the exchange."""
        return False

    def cached_markets(self) -> dict[str, Market] | None:
        """What load_markets would answer from memory, read without the event loop (sync
        callers skip the hop to the exchange loop); None when it would have to ask."""
        return None

    async def symbols(self) -> list[str]:
        return sorted(await self.load_markets())

    async def market(self, symbol: str) -> Market:
        from exchanges.adapters.errors import BadSymbol

        markets = await self.load_markets()
        unified = self.normalize_symbol(symbol, markets=markets)
        if unified not in markets:
            raise BadSymbol(f"{symbol} is not listed", exchange=self.exchange_id)
        return markets[unified]

    def normalize_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        """Any accepted spelling (BTC/USDT, BTC-USD, BTCUSDT, XBTUSD) -> the unified form."""
        from exchanges.symbols import normalize

        return normalize(symbol, exchange_id=self.exchange_id, markets=markets)

    def exchange_symbol(self, symbol: str, *, markets: dict[str, Market] | None = None) -> str:
        """The unified form -> this exchange's own market id."""
        from exchanges.symbols import to_exchange

        return to_exchange(symbol, exchange_id=self.exchange_id, markets=markets)

    @abstractmethod
    def capabilities(self, markets: dict[str, Market] | None = None) -> Capabilities:
        """What the exchange can do; ``markets`` (when loaded) refine it."""

    # --- public data ---------------------------------------------------------------
    @abstractmethod
    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        """Many tickers; adapters with a batch endpoint override this."""
        return {symbol: await self.fetch_ticker(symbol) for symbol in symbols}

    @abstractmethod
    async def fetch_order_book(self, symbol: str, *, limit: int = 20) -> OrderBook: ...

    async def fetch_ohlcv(
        self, symbol: str, *, timeframe: str = "1m", since: int | None = None, limit: int = 100
    ) -> list[Candle]:
        raise NotSupported("OHLCV is not available", exchange=self.exchange_id)

    # --- private data and trading ----------------------------------------------------
    @abstractmethod
    async def fetch_balance(self) -> Balance: ...

    @abstractmethod
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
    ) -> Order: ...

    @abstractmethod
    async def fetch_order(
        self, *, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """By the exchange's id, or by our client order id when the id is not known."""

    @abstractmethod
    async def cancel_order(self, *, symbol: str, order_id: str) -> Order: ...

    @abstractmethod
    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    async def fetch_closed_orders(self, symbol: str | None = None, *, since: int | None = None) -> list[Order]:
        raise NotSupported("closed orders are not available", exchange=self.exchange_id)

    async def fetch_my_trades(self, symbol: str | None = None, *, since: int | None = None) -> list[Trade]:
        raise NotSupported("trade history is not available", exchange=self.exchange_id)

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return []  # spot-only exchanges hold no positions

    async def set_leverage(self, *, symbol: str, leverage: int) -> None:
        raise NotSupported("leverage is not available", exchange=self.exchange_id)

    async def fetch_status(self) -> str | None:
        """What the exchange says of itself: "ok", "maintenance" ... or None where it says nothing."""
        return None

    # --- lifecycle ---------------------------------------------------------------------
    async def test_connection(self) -> ConnectionTest:
        """Load markets (public), then the balance (private): ok, latency and the reason if not.

        Public data working while the private call fails is ``limited`` (e.g. keys without
        the right permissions): prices can be shown, trading cannot.
        """
        started = time.perf_counter()
        try:
            await self.load_markets()
        except ExchangeError as exc:
            return ConnectionTest(ok=False, latency_ms=_ms(started), error=str(exc), error_code=exc.code)
        if any(self.credentials.values()):
            try:
                await self.fetch_balance()
            except ExchangeError as exc:
                return ConnectionTest(
                    ok=False, latency_ms=_ms(started), error=str(exc), error_code=exc.code, limited=True
                )
        return ConnectionTest(ok=True, latency_ms=_ms(started))

    async def close(self) -> None:  # noqa: B027  (a hook: adapters without sessions need nothing)
        """Release network resources (sessions). The adapter may be reused until closed."""


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


for _name in GUARDED_METHODS:  # the base class's own default implementations too
    if _name in ExchangeAdapter.__dict__ and not getattr(ExchangeAdapter.__dict__[_name], "is_guarded", False):
        setattr(ExchangeAdapter, _name, _guarded(ExchangeAdapter.__dict__[_name]))
