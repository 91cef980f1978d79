"""The object tests and benchmarks drive: exchanges, accounts, prices, faults and counters."""

from __future__ import annotations

import base64
import itertools
import secrets
import string
import time
import uuid
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchanges.simulator.counters import RequestCounter
from exchanges.simulator.engine import Venue
from exchanges.simulator.faults import Fault, FaultSet
from exchanges.simulator.limits import RateLimits
from exchanges.simulator.markets import BINANCE, OKX, PROTOCOLS, ROBINHOOD, VENUES
from exchanges.simulator.models import Account, Fill, Order

Amount = Decimal | int | str
_ALNUM = string.ascii_letters + string.digits
_uids = itertools.count(100_000_001)

DEMO_BALANCES = {
    BINANCE: {"USDT": 100_000, "USD": 100_000, "BTC": 2, "ETH": 20},
    OKX: {"USDT": 100_000, "USD": 100_000, "BTC": 2, "ETH": 20},
    ROBINHOOD: {"USD": 100_000, "BTC": 2, "ETH": 20},
}


def _token(length: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ed25519_keypair() -> tuple[str, str]:
    """(private seed, public key), both base64 of the raw 32 bytes, as Robinhood's portal takes them."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(seed).decode(), base64.b64encode(public).decode()


class Simulator:
    """Three simulated exchanges (Binance, OKX, Robinhood) behind one HTTP server.

    Thread-safe: the server runs in its own thread; tests call these methods from theirs.
    """

    def __init__(self, *, demo_accounts: bool = False):
        self.faults = FaultSet()
        self.counters = RequestCounter()
        self.limits = RateLimits()
        self.base_url: str | None = None  # set once a server listens
        self.demo_accounts = demo_accounts
        self._demo_keys: dict[str, dict[str, str]] = {}  # the same demo keys survive a reset
        self.venues: dict[str, Venue] = {}
        self.reset()

    # --- time ---------------------------------------------------------------------------
    @staticmethod
    def clock() -> int:
        """The exchanges' clock in ms (before any clock_skew fault)."""
        return int(time.time() * 1000)

    # --- exchanges and prices -------------------------------------------------------------
    def venue(self, exchange: str) -> Venue:
        try:
            return self.venues[exchange]
        except KeyError:
            raise KeyError(f"the simulator has no exchange {exchange!r}; it has {', '.join(PROTOCOLS)}") from None

    def set_price(self, symbol: str, price: Amount, *, exchange: str | None = None) -> None:
        """Move the mid price of ``symbol`` (e.g. "BTC/USDT") on one exchange, or on every one listing it."""
        venues = [self.venue(exchange)] if exchange else [v for v in self.venues.values() if symbol in v.markets]
        if not venues:
            raise KeyError(f"no simulated exchange lists {symbol}")
        for venue in venues:
            venue.set_price(symbol, Decimal(str(price)))

    def set_book(
        self, symbol: str, *, exchange: str, spread_bps: Amount | None = None, level_notional: Amount | None = None
    ) -> None:
        """Shape one exchange's book: a wider or narrower spread, thinner or deeper levels."""
        book = self.venue(exchange).book(symbol)
        if spread_bps is not None:
            book.spread_bps = Decimal(str(spread_bps))
        if level_notional is not None:
            book.level_notional = Decimal(str(level_notional))
        book.update_id += 1

    def price(self, symbol: str, *, exchange: str) -> Decimal:
        return self.venue(exchange).book(symbol).mid

    # --- accounts -------------------------------------------------------------------------
    def add_account(
        self,
        exchange: str,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
        public_key: str | None = None,
        balances: dict[str, Amount] | None = None,
    ) -> Account:
        """An API key with starting balances; missing credentials are generated.

        Robinhood takes the base64 Ed25519 ``public_key``; without one the simulator makes a
        key pair and keeps the private seed on the account (``account.private_key``).
        """
        venue = self.venue(exchange)
        account = Account(exchange=exchange, api_key=api_key or "", number=str(next(_uids)))
        if exchange == BINANCE:
            account.api_key = api_key or _token(64)
            account.secret = secret or _token(64)
        elif exchange == OKX:
            account.api_key = api_key or str(uuid.uuid4())
            account.secret = secret or _token(32, "0123456789ABCDEF")
            account.passphrase = passphrase or _token(12)
        else:
            account.api_key = api_key or f"rh-api-{uuid.uuid4()}"
            account.number = _token(8, string.ascii_uppercase + string.digits)
            if public_key:
                account.public_key = public_key
            else:
                account.private_key, account.public_key = ed25519_keypair()
        for asset, amount in (balances or {}).items():
            account.free[asset] = Decimal(str(amount))
        return venue.add_account(account)

    def account(self, exchange: str, api_key: str) -> Account:
        found = self.venue(exchange).account(api_key)
        if found is None:
            raise KeyError(f"no {exchange} account with that API key")
        return found

    def deposit(self, exchange: str, api_key: str, asset: str, amount: Amount) -> None:
        venue = self.venue(exchange)
        with venue.lock:
            self.account(exchange, api_key).move(asset, free=Decimal(str(amount)))

    def balance(self, exchange: str, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        """asset -> (free, locked)."""
        return self.venue(exchange).balances(api_key)

    def add_demo_accounts(self) -> dict[str, Account]:
        """One funded account per exchange, for the standalone server and browser benchmarks."""
        accounts = {}
        for name in PROTOCOLS:
            saved = self._demo_keys.get(name)
            if saved is None:
                account = self.add_account(name, balances=DEMO_BALANCES[name])
                fields = ("api_key", "secret", "passphrase", "public_key", "private_key", "number")
                self._demo_keys[name] = {field: getattr(account, field) for field in fields}
            else:
                keys = {field: saved[field] or None for field in ("api_key", "secret", "passphrase", "public_key")}
                account = self.add_account(name, balances=DEMO_BALANCES[name], **keys)
                account.private_key, account.number = saved["private_key"], saved["number"]
            accounts[name] = account
        return accounts

    def demo_keys(self) -> dict[str, dict[str, str]]:
        """exchange -> the demo account's credentials (the same across resets)."""
        return {name: dict(saved) for name, saved in self._demo_keys.items()}

    # --- orders ---------------------------------------------------------------------------
    def orders(self, exchange: str, api_key: str | None = None) -> list[Order]:
        """Every order on the exchange (or of one key), including those not reported yet."""
        venue = self.venue(exchange)
        with venue.lock:
            return [o for o in venue.orders.values() if api_key is None or o.api_key == api_key]

    def fill_order(
        self, exchange: str, order_id: str, *, amount: Amount | None = None, price: Amount | None = None
    ) -> Fill:
        """Fill (part of) a resting order, as if someone traded against it."""
        return self.venue(exchange).fill_order(
            str(order_id),
            amount=Decimal(str(amount)) if amount is not None else None,
            price=Decimal(str(price)) if price is not None else None,
        )

    # --- faults and counters ----------------------------------------------------------------
    def add_fault(self, kind: str, **spec) -> Fault:
        """``sim.add_fault("rate_limit", protocol="binance", times=1, retry_after=2)``; see faults.Fault."""
        return self.faults.add(kind=kind, **spec)

    def clear_faults(self) -> None:
        self.faults.clear()

    def enforce_rate_limit(self, protocol: str, per_second: int | None) -> None:
        """Refuse (429) what goes over ``per_second`` requests in any 1 s window; None lifts it."""
        self.limits.set(protocol, per_second)

    def request_count(self, protocol: str | None = None, path: str | None = None, method: str | None = None) -> int:
        return self.counters.count(protocol=protocol, path=path, method=method)

    def reset(self) -> None:
        """Back to the start: default prices, no accounts (demo ones again if enabled), orders, faults or counts."""
        self.faults.clear()
        self.counters.reset()
        self.limits.reset()
        self.venues = {name: Venue(VENUES[name], clock=self.clock) for name in PROTOCOLS}
        if self.demo_accounts:
            self.add_demo_accounts()
