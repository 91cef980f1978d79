"""The markets each simulated exchange lists, with that exchange's own precision rules.

The same pair has different filters on different exchanges (Binance's BTCUSDT ticks by
0.01, OKX's BTC-USDT by 0.1), so adapters are tested against each exchange's real shape
rather than one generic market.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BINANCE = "binance"
OKX = "okx"
ROBINHOOD = "robinhood"
PROTOCOLS = (BINANCE, OKX, ROBINHOOD)

D = Decimal


@dataclass(frozen=True)
class MarketSpec:
    base: str
    quote: str
    tick_size: Decimal  # price step
    step_size: Decimal  # amount step
    min_amount: Decimal
    max_amount: Decimal
    min_notional: Decimal  # amount * price, in quote
    initial_price: Decimal

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"


@dataclass(frozen=True)
class VenueSpec:
    """What differs between exchanges: how market ids look, fees, spread and order ids."""

    name: str
    id_separator: str  # "" -> BTCUSDT, "-" -> BTC-USDT
    maker_fee: Decimal
    taker_fee: Decimal
    spread_bps: Decimal  # best ask - best bid, in basis points of the mid price
    order_ids: str  # "int" (Binance: 28457), "long" (OKX: "612345678901234567"), "uuid" (Robinhood)
    markets: tuple[MarketSpec, ...]

    def market_id(self, market: MarketSpec) -> str:
        return f"{market.base}{self.id_separator}{market.quote}"


_BTC, _ETH = D("65000"), D("3500")

# More USDT markets, so that polling many symbols at once can be measured:
# (base, price, price tick, amount step).
_ALTS = (
    ("SOL", "150", "0.01", "0.001"), ("BNB", "580", "0.01", "0.001"), ("XRP", "0.52", "0.0001", "0.1"),
    ("ADA", "0.45", "0.0001", "0.1"), ("DOGE", "0.12", "0.00001", "1"), ("AVAX", "35", "0.01", "0.01"),
    ("DOT", "7", "0.001", "0.01"), ("LINK", "14", "0.001", "0.01"), ("MATIC", "0.7", "0.0001", "0.1"),
    ("LTC", "80", "0.01", "0.001"), ("TRX", "0.12", "0.00001", "1"), ("ATOM", "9", "0.001", "0.01"),
    ("UNI", "7.5", "0.001", "0.01"), ("XLM", "0.11", "0.00001", "1"), ("NEAR", "5.5", "0.001", "0.1"),
    ("APT", "9", "0.001", "0.01"), ("ARB", "1.1", "0.0001", "0.1"), ("OP", "2.2", "0.0001", "0.1"),
)  # fmt: skip


def _alts(min_notional: Decimal) -> tuple[MarketSpec, ...]:
    return tuple(
        MarketSpec(base, "USDT", D(tick), D(step), D(step), D("9000000"), min_notional, D(price))
        for base, price, tick, step in _ALTS
    )


VENUES: dict[str, VenueSpec] = {
    BINANCE: VenueSpec(
        name=BINANCE,
        id_separator="",
        maker_fee=D("0.001"),
        taker_fee=D("0.001"),
        spread_bps=D("1"),
        order_ids="int",
        markets=(
            MarketSpec("BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("9000"), D("5"), _BTC),
            MarketSpec("ETH", "USDT", D("0.01"), D("0.0001"), D("0.0001"), D("9000"), D("5"), _ETH),
            MarketSpec("BTC", "USD", D("0.01"), D("0.00001"), D("0.00001"), D("9000"), D("10"), _BTC),
            MarketSpec("ETH", "USD", D("0.01"), D("0.0001"), D("0.0001"), D("9000"), D("10"), _ETH),
            *_alts(D("5")),
        ),
    ),
    OKX: VenueSpec(
        name=OKX,
        id_separator="-",
        maker_fee=D("0.0008"),
        taker_fee=D("0.001"),
        spread_bps=D("1"),
        order_ids="long",
        markets=(
            MarketSpec("BTC", "USDT", D("0.1"), D("0.00000001"), D("0.00001"), D("9999999999"), D("0"), _BTC),
            MarketSpec("ETH", "USDT", D("0.01"), D("0.000001"), D("0.0001"), D("9999999999"), D("0"), _ETH),
            MarketSpec("BTC", "USD", D("0.1"), D("0.00000001"), D("0.00001"), D("9999999999"), D("0"), _BTC),
            MarketSpec("ETH", "USD", D("0.01"), D("0.000001"), D("0.0001"), D("9999999999"), D("0"), _ETH),
            *_alts(D("0")),
        ),
    ),
    # Robinhood (v1) charges no explicit fee: its spread, quoted by market makers, is the fee.
    ROBINHOOD: VenueSpec(
        name=ROBINHOOD,
        id_separator="-",
        maker_fee=D("0"),
        taker_fee=D("0"),
        spread_bps=D("30"),
        order_ids="uuid",
        markets=(
            MarketSpec("BTC", "USD", D("0.01"), D("0.00000001"), D("0.000001"), D("20"), D("1"), _BTC),
            MarketSpec("ETH", "USD", D("0.01"), D("0.000001"), D("0.0001"), D("300"), D("1"), _ETH),
        ),
    ),
}


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value`` (amounts are never rounded up)."""
    return (value // step) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    units = value // step
    if units * step < value:
        units += 1
    return units * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def plain(value: Decimal | None) -> str:
    """A decimal as exchanges print it: no exponent, no trailing zeros ("0.1", "65000")."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def fixed(value: Decimal | None, places: int = 8) -> str:
    """Binance prints every amount with 8 decimals: "0.01000000"."""
    return format(value if value is not None else Decimal(0), f".{places}f")
