"""A tenant's balances on every enabled exchange, valued in one quote currency.

An asset is priced, in order: the quote itself (and the tenant's equivalent quotes, USD =
USDT = USDC, one to one); a cached ticker of ASSET/QUOTE (or an equivalent quote) on the
connection's own exchange, then on any venue the tenant or the platform polls; then one
batched ticker fetch at the connection's exchange. What stays unpriced has value None and
is listed under ``unvalued``. A connection that fails is reported under ``failed``; the
others still count.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from exchanges import reads, runtime
from exchanges.adapters.errors import BadSymbol, ExchangeError
from exchanges.adapters.types import Ticker
from exchanges.catalog import SEED_EXCHANGES
from exchanges.selectors import connection_list
from trading.market import cache, fetch
from trading.market.redis import sync_client
from trading.market.venues import Venue

logger = logging.getLogger(__name__)
ZERO, ONE = Decimal(0), Decimal(1)
DEFAULT_QUOTE = "USDT"


def ticker_mark(ticker: Ticker) -> Decimal | None:
    """The last price, else the mid of bid and ask."""
    if ticker.price:
        return ticker.price
    if ticker.bid and ticker.ask:
        return (ticker.bid + ticker.ask) / 2
    return None


def tenant_quote(tenant) -> str:
    from trading.models import TradingSettings

    row = TradingSettings.objects.filter(tenant=tenant).only("quote_currency").first()
    return (row.quote_currency if row and row.quote_currency else DEFAULT_QUOTE).upper()


def _quotes(quote: str, equivalents: list[str]) -> list[str]:
    return [quote, *(q for q in equivalents if q != quote)] if quote in equivalents else [quote]


def _cached_marks(venue: Venue, symbols: list[str]) -> dict[str, Decimal]:
    values = sync_client().mget([cache.ticker_key(venue, s) for s in symbols])
    found = {}
    for symbol, value in zip(symbols, values, strict=True):
        mark = ticker_mark(cache.ticker_from_json(value)[0]) if value else None
        if mark:
            found[symbol] = mark
    return found


async def _fetched_marks(venue: Venue, wanted: dict[str, list[str]]) -> dict[str, Decimal]:
    """asset -> price from one batched ticker fetch of the listed candidates (then cached)."""
    adapter = await fetch.venue_adapter(venue)
    listed: dict[str, str] = {}
    try:
        for asset, candidates in wanted.items():
            try:
                listed[asset] = (await fetch.listed_symbol(adapter, candidates))[0]
            except BadSymbol:
                continue
    finally:
        await adapter.close()
    if not listed:
        return {}
    tickers = await fetch.fetch_tickers(venue, sorted(set(listed.values())))
    marks = {asset: ticker_mark(tickers[s]) for asset, s in listed.items() if s in tickers}
    return {asset: mark for asset, mark in marks.items() if mark}


class _Pricer:
    def __init__(self, *, quote: str, equivalents: list[str], venues: list[Venue]):
        self.quotes = _quotes(quote, equivalents)
        self.venues = venues

    def candidates(self, asset: str) -> list[str]:
        return [f"{asset}/{q}" for q in self.quotes]

    def prices(self, venue: Venue, assets: set[str]) -> dict[str, Decimal]:
        """asset -> price in the quote, for those that can be priced."""
        prices = {a: ONE for a in assets if a in self.quotes}
        for where in dict.fromkeys([venue, *self.venues]):
            missing = [a for a in assets if a not in prices]
            if not missing:
                return prices
            marks = _cached_marks(where, [s for a in missing for s in self.candidates(a)])
            for asset in missing:
                mark = next((marks[s] for s in self.candidates(asset) if s in marks), None)
                if mark:
                    prices[asset] = mark
        missing = {a: self.candidates(a) for a in assets if a not in prices}
        if missing:
            try:
                prices |= runtime.run(_fetched_marks(venue, missing))
            except Exception as exc:  # noqa: BLE001 - unpriced assets are reported, not fatal
                logger.info("No prices for %s at %s: %s", sorted(missing), venue.key, exc)
        return prices


def _connection_row(connection, balance, pricer: _Pricer) -> dict:
    entries = sorted(balance.assets.values(), key=lambda e: e.asset)
    prices = pricer.prices(Venue.of(connection), {e.asset for e in entries})
    assets = []
    for entry in entries:
        price = prices.get(entry.asset)
        value = entry.total * price if price is not None else None
        assets.append({"asset": entry.asset, "free": entry.free, "used": entry.used, "total": entry.total,
                       "price": price, "value": value})  # fmt: skip
    return {
        "connection_id": connection.pk,
        "label": connection.label,
        "exchange": connection.exchange,
        "total": sum((a["value"] for a in assets if a["value"] is not None), ZERO),
        "assets": assets,
        "unvalued": [a["asset"] for a in assets if a["value"] is None],
    }


def _failure(connection, exc: Exception) -> dict:
    if isinstance(exc, ExchangeError):
        error, code = str(exc), exc.code
    else:  # an unexpected error's text could say anything: it goes to the log only
        logger.exception("Balance of connection %s failed", connection.pk)
        error, code = "Unexpected error reading the balance.", "server_error"
    return {"connection_id": connection.pk, "label": connection.label, "exchange": connection.exchange,
            "error": error, "error_code": code}  # fmt: skip


def _assets_summary(rows: list[dict]) -> list[dict]:
    summary: dict[str, dict] = {}
    for row in rows:
        for a in row["assets"]:
            item = summary.setdefault(a["asset"], {"asset": a["asset"], "total": ZERO, "value": ZERO})
            item["total"] += a["total"]
            item["value"] = None if a["value"] is None or item["value"] is None else item["value"] + a["value"]
    return [summary[k] for k in sorted(summary)]


def total_balance(*, tenant, quote: str | None = None, fresh: bool = False, follow_fills: bool = True) -> dict:
    """Per enabled connection its assets valued in ``quote`` (default: the tenant's trading
    settings, else USDT) and their total; the grand total, per asset totals, unvalued assets
    and failed connections. Balances come from a 30 s cache unless ``fresh``; with
    ``follow_fills`` (the default), a connection with a fill since its balance was cached is
    read again, so a trade shows at once."""
    quote = (quote or tenant_quote(tenant)).upper()
    equivalents = [q.upper() for q in tenant.equivalent_quotes or []]
    connections = list(connection_list(tenant=tenant, enabled=True))
    public = [Venue(exchange) for exchange in SEED_EXCHANGES]
    pricer = _Pricer(quote=quote, equivalents=equivalents, venues=[*map(Venue.of, connections), *public])
    filled_at = _latest_fills(tenant) if follow_fills and not fresh else {}
    rows, failed = [], []
    for connection in connections:
        try:
            balance = reads.connection_balance(
                connection=connection, fresh=fresh, stale_before=filled_at.get(connection.pk)
            )
        except Exception as exc:  # noqa: BLE001 - one exchange failing must not hide the others
            failed.append(_failure(connection, exc))
            continue
        rows.append(_connection_row(connection, balance, pricer))
    return {
        "quote": quote,
        "total": sum((r["total"] for r in rows), ZERO),
        "connections": rows,
        "assets": _assets_summary(rows),
        "unvalued": sorted({a for r in rows for a in r["unvalued"]}),
        "failed": failed,
    }


def _latest_fills(tenant) -> dict[int, float]:
    """connection id -> unix time of its latest fill, for fills recent enough that a cached
    balance may predate them (one read on the trades' (tenant, executed_at) index)."""
    from django.db.models import Max

    from tenancy.scoping import scoped
    from trading.models import Trade

    since = timezone.now() - timedelta(seconds=settings.MARKET_CACHE_TTL["balance"])
    rows = (
        scoped(Trade, tenant=tenant).filter(executed_at__gte=since)
        .values("connection_id").annotate(last=Max("executed_at")).order_by()
    )  # fmt: skip
    return {row["connection_id"]: row["last"].timestamp() for row in rows}
