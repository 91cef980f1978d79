"""Which public market data is in use: every (venue, symbol) some tenant needs.

Providers add to it: the watchlists here; bot subscriptions and open dashboards register
their own. The union is de-duplicated, so a symbol needed by 10,000 subscriptions on one
venue is still one entry: one request per tick.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from exchanges.models import ExchangeConnection
from trading.market.venues import Venue

Demand = dict[Venue, set[str]]
_providers: list[Callable[[], Iterable[tuple[Venue, str]]]] = []


def register_demand_provider(provider: Callable[[], Iterable[tuple[Venue, str]]]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def watchlist_demand() -> Iterable[tuple[Venue, str]]:
    """Each tenant's watched symbols on each of its enabled connections."""
    from trading.models import WatchedSymbol

    symbols: dict[int, list[str]] = defaultdict(list)
    for tenant_id, symbol in WatchedSymbol.objects.values_list("tenant_id", "symbol"):
        symbols[tenant_id].append(symbol)
    connections = ExchangeConnection.objects.filter(enabled=True, tenant_id__in=symbols, tenant__is_active=True)
    for connection in connections.only("tenant_id", "exchange", "api_base_url", "testnet"):
        venue = Venue.of(connection)
        for symbol in symbols[connection.tenant_id]:
            yield venue, symbol


register_demand_provider(watchlist_demand)


def market_demand() -> Demand:
    demand: Demand = defaultdict(set)
    for provider in _providers:
        for venue, symbol in provider():
            demand[venue].add(symbol)
    return dict(demand)
