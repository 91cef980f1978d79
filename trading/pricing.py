"""Best price across exchanges: depth-aware fills, fee-inclusive ranking and split proposals.

Pure decisions over order books already fetched: no I/O, no ORM, no cache. A service fetches
the books (one ``Quote`` per venue) and asks ``rank`` which venue fills the whole amount
cheapest and ``best_split`` whether spreading the amount over several venues is cheaper still.

Prices are compared after the taker fee and after walking the book, never at the top of book:
a venue whose first ask is lower but whose book is thin loses a large order to a deeper one.
Quote currencies a tenant declares equivalent (USD, USDT, USDC) are compared one to one.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from enum import StrEnum

from exchanges.adapters.types import Market, OrderBook, Side
from exchanges.precision import truncate
from exchanges.symbols import split as split_symbol

DEFAULT_TAKER_FEE = Decimal("0.001")  # assumed when a market does not say: higher than most spot tiers
DEFAULT_MIN_SAVING_BPS = Decimal(1)
BPS = Decimal(10_000)
# Sums of price x amount are kept exact (18 decimals on both sides, large notionals); only the
# final divisions (average and effective prices, bps) round, to the ordinary 28 digits.
_EXACT_DIGITS = 80

Level = tuple[Decimal, Decimal]  # (price, amount)


class Ineligible(StrEnum):
    """Why a venue cannot take the whole amount on its own."""

    UNAVAILABLE = "unavailable"  # the connection is down, disabled or paused
    NO_LIQUIDITY = "no_liquidity"  # nothing on the side of the book the order would take
    INSUFFICIENT_DEPTH = "insufficient_depth"  # the book ends before the amount is filled
    BELOW_MIN_AMOUNT = "below_min_amount"
    BELOW_MIN_COST = "below_min_cost"


@dataclass(frozen=True)
class Fill:
    """What a market order of ``amount`` would get by walking one side of a book."""

    amount: Decimal  # asked
    filled: Decimal  # == amount when complete
    average_price: Decimal  # notional / filled, before the fee
    notional: Decimal  # sum of price x amount over the levels taken
    fee: Decimal  # notional x taker fee, in the quote currency
    effective_price: Decimal  # per unit filled, fee included: buy (notional + fee), sell (notional - fee)
    worst_price: Decimal  # the last level touched
    levels_used: int
    complete: bool


@dataclass(frozen=True)
class Quote:
    """One venue's offer: its order book and the market rules that apply to an order there."""

    key: str  # unique among the quotes compared, e.g. the connection id
    book: OrderBook
    taker_fee: Decimal | None = None  # None: DEFAULT_TAKER_FEE is assumed
    min_amount: Decimal | None = None
    min_cost: Decimal | None = None
    amount_precision: Decimal | None = None  # a step, e.g. Decimal("0.0001")
    available: bool = True
    base: str = field(init=False)
    quote_currency: str = field(init=False)

    def __post_init__(self) -> None:
        for name in ("taker_fee", "min_amount", "min_cost", "amount_precision"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{self.key}: {name} must be a Decimal, got {type(value).__name__}")
        if self.taker_fee is not None:
            _check_fee(self.taker_fee)
        base, quote = split_symbol(self.book.symbol)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "quote_currency", quote)

    @classmethod
    def from_market(cls, key: str, book: OrderBook, market: Market, *, available: bool = True) -> Quote:
        return cls(
            key=key,
            book=book,
            taker_fee=market.taker_fee,
            min_amount=market.min_amount,
            min_cost=market.min_cost,
            amount_precision=market.amount_precision,
            available=available and market.active,
        )

    @property
    def exchange(self) -> str:
        return self.book.exchange

    @property
    def symbol(self) -> str:
        return self.book.symbol

    @property
    def fee(self) -> Decimal:
        return DEFAULT_TAKER_FEE if self.taker_fee is None else self.taker_fee

    def levels(self, side: Side) -> tuple[Level, ...]:
        """The side of the book an order of ``side`` takes: the asks for a buy, the bids for a sell."""
        return _best_first(self.book.asks if side is Side.BUY else self.book.bids, side)


