"""What the paper exchange lists, and the one place amounts and prices meet its steps.

Each market has realistic precision steps and minimums (close to Binance's), a spread
and a book depth. Prices of every market derive from one USD price per asset, so
BTC/USDT, BTC/USD and ETH/BTC always agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Decimal

from exchanges.adapters.errors import BadSymbol
from exchanges.adapters.types import Market

EXCHANGE_ID = "paper"
DEFAULT_FEE_RATE = Decimal("0.001")
DEFAULT_SLIPPAGE_BPS = Decimal("5")
DEFAULT_STARTING_BALANCES = {"USDT": Decimal("100000"), "USD": Decimal("100000")}

#: fees, costs and averages are kept to this many places (money fields hold 18)
MONEY_STEP = Decimal("1e-12")

#: quote assets worth one US dollar, for the price process
STABLE = frozenset({"USD", "USDT", "USDC"})


@dataclass(frozen=True)
class AssetProfile:
    anchor: float  # the USD price the simulated process is centred on
    daily_vol: float  # standard deviation of a day's log return
    level_size: Decimal  # base units on one level of the synthetic book, before noise
    volume_24h: float  # base units traded in a day


ASSETS: dict[str, AssetProfile] = {
    "BTC": AssetProfile(anchor=60_000.0, daily_vol=0.03, level_size=Decimal("1.2"), volume_24h=21_000.0),
    "ETH": AssetProfile(anchor=3_000.0, daily_vol=0.04, level_size=Decimal("16"), volume_24h=280_000.0),
    "SOL": AssetProfile(anchor=150.0, daily_vol=0.055, level_size=Decimal("180"), volume_24h=2_500_000.0),
}


@dataclass(frozen=True)
class PaperMarket:
    """A listed market and what the simulation needs beyond the boundary's ``Market``."""

    market: Market
    spread_bps: Decimal  # best ask minus best bid, relative to the mid
    level_gap_bps: Decimal  # distance between two levels of the synthetic book


def _listing(
    base: str, quote: str, amount: str, price: str, min_amount: str, min_cost: str, spread: str, gap: str
) -> PaperMarket:
    market = Market(
        symbol=f"{base}/{quote}",
        id=f"{base}{quote}",
        base=base,
        quote=quote,
        amount_precision=Decimal(amount),
        price_precision=Decimal(price),
        min_amount=Decimal(min_amount),
        min_cost=Decimal(min_cost),
        taker_fee=DEFAULT_FEE_RATE,
        maker_fee=DEFAULT_FEE_RATE,
    )
    return PaperMarket(market=market, spread_bps=Decimal(spread), level_gap_bps=Decimal(gap))


# fmt: off
_TABLE = (
    # base   quote   amount step  price step  min amount  min cost  spread bps  book level gap bps
    ("BTC", "USDT", "0.00001",   "0.01",     "0.00001",  "5",      "1",        "1"),
    ("ETH", "USDT", "0.0001",    "0.01",     "0.0001",   "5",      "1.5",      "1"),
    ("SOL", "USDT", "0.001",     "0.01",     "0.001",    "5",      "3",        "2"),
    ("BTC", "USD",  "0.00001",   "0.01",     "0.00001",  "1",      "1.5",      "1"),
    ("ETH", "USD",  "0.0001",    "0.01",     "0.0001",   "1",      "2",        "1"),
    ("SOL", "USD",  "0.001",     "0.01",     "0.001",    "1",      "4",        "2"),
    ("ETH", "BTC",  "0.0001",    "0.00001",  "0.0001",   "0.0001", "2",        "2"),
)
# fmt: on
LISTINGS: dict[str, PaperMarket] = {listing.market.symbol: listing for listing in (_listing(*row) for row in _TABLE)}

MARKETS: dict[str, Market] = {symbol: listing.market for symbol, listing in LISTINGS.items()}

_ALIASES = {"XBT": "BTC"}
_BY_ID = {market.id: symbol for symbol, market in MARKETS.items()}


def normalize_symbol(symbol: str) -> str:
    """BTC/USDT, btc-usdt, BTC_USDT, BTCUSDT, XBT/USD -> the unified form (unknown stays as given)."""
    text = (symbol or "").strip().upper().replace("-", "/").replace("_", "/")
    if "/" not in text:
        return _BY_ID.get(text, _BY_ID.get(text.replace("XBT", "BTC"), text))
    base, _, quote = text.partition("/")
    quote = quote.split(":")[0]  # BTC/USDT:USDT (a swap) names the same pair here
    return f"{_ALIASES.get(base, base)}/{_ALIASES.get(quote, quote)}"


def listing_for(symbol: str) -> PaperMarket:
    unified = normalize_symbol(symbol)
    if unified not in LISTINGS:
        raise BadSymbol(f"{symbol} is not listed", exchange=EXCHANGE_ID)
    return LISTINGS[unified]


# --- steps: truncate amounts, never round them up ------------------------------------------
def truncate(value: Decimal, step: Decimal | None) -> Decimal:
    if not step:
        return value
    return ((value / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(step)


def on_step(value: Decimal, step: Decimal | None) -> bool:
    return not step or value % step == 0


def to_tick(value: float | Decimal, tick: Decimal, *, rounding: str = ROUND_FLOOR) -> Decimal:
    """A price on the market's tick: ROUND_FLOOR for bids, ROUND_CEILING for asks."""
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    return ((number / tick).to_integral_value(rounding=rounding) * tick).quantize(tick)


def money(value: Decimal, *, up: bool = False) -> Decimal:
    return value.quantize(MONEY_STEP, rounding=ROUND_UP if up else ROUND_DOWN)


def plain(value: Decimal | None) -> Decimal | None:
    """18-place database decimals without the trailing zeros (and never in exponent form)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


ROUND_ASK = ROUND_CEILING
ROUND_BID = ROUND_FLOOR
