"""Live prices for open dashboards: which public price groups a page may join, and the
market demand those pages add (so the poller fetches what someone is looking at).

Price groups (``prices.<venue>.<BASE_QUOTE>``) carry public market data only: the one thing
tenants share. A socket joins the groups of its tenant's enabled connections' venues for
the symbols its page shows. The demand lives in Redis with an expiry, refreshed while the
page stays open, so every poller process sees it and a closed page stops costing requests.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable

from exchanges.selectors import connection_list
from exchanges.symbols import InvalidSymbol, normalize
from trading.market.redis import key, sync_client
from trading.market.venues import Venue, price_group

#: symbols one socket may follow at once, and price groups it may be in
MAX_SYMBOLS = 10
MAX_PRICE_GROUPS = 100
#: seconds a page's demand lasts without a refresh (the page pings every 20 s)
DEMAND_TTL = 60.0

PRICE_GROUP_RE = re.compile(r"^prices\.[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_]{1,60}$")


class PriceRequestError(ValueError):
    """The page asked for something it may not have; the text says what."""


def symbols_clean(symbols) -> list[str]:
    """Unified, de-duplicated symbols, at most ``MAX_SYMBOLS``; refuses anything else."""
    if not isinstance(symbols, list) or not symbols:
        raise PriceRequestError('symbols: give a list of symbols, e.g. ["BTC/USDT"]')
    if len(symbols) > MAX_SYMBOLS:
        raise PriceRequestError(f"symbols: at most {MAX_SYMBOLS} at once")
    cleaned: list[str] = []
    for symbol in symbols:
        if not isinstance(symbol, str) or len(symbol) > 40:
            raise PriceRequestError("symbols: each symbol is a short string such as BTC/USDT")
        try:
            unified = normalize(symbol)
        except InvalidSymbol as exc:
            raise PriceRequestError(f"symbols: {exc}") from None
        if unified not in cleaned:
            cleaned.append(unified)
    return cleaned


def tenant_price_demand(*, tenant, symbols: list[str]) -> list[tuple[Venue, str]]:
    """Every (venue, symbol) of the tenant's enabled connections for ``symbols``."""
    venues = sorted({Venue.of(c) for c in connection_list(tenant=tenant, enabled=True)})
    pairs = [(venue, symbol) for venue in venues for symbol in symbols]
    return pairs[:MAX_PRICE_GROUPS]


def price_groups(pairs: Iterable[tuple[Venue, str]]) -> list[str]:
    return sorted({price_group(venue, symbol) for venue, symbol in pairs})


def is_price_group(name: str) -> bool:
    """A public price group's name (``prices.<venue>.<BASE_QUOTE>``): public data, open to anyone."""
    return isinstance(name, str) and bool(PRICE_GROUP_RE.match(name))


# --- demand ------------------------------------------------------------------------------------
def _demand_key() -> str:
    return key("demand", "dashboards")


def _member(venue: Venue, symbol: str) -> str:
    return json.dumps([venue.as_dict(), symbol], sort_keys=True)


def dashboard_demand_register(pairs: Iterable[tuple[Venue, str]], *, ttl: float = DEMAND_TTL) -> None:
    """Keep polling ``pairs`` for ``ttl`` seconds more (one ZADD, however many pages ask)."""
    mapping = {_member(venue, symbol): time.time() + ttl for venue, symbol in pairs}
    if mapping:
        sync_client().zadd(_demand_key(), mapping)


def dashboard_demand() -> Iterable[tuple[Venue, str]]:
    """The market demand provider: what open dashboards look at, expired entries dropped."""
    client = sync_client()
    now = time.time()
    client.zremrangebyscore(_demand_key(), "-inf", now)
    for member in client.zrangebyscore(_demand_key(), now, "+inf"):
        try:
            venue, symbol = json.loads(member)
            yield Venue(**venue), symbol
        except (TypeError, ValueError):  # written by another version: skip, it expires
            continue
