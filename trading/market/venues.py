"""A venue: where public market data comes from. Connections with the same exchange, base
URL and testnet flag share one venue, so one poll serves every tenant that uses it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Venue:
    exchange: str
    api_base_url: str = ""
    testnet: bool = False
    #: set only where even public data needs an account's keys (Robinhood)
    connection_id: int | None = None

    @classmethod
    def of(cls, connection) -> Venue:
        from exchanges.factory import adapter_class

        private = adapter_class(connection.exchange).public_data_needs_credentials
        return cls(
            connection.exchange,
            connection.api_base_url or "",
            bool(connection.testnet),
            connection.pk if private else None,
        )

    @property
    def key(self) -> str:
        """Short, stable and safe for Redis keys and Channels group names."""
        if self.connection_id is not None:
            return f"{self.exchange}-c{self.connection_id}"
        if not self.api_base_url and not self.testnet:
            return self.exchange
        digest = hashlib.sha1(f"{self.api_base_url}|{self.testnet}".encode()).hexdigest()[:8]  # noqa: S324
        return f"{self.exchange}-{digest}"

    def as_dict(self) -> dict:
        return {
            "exchange": self.exchange,
            "api_base_url": self.api_base_url,
            "testnet": self.testnet,
            "connection_id": self.connection_id,
        }


def symbol_slug(symbol: str) -> str:
    """BTC/USDT -> BTC_USDT (Channels group names allow letters, digits, - _ .)."""
    return re.sub(r"[^A-Za-z0-9]", "_", symbol)


def price_group(venue: Venue, symbol: str) -> str:
    """The shared Channels group of one venue's public prices for one symbol."""
    return f"prices.{venue.key}.{symbol_slug(symbol)}"
