"""One unified symbol form (``BTC/USDT``), and each exchange's own spelling.

Accepted spellings: ``BTC/USDT``, ``btc-usdt``, ``BTC_USDT``, ``BTCUSDT``, ``XBTUSD``,
``XXBTZUSD``. With loaded markets, the exchange's own market ids win (they are exact);
without them (offline, before load) the rules below apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from exchanges.adapters.types import Market

# Longest first, so that BTCUSDT splits as BTC + USDT, not BTCUSD + T.
QUOTE_CURRENCIES = sorted(
    ["USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "USD", "EUR", "GBP", "JPY", "TRY", "AUD", "CAD", "BTC", "ETH",
     "BNB"],
    key=len,
    reverse=True,
)  # fmt: skip

# Exchange-specific currency codes -> the common code (ccxt's commonCurrencies idea).
CURRENCY_ALIASES = {"XBT": "BTC", "XXBT": "BTC", "XETH": "ETH", "XDG": "DOGE", "XXDG": "DOGE", "ZUSD": "USD",
                    "ZEUR": "EUR", "ZGBP": "GBP", "ZJPY": "JPY", "ZCAD": "CAD"}  # fmt: skip


class InvalidSymbol(ValueError):
    """The text cannot be read as a market symbol."""


@dataclass(frozen=True)
class SymbolStyle:
    """How an exchange spells a market id when its markets are not loaded."""

    separator: str = ""
    lowercase: bool = False
    aliases: dict[str, str] = field(default_factory=dict)  # common code -> exchange code

    def format(self, base: str, quote: str) -> str:
        base, quote = self.aliases.get(base, base), self.aliases.get(quote, quote)
        text = f"{base}{self.separator}{quote}"
        return text.lower() if self.lowercase else text


DASH = SymbolStyle(separator="-")
STYLES: dict[str, SymbolStyle] = {
    "coinbase": DASH, "coinbaseexchange": DASH, "okx": DASH, "kucoin": DASH, "bingx": DASH, "robinhood": DASH,
    "gate": SymbolStyle(separator="_"), "gateio": SymbolStyle(separator="_"),
    "bitstamp": SymbolStyle(lowercase=True),
    "kraken": SymbolStyle(aliases={"BTC": "XBT", "DOGE": "XDG"}),
    "paper": SymbolStyle(separator="/"),
}  # fmt: skip
DEFAULT_STYLE = SymbolStyle()  # BTCUSDT: binance, binanceus, bybit, bitget, mexc ...

_KRAKEN_LONG = re.compile(r"^[XZ][A-Z]{3}[XZ][A-Z]{3}$")  # XXBTZUSD


def _common(code: str) -> str:
    code = code.upper()
    return CURRENCY_ALIASES.get(code, code)


def split(symbol: str) -> tuple[str, str]:
    """``(base, quote)`` in common codes, from any accepted spelling."""
    text = (symbol or "").strip().upper()
    if not text or not re.fullmatch(r"[A-Z0-9./:_-]+", text):
        raise InvalidSymbol(f"{symbol!r} is not a market symbol (expected e.g. BTC/USDT)")
    text = text.split(":", 1)[0]  # BTC/USDT:USDT (a swap) -> its base and quote
    for separator in ("/", "-", "_"):
        if separator in text:
            base, _, quote = text.partition(separator)
            if base and quote and separator not in quote:
                return _common(base), _common(quote)
            raise InvalidSymbol(f"{symbol!r} is not a market symbol (expected e.g. BTC/USDT)")
    if _KRAKEN_LONG.match(text):
        return _common(text[:4]), _common(text[4:])
    splits = [(text[: -len(quote)], quote) for quote in QUOTE_CURRENCIES if text.endswith(quote) and text != quote]
    # XBTUSD is XBT + USD, not XB + TUSD: prefer a base of three letters or more.
    for base, quote in sorted(splits, key=lambda pair: len(pair[0]) < 3):
        return _common(base), quote
    raise InvalidSymbol(f"{symbol!r} is not a market symbol: no known quote currency (expected e.g. BTC/USDT)")


def normalize(symbol: str, *, exchange_id: str | None = None, markets: dict[str, Market] | None = None) -> str:
    """Any accepted spelling -> ``BASE/QUOTE`` (the exchange's market ids win when loaded)."""
    text = (symbol or "").strip()
    if markets:
        if text in markets:
            return text
        upper = text.upper()
        for market in markets.values():
            if market.id.upper() == upper:
                return market.symbol
    base, quote = split(text)
    unified = f"{base}/{quote}"
    if markets and unified not in markets:
        # A derivative listed as BTC/USDT:USDT is still found by its base and quote.
        for candidate in markets:
            if candidate.split(":", 1)[0] == unified:
                return candidate
    return unified


def to_exchange(symbol: str, *, exchange_id: str | None = None, markets: dict[str, Market] | None = None) -> str:
    """The unified form -> the exchange's own market id."""
    if markets and symbol in markets:
        return markets[symbol].id
    base, quote = split(symbol)
    return STYLES.get(exchange_id or "", DEFAULT_STYLE).format(base, quote)
