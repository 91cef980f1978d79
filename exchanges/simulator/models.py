"""The simulator's records: accounts with balances, orders and their fills. Amounts are Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Status(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


OPEN_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED)


@dataclass
class Account:
    """One API key on one exchange. ``private_key`` is kept only for key pairs the simulator made."""

    exchange: str
    api_key: str
    secret: str = field(default="", repr=False)  # fake keys, but kept out of test output all the same
    passphrase: str = field(default="", repr=False)
    public_key: str = ""  # Robinhood: base64 of the raw 32-byte Ed25519 public key
    private_key: str = field(default="", repr=False)  # Robinhood: base64 of the raw 32-byte seed, when made here
    number: str = ""  # the account number (Robinhood) / uid (Binance, OKX)
    status: str = "active"
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)

    def credentials(self) -> dict[str, str]:
        """The ccxt-named credentials a client needs for this account."""
        values = {"apiKey": self.api_key, "secret": self.secret, "password": self.passphrase}
        values["privateKey"] = self.private_key
        return {name: value for name, value in values.items() if value}

    def total(self, asset: str) -> Decimal:
        return self.free.get(asset, ZERO) + self.locked.get(asset, ZERO)

    def move(self, asset: str, *, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        self.free[asset] = self.free.get(asset, ZERO) + free
        self.locked[asset] = self.locked.get(asset, ZERO) + locked


@dataclass(frozen=True)
class Fill:
    id: int
    order_id: str
    api_key: str
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_asset: str
    maker: bool
    timestamp: int  # ms

    @property
    def cost(self) -> Decimal:
        return self.price * self.amount


@dataclass
class Order:
    id: str
    api_key: str
    client_order_id: str
    symbol: str
    side: str  # buy / sell
    type: str  # market / limit
    amount: Decimal | None  # base; None for a market order by quote amount until it has filled
    created_at: int  # ms
    quote_amount: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger: str | None = None  # stop_loss / take_profit: waits for the price to reach stop_price
    time_in_force: str = "GTC"
    post_only: bool = False
    status: Status = Status.NEW
    filled: Decimal = ZERO
    cost: Decimal = ZERO  # quote spent or received, before fees
    updated_at: int = 0
    visible_at: int = 0  # ms; before it the exchange does not report the order (a lagging replica)
    triggered: bool = True
    locked: Decimal = ZERO  # funds this order holds in the account: quote for a buy, base for a sell
    fills: list[Fill] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # protocol details to echo back (tags, configs)

    @property
    def remaining(self) -> Decimal:
        return ZERO if self.amount is None else self.amount - self.filled

    @property
    def average(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def fee(self) -> Decimal:
        return sum((fill.fee for fill in self.fills), ZERO)

    @property
    def fee_asset(self) -> str | None:
        return self.fills[-1].fee_asset if self.fills else None

    @property
    def last_fill_at(self) -> int | None:
        return self.fills[-1].timestamp if self.fills else None
