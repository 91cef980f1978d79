"""``best_price`` routing: the order goes where it fills cheapest.

The books of the eligible connections' venues are walked for the whole amount, taker fees
included (``trading.market.best``, ``trading.pricing``); venues are tried best first, and
on each venue its connections in priority order, until one passes every pre-trade check at
the price that venue's book gives. With ``allow_split`` and a split proposal (cheaper than
the best single venue by construction, or the only way to fill the amount), the amount is
cut into one leg per venue, each truncated to that exchange's precision and each passing
the checks; if any leg fails, the order goes to the best single venue instead.

Limit and stop orders are routed by the book too: the venue where the book says the
order would fill best is where its price is most likely to be reached, and the checks use
the order's own price. The symbol is the one asked for: quote currencies the tenant treats
as equivalent are not swapped in, since the order spends the balance of the quote it names.
"""

from __future__ import annotations

from exchanges import runtime
from exchanges.adapters.types import Side
from exchanges.selectors import connection_list
from trading import pricing
from trading.market.best import BestPrice, best_price
from trading.market.compare import Target
from trading.market.venues import Venue
from trading.services.intents import Intent, Leg, Route
from trading.services.risk_checks import num
from trading.services.routing import attempt, considered, no_route, unavailable

_INELIGIBLE = {
    pricing.Ineligible.UNAVAILABLE: "the market is not trading",
    pricing.Ineligible.NO_LIQUIDITY: "its order book is empty on that side",
    pricing.Ineligible.INSUFFICIENT_DEPTH: "its order book is too thin for {amount} {base}",
    pricing.Ineligible.BELOW_MIN_AMOUNT: "{amount} {base} is below its minimum amount",
    pricing.Ineligible.BELOW_MIN_COST: "the order is below its minimum order value",
}


def best_price_route(*, tenant, intent: Intent, allow_split: bool, exclude: tuple[int, ...]) -> Route:
    seen: dict[int, dict] = {}  # connection id -> its latest line in Route.considered
    by_venue: dict[str, list] = {}  # venue key -> eligible connections, priority order
    for connection in connection_list(tenant=tenant, enabled=True):
        reason = unavailable(connection, exclude=exclude)
        if reason is not None:
            seen[connection.pk] = considered(connection, ok=False, reason=reason)
        else:
            by_venue.setdefault(Venue.of(connection).key, []).append(connection)
    if not by_venue:
        raise no_route(list(seen.values()))
    best = _books(intent, by_venue, split=allow_split)
    for failure in best.failures:
        _note(seen, by_venue[failure.venue.key], f"no order book ({failure.error})")
    legs = _split(tenant, intent, best, by_venue, seen) if allow_split and best.split else None
    legs = legs or _single(tenant, intent, best, by_venue, seen)
    if legs is None:
        raise no_route(list(seen.values()))
    return Route(legs=legs, policy="best_price", considered=tuple(seen.values()))


def _books(intent: Intent, by_venue: dict[str, list], *, split: bool) -> BestPrice:
    targets = [
        Target(Venue.of(connections[0]), connections[0].pk, connections[0].label) for connections in by_venue.values()
    ]
    coroutine = best_price(
        targets, [intent.symbol], side=Side(intent.side), amount=intent.amount, equivalents=[], split=split
    )
    return runtime.run(coroutine)


def _single(tenant, intent: Intent, best: BestPrice, by_venue: dict, seen: dict) -> tuple[Leg] | None:
    base = intent.symbol.split("/")[0]
    for candidate in best.candidates:  # ineligible ones are ranked last; noted first, for the record
        if not candidate.eligible:
            why = _INELIGIBLE[candidate.reason].format(amount=num(intent.amount), base=base)
            _note(seen, by_venue[candidate.key], why)
    for candidate in (c for c in best.candidates if c.eligible):
        leg = _on_venue(tenant, intent, by_venue[candidate.key], candidate.fill.average_price, seen)
        if leg is not None:
            return (leg,)
    return None


def _split(tenant, intent: Intent, best: BestPrice, by_venue: dict, seen: dict) -> tuple[Leg, ...] | None:
    legs = []
    for allocation in best.split.allocations:
        part = intent.with_(amount=allocation.amount)
        leg = _on_venue(tenant, part, by_venue[allocation.key], allocation.average_price, seen, share=True)
        if leg is None:
            for done in legs:  # the order goes to one venue instead; these were not chosen
                seen[done.connection.pk] = considered(
                    done.connection, ok=False, reason="a split share of it passed, another did not"
                )
            return None
        legs.append(leg)
    return tuple(legs)


def _on_venue(tenant, intent: Intent, connections: list, price, seen: dict, *, share: bool = False) -> Leg | None:
    """The first of the venue's connections that passes the checks at the book's price."""
    for connection in connections:
        leg, reason = attempt(tenant=tenant, connection=connection, intent=intent, reference_price=price)
        if share and leg is None:
            reason = f"its share of a split ({num(intent.amount)}): {reason}"
        seen[connection.pk] = considered(connection, ok=leg is not None, reason=reason)
        if leg is not None:
            return leg
    return None


def _note(seen: dict, connections: list, reason: str) -> None:
    for connection in connections:
        seen[connection.pk] = considered(connection, ok=False, reason=reason)
