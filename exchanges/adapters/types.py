"""What crosses the adapter boundary: frozen dataclasses with Decimal amounts.

No float and no ccxt object ever leaves an adapter. Timestamps are integer milliseconds
since the epoch (UTC), as exchanges report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # stop-market: becomes a market order at stop_price
    STOP_LIMIT = "stop_limit"


class OrderStatus(StrEnum):
    """The exchange's view of an order, normalised (ccxt: open / closed / canceled / expired / rejected)."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Credentials:
    """Plain credentials under ccxt's names. ``repr`` never shows a value."""

    apiKey: str = ""
    secret: str = ""
    password: str = ""  # a passphrase (OKX, KuCoin, Coinbase Exchange ...)
    uid: str = ""
    privateKey: str = ""  # e.g. Robinhood's base64 Ed25519 private key
    walletAddress: str = ""  # DEXes on ccxt (e.g. hyperliquid)
    accountId: str = ""
    login: str = ""
    token: str = ""
    twofa: str = ""

    FIELDS = (
        "apiKey",
        "secret",
        "password",
        "uid",
        "privateKey",
        "walletAddress",
        "accountId",
        "login",
        "token",
        "twofa",
    )

    def __repr__(self) -> str:
        present = [name for name in self.FIELDS if getattr(self, name)]
        return f"Credentials(<{', '.join(present) or 'none'} set>)"

    __str__ = __repr__

    def values(self) -> list[str]:
        return [getattr(self, name) for name in self.FIELDS if getattr(self, name)]

    def as_ccxt(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.FIELDS if getattr(self, name)}


@dataclass(frozen=True)
class Capabilities:
    spot: bool = False
    futures: bool = False
    margin: bool = False
    stop_loss: bool = False
    take_profit: bool = False
    advanced_orders: bool = False  # OCO / attached TP+SL / trailing
    websocket: bool = False
    fetch_tickers: bool = False  # one call for many symbols
    client_order_id: bool = True

    def as_dict(self) -> dict[str, bool]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class Market:
    symbol: str  # unified: BTC/USDT
    id: str  # the exchange's own: BTCUSDT, BTC-USDT, XXBTZUSD
    base: str
    quote: str
    type: str = "spot"  # spot / swap / future / option
    active: bool = True
    amount_precision: Decimal | None = None  # a step, e.g. Decimal("0.00001")
    price_precision: Decimal | None = None
    min_amount: Decimal | None = None
    min_cost: Decimal | None = None
    taker_fee: Decimal | None = None
    maker_fee: Decimal | None = None


@dataclass(frozen=True)
class Ticker:
    exchange: str
    symbol: str
    price: Decimal | None  # last trade
    bid: Decimal | None
    ask: Decimal | None
    volume: Decimal | None  # base volume, 24 h
    timestamp: int | None


@dataclass(frozen=True)
class OrderBook:
    exchange: str
    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]  # (price, amount), best first
    asks: tuple[tuple[Decimal, Decimal], ...]
    timestamp: int | None


@dataclass(frozen=True)
class Candle:
    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class BalanceEntry:
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True)
class Balance:
    exchange: str
    assets: dict[str, BalanceEntry] = field(default_factory=dict)  # only non-zero totals
    timestamp: int | None = None

    def free(self, asset: str) -> Decimal:
        entry = self.assets.get(asset)
        return entry.free if entry else Decimal(0)


@dataclass(frozen=True)
class Fee:
    currency: str
    cost: Decimal


@dataclass(frozen=True)
class Order:
    exchange: str
    id: str
    client_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    status: OrderStatus
    amount: Decimal
    filled: Decimal
    remaining: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    average: Decimal | None = None
    fees: tuple[Fee, ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True)
class Trade:
    exchange: str
    id: str
    order_id: str | None
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Fee | None
    timestamp: int | None


@dataclass(frozen=True)
class Position:
    exchange: str
    symbol: str
    side: str  # long / short
    contracts: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    latency_ms: float | None
    error: str | None = None
    error_code: str | None = None  # the error class, e.g. "authentication"
    limited: bool = False  # public data works but something (e.g. trading rights) does not