@dataclass(frozen=True)
class Candidate:
    """One venue in a ranking. Only eligible candidates are ever the best."""

    key: str
    exchange: str
    symbol: str
    quote_currency: str
    equivalent_quote: bool  # found under an equivalent quote currency, not the one asked
    taker_fee: Decimal  # the fee used
    fee_assumed: bool  # the market did not say; DEFAULT_TAKER_FEE was used
    fill: Fill | None  # None when unavailable or the side of the book is empty
    effective_price: Decimal | None  # fee included; None unless eligible
    gap_bps: Decimal | None  # how much worse than the best, >= 0; None unless eligible
    reason: Ineligible | None  # None: it can take the whole amount

    @property
    def eligible(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Allocation:
    """One venue's share of a split."""

    key: str
    exchange: str
    symbol: str
    quote_currency: str
    amount: Decimal  # truncated to the venue's amount precision
    average_price: Decimal  # before the fee
    notional: Decimal
    fee: Decimal
    effective_price: Decimal  # fee included
    worst_price: Decimal


@dataclass(frozen=True)
class Split:
    """The amount spread over several venues, and what it saves against the best single venue."""

    side: Side
    amount: Decimal  # == sum of the allocations' amounts, exactly
    allocations: tuple[Allocation, ...]  # largest share first
    notional: Decimal
    fee: Decimal
    effective_price: Decimal  # fee included, over the whole amount
    best_single: Candidate | None  # None: no venue can take the whole amount alone
    saving: Decimal | None  # in the quote currency; None without a best single venue
    saving_bps: Decimal | None


def fill_cost(book_side: Sequence[Level], amount: Decimal, *, side: Side, taker_fee: Decimal) -> Fill | None:
    """Walk ``book_side`` (the asks for a buy, the bids for a sell) until ``amount`` is filled.

    An incomplete fill (the book ends first) comes back with ``complete=False`` and its prices
    per unit actually filled; the caller decides. None when nothing at all can be filled.
    """
    side, amount = _side(side), _amount(amount)
    _check_fee(taker_fee)
    remaining, notional, levels_used, worst = amount, Decimal(0), 0, None
    with localcontext(prec=_EXACT_DIGITS):
        for price, size in _best_first(book_side, side):
            take = min(size, remaining)
            notional += price * take
            remaining -= take
            levels_used, worst = levels_used + 1, price
            if not remaining:
                break
        fee = notional * taker_fee
        net = notional + fee if side is Side.BUY else notional - fee
        filled = amount - remaining
    if not levels_used:
        return None
    return Fill(
        amount=amount,
        filled=filled,
        average_price=notional / filled,
        notional=notional,
        fee=fee,
        effective_price=net / filled,
        worst_price=worst,
        levels_used=levels_used,
        complete=not remaining,
    )


def rank(
    quotes: Iterable[Quote],
    *,
    side: Side,
    amount: Decimal,
    symbol: str | None = None,
    equivalents: Collection[str] = (),
) -> list[Candidate]:
    """Every venue, best first: those that fill the whole amount by effective price, then the rest.

    ``symbol`` is the market asked for (default: the first quote's); quotes in another quote
    currency are accepted only when both currencies are in ``equivalents``. Ties go to the
    smaller key, so the same books always give the same ranking.
    """
    side, amount = _side(side), _amount(amount)
    quotes, asked_quote = _comparable(quotes, symbol, equivalents)
    candidates = [_candidate(quote, side, amount, asked_quote) for quote in quotes]
    eligible = sorted(
        (c for c in candidates if c.eligible), key=lambda c: (_better_first(c.effective_price, side), str(c.key))
    )
    rest = sorted(
        (c for c in candidates if not c.eligible),
        key=lambda c: (c.fill is None, -(c.fill.filled if c.fill else 0), str(c.key)),
    )
    if eligible:
        best = eligible[0].effective_price
        eligible = [replace(c, gap_bps=_worse_by_bps(c.effective_price, best, side)) for c in eligible]
    return eligible + rest


def best_split(
    quotes: Iterable[Quote],
    *,
    side: Side,
    amount: Decimal,
    max_venues: int = 3,
    min_saving_bps: Decimal = DEFAULT_MIN_SAVING_BPS,
    symbol: str | None = None,
    equivalents: Collection[str] = (),
) -> Split | None:
    """The cheapest way to fill ``amount`` over up to ``max_venues`` available venues.

    None when the split would use a single venue, saves less than ``min_saving_bps`` against
    the best single venue, the venues together are too shallow, or the amount cannot be cut
    exactly into the venues' amount steps. When no venue can fill the amount alone, a split
    that can is returned without a saving (``best_single`` is None).
    """
    side, amount = _side(side), _amount(amount)
    if isinstance(max_venues, bool) or not isinstance(max_venues, int) or max_venues < 1:
        raise ValueError(f"max_venues must be a positive integer, got {max_venues!r}")
    if not isinstance(min_saving_bps, Decimal | int) or min_saving_bps < 0:
        raise ValueError(f"min_saving_bps must be a Decimal >= 0, got {min_saving_bps!r}")
    quotes, _ = _comparable(quotes, symbol, equivalents)  # checked once; a generator is read once
    ranking = rank(quotes, side=side, amount=amount, symbol=symbol, equivalents=equivalents)
    best_single = ranking[0] if ranking and ranking[0].eligible else None

    shares = _allocate([quote for quote in quotes if quote.available], side, amount, max_venues)
    if shares is None or len(shares) < 2:
        return None
    by_key = {quote.key: quote for quote in quotes}
    allocations = tuple(
        sorted((_allocation(by_key[key], side, share) for key, share in shares.items()), key=_largest_first)
    )
    with localcontext(prec=_EXACT_DIGITS):
        notional = sum((a.notional for a in allocations), Decimal(0))
        fee = sum((a.fee for a in allocations), Decimal(0))
        net = notional + fee if side is Side.BUY else notional - fee

    saving = saving_bps = None
    if best_single is not None:
        single = best_single.fill
        with localcontext(prec=_EXACT_DIGITS):
            single_net = single.notional + single.fee if side is Side.BUY else single.notional - single.fee
            saving = single_net - net if side is Side.BUY else net - single_net
        saving_bps = saving / single_net * BPS
        if saving_bps < min_saving_bps:
            return None
    return Split(
        side=side,
        amount=amount,
        allocations=allocations,
        notional=notional,
        fee=fee,
        effective_price=net / amount,
        best_single=best_single,
        saving=saving,
        saving_bps=saving_bps,
    )


def equivalent_symbols(symbol: str, equivalents: Iterable[str]) -> list[str]:
    """The symbol asked, then the same base in each equivalent quote currency (alphabetical).

    ``BTC/USDT`` with ``{"USD", "USDT", "USDC"}`` -> ``["BTC/USDT", "BTC/USD", "BTC/USDC"]``.
    A quote currency outside ``equivalents`` has no equivalents. Derivatives (``BTC/USDT:USDT``)
    are returned alone: their settlement currency is part of the contract.
    """
    if ":" in symbol:
        return [symbol]
    base, quote = split_symbol(symbol)
    equal = {currency.upper() for currency in equivalents}
    others = sorted(equal - {quote}) if quote in equal else []
    return [f"{base}/{quote}"] + [f"{base}/{other}" for other in others]


# --- ranking -----------------------------------------------------------------------------------


def _candidate(quote: Quote, side: Side, amount: Decimal, asked_quote: str) -> Candidate:
    fill = fill_cost(quote.levels(side), amount, side=side, taker_fee=quote.fee) if quote.available else None
    if not quote.available:
        reason = Ineligible.UNAVAILABLE
    elif fill is None:
        reason = Ineligible.NO_LIQUIDITY
    elif not fill.complete:
        reason = Ineligible.INSUFFICIENT_DEPTH
    elif quote.min_amount is not None and amount < quote.min_amount:
        reason = Ineligible.BELOW_MIN_AMOUNT
    elif quote.min_cost is not None and fill.notional < quote.min_cost:
        reason = Ineligible.BELOW_MIN_COST
    else:
        reason = None
    return Candidate(
        key=quote.key,
        exchange=quote.exchange,
        symbol=quote.symbol,
        quote_currency=quote.quote_currency,
        equivalent_quote=quote.quote_currency != asked_quote,
        taker_fee=quote.fee,
        fee_assumed=quote.taker_fee is None,
        fill=fill,
        effective_price=fill.effective_price if reason is None else None,
        gap_bps=None,
        reason=reason,
    )


def _comparable(quotes: Iterable[Quote], symbol: str | None, equivalents: Collection[str]) -> tuple[tuple, str]:
    """The quotes, checked to be one market under equal quote currencies; and the asked quote currency."""
    quotes = tuple(quotes)
    keys = [quote.key for quote in quotes]
    if len(set(keys)) != len(keys):
        raise ValueError(f"quote keys must be unique, got {keys}")
    if symbol:
        base, asked = split_symbol(symbol)
    elif quotes:
        base, asked = quotes[0].base, quotes[0].quote_currency
    else:
        return quotes, ""
    equal = {currency.upper() for currency in equivalents}
    for quote in quotes:
        if quote.base != base:
            raise ValueError(f"{quote.key}: {quote.symbol} is not a {base} market")
        if quote.quote_currency != asked and not {quote.quote_currency, asked} <= equal:
            raise ValueError(
                f"{quote.key}: {quote.symbol} is quoted in {quote.quote_currency}, "
                f"which is not declared equivalent to {asked}"
            )
    return quotes, asked


# --- splitting ---------------------------------------------------------------------------------


def _allocate(quotes: list[Quote], side: Side, amount: Decimal, max_venues: int) -> dict[str, Decimal] | None:
    """Shares per venue key summing exactly to ``amount``, each within the venue's rules; or None.

    The cheapest levels across all venues are taken first. While a share breaks its venue's
    minimums (after truncation) or too many venues take part, one venue is dropped, the one
    whose absence costs least, and the amount is taken again from the others.
    """
    by_key = {quote.key: quote for quote in quotes}
    units = {quote.key: _unit_levels(quote, side) for quote in quotes}
    while True:
        greedy = _greedy(units.values(), amount)
        if greedy is None:
            return None
        shares, _ = greedy
        truncated = {key: truncate(share, by_key[key].amount_precision) for key, share in shares.items()}
        misfits = [key for key, share in truncated.items() if not _placeable(by_key[key], side, share)]
        if not misfits and len(shares) > max_venues:
            misfits = list(shares)
        if not misfits:
            return _place_remainder(by_key, side, amount, truncated)
        units = _drop_cheapest(units, misfits, amount)
        if units is None:
            return None


def _drop_cheapest(units: dict[str, list], keys: list[str], amount: Decimal) -> dict[str, list] | None:
    """``units`` without the one venue among ``keys`` whose absence costs least; None if none can go."""
    options = []
    for key in sorted(keys, key=str):
        rest = {other: levels for other, levels in units.items() if other != key}
        greedy = _greedy(rest.values(), amount)
        if greedy is not None:
            options.append((greedy[1], str(key), rest))
    return min(options, key=lambda option: option[:2])[2] if options else None


def _unit_levels(quote: Quote, side: Side) -> list[tuple]:
    """A venue's levels as (sort key of the fee-inclusive unit price, key, index, key, size), best first.

    Within a venue the unit price follows the price, so the list stays in book order and a
    venue's share of a greedy fill is a prefix of its book: what a market order would take.
    """
    factor = 1 + quote.fee if side is Side.BUY else 1 - quote.fee
    return [
        (_better_first(price * factor, side), str(quote.key), index, quote.key, size)
        for index, (price, size) in enumerate(quote.levels(side))
    ]


def _greedy(venues: Iterable[list[tuple]], amount: Decimal) -> tuple[dict[str, Decimal], Decimal] | None:
    """The continuous optimum: the cheapest fee-inclusive units of all venues, taken first.

    Returns the shares and a score, lower is better (the fee-inclusive cost of a buy, minus
    the proceeds of a sell); None when all the books together are too shallow.
    """
    shares: dict[str, Decimal] = {}
    remaining, score = amount, Decimal(0)
    with localcontext(prec=_EXACT_DIGITS):
        for unit, *_, key, size in heapq.merge(*venues, key=lambda level: level[:3]):
            take = min(size, remaining)
            shares[key] = shares.get(key, Decimal(0)) + take
            remaining -= take
            score += unit * take
            if not remaining:
                return shares, score
    return None


def _placeable(quote: Quote, side: Side, share: Decimal) -> bool:
    if share <= 0 or (quote.min_amount is not None and share < quote.min_amount):
        return False
    if quote.min_cost is None:
        return True
    return fill_cost(quote.levels(side), share, side=side, taker_fee=quote.fee).notional >= quote.min_cost


def _place_remainder(
    by_key: dict[str, Quote], side: Side, amount: Decimal, shares: dict[str, Decimal]
) -> dict[str, Decimal] | None:
    """What truncation cut off goes to the venues with the most book left, in their steps."""
    shares = dict(shares)
    remainder = amount - sum(shares.values(), Decimal(0))
    room = {key: sum((size for _, size in by_key[key].levels(side)), Decimal(0)) - shares[key] for key in shares}
    for key in sorted(shares, key=lambda key: (-room[key], str(key))):
        if not remainder:
            break
        take = truncate(min(remainder, room[key]), by_key[key].amount_precision)
        if take > 0:
            shares[key] += take
            remainder -= take
    return None if remainder else shares


def _allocation(quote: Quote, side: Side, share: Decimal) -> Allocation:
    fill = fill_cost(quote.levels(side), share, side=side, taker_fee=quote.fee)
    return Allocation(
        key=quote.key,
        exchange=quote.exchange,
        symbol=quote.symbol,
        quote_currency=quote.quote_currency,
        amount=share,
        average_price=fill.average_price,
        notional=fill.notional,
        fee=fill.fee,
        effective_price=fill.effective_price,
        worst_price=fill.worst_price,
    )


def _largest_first(allocation: Allocation) -> tuple:
    return -allocation.amount, str(allocation.key)


# --- small helpers -----------------------------------------------------------------------------


def _best_first(levels: Sequence[Level], side: Side) -> tuple[Level, ...]:
    """Usable levels best first (lowest ask for a buy, highest bid for a sell), whatever the input order."""
    usable = [(price, size) for price, size in levels if price > 0 and size > 0]
    return tuple(sorted(usable, key=lambda level: level[0], reverse=side is Side.SELL))


def _better_first(price: Decimal, side: Side) -> Decimal:
    """A sort key under which the better price for ``side`` comes first."""
    return price if side is Side.BUY else -price


def _worse_by_bps(price: Decimal, best: Decimal, side: Side) -> Decimal:
    worse = price - best if side is Side.BUY else best - price
    return worse / best * BPS


def _side(side: Side | str) -> Side:
    try:
        return Side(side)
    except ValueError:
        raise ValueError(f"side must be Side.BUY or Side.SELL, got {side!r}") from None


def _amount(amount: Decimal) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__} {amount!r}")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be greater than zero, got {amount}")
    return amount


def _check_fee(fee: Decimal) -> None:
    if not isinstance(fee, Decimal) or not fee.is_finite() or not 0 <= fee < 1:
        raise ValueError(f"taker fee must be a Decimal fraction in [0, 1), e.g. Decimal('0.001'), got {fee!r}")
