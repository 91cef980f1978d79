"""Best price: depth-aware, fee-inclusive ranking and split proposals, on plain order books."""

import dataclasses
import random
from decimal import Decimal

import pytest

from exchanges.adapters.types import Market, OrderBook, Side
from trading.pricing import (
    DEFAULT_TAKER_FEE,
    Candidate,
    Ineligible,
    Quote,
    Split,
    best_split,
    equivalent_symbols,
    fill_cost,
    rank,
)

D = Decimal
STABLES = {"USD", "USDT", "USDC"}


def levels(*pairs):
    return tuple((D(str(price)), D(str(size))) for price, size in pairs)


def venue(key, *, asks=(), bids=(), fee="0.001", symbol="BTC/USDT", exchange=None, **rules):
    book = OrderBook(
        exchange=exchange or f"ex-{key}", symbol=symbol, bids=levels(*bids), asks=levels(*asks), timestamp=None
    )
    rules = {name: D(value) if isinstance(value, str) else value for name, value in rules.items()}
    return Quote(key=key, book=book, taker_fee=None if fee is None else D(fee), **rules)


def keys(candidates):
    return [candidate.key for candidate in candidates]


def shares(split):
    return {allocation.key: allocation.amount for allocation in split.allocations}


def floats_in(value):
    """Every float anywhere inside a result (dataclasses, tuples, lists, dicts)."""
    if isinstance(value, float):
        return [value]
    if dataclasses.is_dataclass(value):
        return [f for item in dataclasses.fields(value) for f in floats_in(getattr(value, item.name))]
    if isinstance(value, tuple | list):
        return [f for item in value for f in floats_in(item)]
    if isinstance(value, dict):
        return [f for item in value.items() for f in floats_in(item)]
    return []


# --- fill_cost ---------------------------------------------------------------------------------


def test_fill_cost_walks_the_asks_and_adds_the_fee():
    fill = fill_cost(levels((100, 1), (101, 2), (150, 5)), D(2), side=Side.BUY, taker_fee=D("0.001"))

    assert fill.complete
    assert (fill.amount, fill.filled, fill.levels_used) == (D(2), D(2), 2)
    assert fill.notional == D(201)
    assert fill.average_price == D("100.5")
    assert fill.fee == D("0.201")
    assert fill.effective_price == D("100.6005")  # (201 + 0.201) / 2
    assert fill.worst_price == D(101)


def test_fill_cost_for_a_sell_walks_the_bids_and_subtracts_the_fee():
    fill = fill_cost(levels((100, 1), (99, 2)), D(2), side=Side.SELL, taker_fee=D("0.001"))

    assert fill.notional == D(199)
    assert fill.effective_price == D("99.4005")  # (199 - 0.199) / 2
    assert fill.worst_price == D(99)


def test_fill_cost_reports_an_incomplete_fill_and_none_on_an_empty_book():
    fill = fill_cost(levels((100, 1), (101, 2)), D(5), side=Side.BUY, taker_fee=D(0))

    assert not fill.complete
    assert (fill.amount, fill.filled, fill.notional) == (D(5), D(3), D(302))
    assert fill.effective_price == D(302) / D(3)  # per unit actually filled
    assert fill_cost((), D(1), side=Side.BUY, taker_fee=D(0)) is None


def test_fill_cost_takes_the_best_levels_first_whatever_the_input_order():
    fill = fill_cost(levels((101, 2), (100, 1)), D(1), side=Side.BUY, taker_fee=D(0))

    assert fill.average_price == D(100)
    assert fill.levels_used == 1


# --- rank --------------------------------------------------------------------------------------


def test_depth_aware_best_price_picks_the_exchange_with_the_better_fill_for_a_large_amount_even_when_its_top_of_book_is_worse():  # noqa: E501
    thin = venue("a", asks=[(100, "0.1"), (110, 10)])  # better top of book, thin
    deep = venue("b", asks=[("100.5", 10)])  # slightly worse top, deep

    small = rank([thin, deep], side=Side.BUY, amount=D("0.05"))
    large = rank([thin, deep], side=Side.BUY, amount=D(2))

    assert keys(small) == ["a", "b"]
    assert keys(large) == ["b", "a"]
    assert large[0].effective_price == D("100.6005")  # 100.5 plus the 0.1 % fee
    assert large[1].fill.average_price == D("109.5")  # 0.1 at 100 and 1.9 at 110
    assert large[1].gap_bps > D(800)


def test_the_taker_fee_changes_the_winner():
    asks = [(100, 10)]
    quotes = [venue("a", asks=asks, fee="0.001"), venue("b", asks=asks, fee="0.0005")]

    ranked = rank(quotes, side=Side.BUY, amount=D(1))

    assert keys(ranked) == ["b", "a"]
    assert ranked[0].effective_price == D("100.05")
    assert ranked[1].gap_bps == (D("100.1") - D("100.05")) / D("100.05") * 10_000


def test_an_unknown_fee_is_assumed_conservative_and_says_so():
    quotes = [venue("a", asks=[(100, 10)], fee=None), venue("b", asks=[(100, 10)], fee="0.002")]

    ranked = rank(quotes, side=Side.BUY, amount=D(1))

    assert keys(ranked) == ["a", "b"]
    assert ranked[0].fee_assumed and ranked[0].taker_fee == DEFAULT_TAKER_FEE == D("0.001")
    assert not ranked[1].fee_assumed


def test_sell_side_prefers_the_highest_fee_inclusive_proceeds_after_depth():
    thin = venue("a", bids=[(100, "0.1"), (90, 10)])
    deep = venue("b", bids=[("99.5", 10)])

    assert keys(rank([thin, deep], side=Side.SELL, amount=D("0.05"))) == ["a", "b"]
    large = rank([thin, deep], side=Side.SELL, amount=D(2))
    assert keys(large) == ["b", "a"]
    assert large[0].effective_price == D("99.5") * D("0.999")
    assert large[0].gap_bps == 0 and large[1].gap_bps > 0


def test_a_venue_that_cannot_fill_the_whole_amount_is_flagged_and_never_best():
    shallow = venue("a", asks=[(90, 1)])  # far cheaper, but only 1 BTC
    enough = venue("b", asks=[(100, 5)])
    empty = venue("c")

    ranked = rank([empty, shallow, enough], side=Side.BUY, amount=D(2))

    assert keys(ranked) == ["b", "a", "c"]
    assert ranked[0].eligible and ranked[0].gap_bps == 0
    assert ranked[1].reason is Ineligible.INSUFFICIENT_DEPTH
    assert ranked[1].effective_price is None and ranked[1].gap_bps is None
    assert ranked[1].fill.filled == D(1)
    assert ranked[2].reason is Ineligible.NO_LIQUIDITY and ranked[2].fill is None


def test_when_no_venue_fills_alone_nothing_is_best():
    ranked = rank([venue("a", asks=[(100, 1)]), venue("b", asks=[(101, 1)])], side=Side.BUY, amount=D(3))

    assert not any(candidate.eligible for candidate in ranked)


def test_an_unavailable_venue_is_listed_but_never_best():
    down = dataclasses.replace(venue("a", asks=[(90, 10)]), available=False)

    ranked = rank([down, venue("b", asks=[(100, 10)])], side=Side.BUY, amount=D(1))

    assert keys(ranked) == ["b", "a"]
    assert ranked[1].reason is Ineligible.UNAVAILABLE


def test_market_minimums_make_a_venue_ineligible():
    quotes = [
        venue("a", asks=[(90, 10)], min_amount="0.5"),
        venue("b", asks=[(95, 10)], min_cost="50"),
        venue("c", asks=[(100, 10)]),
    ]

    ranked = rank(quotes, side=Side.BUY, amount=D("0.4"))  # 0.4 BTC at 95 costs 38

    assert keys(ranked) == ["c", "a", "b"]
    assert {c.key: c.reason for c in ranked[1:]} == {"a": Ineligible.BELOW_MIN_AMOUNT, "b": Ineligible.BELOW_MIN_COST}


def test_ties_are_broken_by_key():
    quotes = [venue(key, asks=[(100, 10)]) for key in ("c", "a", "b")]

    assert keys(rank(quotes, side=Side.BUY, amount=D(1))) == ["a", "b", "c"]


def test_quote_from_market_takes_the_market_rules():
    book = OrderBook(exchange="binance", symbol="BTC/USDT", bids=(), asks=levels((100, 1)), timestamp=None)
    market = Market(
        symbol="BTC/USDT",
        id="BTCUSDT",
        base="BTC",
        quote="USDT",
        taker_fee=D("0.00075"),
        min_amount=D("0.0001"),
        min_cost=D(5),
        amount_precision=D("0.00001"),
        active=False,
    )

    quote = Quote.from_market("7", book, market)

    assert (quote.fee, quote.min_amount, quote.min_cost, quote.amount_precision) == (
        D("0.00075"),
        D("0.0001"),
        D(5),
        D("0.00001"),
    )
    assert (quote.exchange, quote.symbol, quote.base, quote.quote_currency) == ("binance", "BTC/USDT", "BTC", "USDT")
    assert not quote.available  # an inactive market takes no orders


# --- equivalent quote currencies ---------------------------------------------------------------


def test_equivalent_symbols_put_the_asked_one_first():
    assert equivalent_symbols("BTC/USDT", STABLES) == ["BTC/USDT", "BTC/USD", "BTC/USDC"]
    assert equivalent_symbols("eth-usdc", ["usdt", "usdc"]) == ["ETH/USDC", "ETH/USDT"]
    assert equivalent_symbols("BTC/EUR", STABLES) == ["BTC/EUR"]
    assert equivalent_symbols("BTC/USDT", ()) == ["BTC/USDT"]


def test_a_venue_under_an_equivalent_quote_competes_and_says_which_quote_it_trades_in():
    quotes = [venue("a", asks=[(100, 10)]), venue("b", asks=[("99.9", 10)], symbol="BTC/USD")]

    ranked = rank(quotes, side=Side.BUY, amount=D(1), symbol="BTC/USDT", equivalents=STABLES)

    assert keys(ranked) == ["b", "a"]
    assert (ranked[0].quote_currency, ranked[0].equivalent_quote) == ("USD", True)
    assert (ranked[1].quote_currency, ranked[1].equivalent_quote) == ("USDT", False)


def test_quotes_that_are_not_declared_equivalent_are_refused():
    quotes = [venue("a", asks=[(100, 10)]), venue("b", asks=[(99, 10)], symbol="BTC/EUR")]

    with pytest.raises(ValueError, match="not declared equivalent"):
        rank(quotes, side=Side.BUY, amount=D(1), symbol="BTC/USDT", equivalents=STABLES)
    with pytest.raises(ValueError, match="not declared equivalent"):
        rank(quotes[:1] + [venue("b", asks=[(99, 10)], symbol="BTC/USD")], side=Side.BUY, amount=D(1))
    with pytest.raises(ValueError, match="not a BTC market"):
        rank(quotes[:1] + [venue("c", asks=[(9, 10)], symbol="ETH/USDT")], side=Side.BUY, amount=D(1))


# --- best_split --------------------------------------------------------------------------------


def test_a_split_beats_the_best_single_venue_when_cheap_liquidity_is_thin_everywhere():
    quotes = [venue("a", asks=[(100, 1), (105, 10)]), venue("b", asks=[("100.2", 1), (105, 10)])]

    split = best_split(quotes, side=Side.BUY, amount=D(2))

    assert isinstance(split, Split)
    assert shares(split) == {"a": D(1), "b": D(1)}
    assert split.notional == D("200.2")
    assert split.fee == D("0.2002")
    assert split.effective_price == D("200.4002") / 2
    assert split.best_single.key == "a"  # 1 at 100 then 1 at 105
    assert split.saving == D("205.205") - D("200.4002")
    assert split.saving_bps == split.saving / D("205.205") * 10_000
    assert [a.effective_price for a in split.allocations] == [D("100.1"), D("100.2") * D("1.001")]


def test_split_amounts_sum_exactly_to_the_amount_after_truncation():
    quotes = [
        venue("a", asks=[(100, "0.1234"), (106, 10)], amount_precision="0.01"),
        venue("b", asks=[("100.1", "0.5678"), (106, 10)], amount_precision="0.001"),
    ]

    split = best_split(quotes, side=Side.BUY, amount=D("1.5"))

    # Greedy: a 0.9322, b 0.5678; truncated 0.93 + 0.567; the 0.003 cut off fits only b's step.
    assert shares(split) == {"a": D("0.93"), "b": D("0.570")}
    assert sum(shares(split).values()) == D("1.5")


def test_the_truncation_remainder_goes_to_the_venue_with_the_most_book_left():
    quotes = [
        venue("a", asks=[(100, "0.125"), (106, 1)], amount_precision="0.01"),
        venue("b", asks=[("100.1", "0.565"), (106, 10)], amount_precision="0.01"),
    ]

    split = best_split(quotes, side=Side.BUY, amount=D("1.5"))

    # Greedy: a 0.935, b 0.565; truncated 0.93 + 0.56; the 0.01 left goes to b (10.005 left against 0.195).
    assert shares(split) == {"a": D("0.93"), "b": D("0.57")}


def test_the_split_takes_levels_by_their_fee_inclusive_cost():
    quotes = [
        venue("a", asks=[(100, 1), (105, 10)], fee="0.005"),  # 100.5 with the fee
        venue("b", asks=[("100.2", 1), (105, 10)], fee="0.001"),  # 100.3002 with the fee
    ]

    split = best_split(quotes, side=Side.BUY, amount=D("1.5"))

    assert shares(split) == {"b": D(1), "a": D("0.5")}
    assert split.best_single.key == "b"
    assert split.effective_price == (D("100.2") * D("1.001") + D(50) * D("1.005")) / D("1.5")


def test_a_share_below_the_venue_minimum_is_dropped_and_taken_elsewhere():
    quotes = [
        venue("a", asks=[(100, 1), (105, 10)]),
        venue("b", asks=[("100.2", 1), (105, 10)]),
        venue("c", asks=[(99, "0.05"), (110, 10)], min_amount="0.1"),
    ]

    split = best_split(quotes, side=Side.BUY, amount=D(2))

    assert shares(split) == {"a": D(1), "b": D(1)}


def test_a_share_below_the_venue_minimum_cost_is_dropped():
    quotes = [
        venue("a", asks=[(100, 1), (105, 10)]),
        venue("b", asks=[("100.2", 1), (105, 10)]),
        venue("c", asks=[(99, "0.05"), (110, 10)], min_cost="10"),  # 0.05 at 99 is 4.95
    ]

    assert shares(best_split(quotes, side=Side.BUY, amount=D(2))) == {"a": D(1), "b": D(1)}


def test_max_venues_is_respected_keeping_the_cheapest_venues():
    prices = {"a": "100", "b": "100.1", "c": "100.2", "d": "100.3"}
    quotes = [venue(key, asks=[(price, "0.5"), (110, 10)]) for key, price in prices.items()]

    four = best_split(quotes, side=Side.BUY, amount=D(2), max_venues=4)
    two = best_split(quotes, side=Side.BUY, amount=D(2), max_venues=2)

    assert shares(four) == dict.fromkeys("abcd", D("0.5"))
    assert shares(two) == {"a": D("1.5"), "b": D("0.5")}
    assert len(best_split(quotes, side=Side.BUY, amount=D(2)).allocations) == 3  # the default
    assert best_split(quotes, side=Side.BUY, amount=D(2), max_venues=1) is None


def test_no_split_is_proposed_when_one_venue_is_cheapest_throughout():
    quotes = [venue("a", asks=[(100, 10)]), venue("b", asks=[(101, 10)])]

    assert best_split(quotes, side=Side.BUY, amount=D(5)) is None


def test_no_split_is_proposed_when_it_saves_less_than_the_threshold():
    quotes = [venue("a", asks=[(100, 1), ("100.02", 10)]), venue("b", asks=[("100.01", 1), ("100.02", 10)])]

    assert best_split(quotes, side=Side.BUY, amount=D(2)) is None  # saves about 0.5 bps
    split = best_split(quotes, side=Side.BUY, amount=D(2), min_saving_bps=D("0.1"))
    assert D("0.4") < split.saving_bps < D("0.6")


def test_a_sell_split_takes_the_highest_bids_across_venues():
    quotes = [venue("a", bids=[(100, 1), (95, 10)]), venue("b", bids=[("99.8", 1), (95, 10)])]

    split = best_split(quotes, side=Side.SELL, amount=D(2))

    assert shares(split) == {"a": D(1), "b": D(1)}
    assert split.effective_price == D("199.8") * D("0.999") / 2
    assert split.saving == D("199.8") * D("0.999") - D(195) * D("0.999")


def test_a_split_is_proposed_without_a_saving_when_no_venue_fills_alone():
    quotes = [venue("a", asks=[(100, 1)]), venue("b", asks=[("100.1", 1)]), venue("c", asks=[(1, 9)], fee="0.001")]
    quotes[2] = dataclasses.replace(quotes[2], available=False)

    split = best_split(quotes, side=Side.BUY, amount=D("1.5"))

    assert shares(split) == {"a": D(1), "b": D("0.5")}
    assert split.best_single is None and split.saving is None and split.saving_bps is None


def test_no_split_when_all_books_together_are_too_shallow_or_the_amount_does_not_fit_the_steps():
    quotes = [venue("a", asks=[(100, 1)], amount_precision="0.1"), venue("b", asks=[(101, 1)], amount_precision="0.1")]

    assert best_split(quotes, side=Side.BUY, amount=D(3)) is None
    assert best_split(quotes, side=Side.BUY, amount=D("1.55")) is None  # no 0.1 steps add up to 1.55
    assert shares(best_split(quotes, side=Side.BUY, amount=D("1.5"))) == {"a": D("1.0"), "b": D("0.5")}


# --- types and validation ----------------------------------------------------------------------


def test_results_hold_decimals_never_floats():
    quotes = [
        venue("a", asks=[(100, 1), (105, 10)], bids=[(99, 1)], amount_precision="0.001", min_amount="0.001"),
        venue("b", asks=[("100.2", 1), (105, 10)], bids=[(98, 1)], fee=None, symbol="BTC/USD"),
    ]
    results = [
        rank(quotes, side=Side.BUY, amount=D(2), equivalents=STABLES),
        rank(quotes, side=Side.SELL, amount=D(5), equivalents=STABLES),
        best_split(quotes, side=Side.BUY, amount=D(2), equivalents=STABLES),
        fill_cost(quotes[0].levels(Side.BUY), D(3), side=Side.BUY, taker_fee=D("0.001")),
    ]

    assert all(result for result in results)
    assert floats_in(results) == []
    split = results[2]
    money = [split.notional, split.fee, split.effective_price, split.saving, split.saving_bps]
    money += [value for a in split.allocations for value in (a.amount, a.average_price, a.fee, a.effective_price)]
    assert all(isinstance(value, Decimal) for value in money)
    assert all(isinstance(c, Candidate) and isinstance(c.gap_bps, Decimal) for c in results[0])


@pytest.mark.parametrize("amount", [D(0), D(-1), D("NaN"), D("Infinity")])
def test_the_amount_must_be_positive(amount):
    quotes = [venue("a", asks=[(100, 1)])]

    for call in (
        lambda: rank(quotes, side=Side.BUY, amount=amount),
        lambda: best_split(quotes, side=Side.BUY, amount=amount),
        lambda: fill_cost(quotes[0].levels(Side.BUY), amount, side=Side.BUY, taker_fee=D(0)),
    ):
        with pytest.raises(ValueError, match="amount must be greater than zero"):
            call()


def test_floats_and_unknown_sides_are_refused():
    quotes = [venue("a", asks=[(100, 1)])]

    with pytest.raises(TypeError, match="amount must be a Decimal"):
        rank(quotes, side=Side.BUY, amount=0.5)
    with pytest.raises(ValueError, match="side must be Side.BUY or Side.SELL"):
        rank(quotes, side="hold", amount=D(1))
    with pytest.raises(TypeError, match="taker_fee must be a Decimal"):
        Quote(key="x", book=quotes[0].book, taker_fee=0.001)
    with pytest.raises(ValueError, match="taker fee must be a Decimal fraction"):
        venue("y", fee="1.5")
    with pytest.raises(ValueError, match="keys must be unique"):
        rank(quotes * 2, side=Side.BUY, amount=D(1))
    with pytest.raises(ValueError, match="max_venues"):
        best_split(quotes, side=Side.BUY, amount=D(1), max_venues=0)


# --- randomized properties ---------------------------------------------------------------------


def random_venue(rng, key, side):
    price = D(100) + D(rng.randint(-200, 200)) / 100
    book = []
    for _ in range(rng.randint(1, 6)):
        book.append((price, D(rng.randint(1, 2000)) / 1000))
        price += D(rng.randint(1, 100)) / 100 * (1 if side is Side.BUY else -1)
    return venue(
        key,
        asks=book if side is Side.BUY else (),
        bids=book if side is Side.SELL else (),
        fee=rng.choice([None, "0", "0.0005", "0.001", "0.002"]),
        amount_precision=rng.choice([None, "0.01", "0.001"]),
        min_amount=rng.choice([None, None, "0.01", "0.05"]),
        min_cost=rng.choice([None, None, "1", "10"]),
        available=rng.random() > 0.1,
    )


def test_randomized_split_is_never_worse_than_the_best_single_venue_and_sums_to_the_amount():
    rng = random.Random(20240611)
    proposed = with_saving = 0
    for case in range(400):
        side = rng.choice([Side.BUY, Side.SELL])
        quotes = [random_venue(rng, f"v{i}", side) for i in range(rng.randint(2, 5))]
        amount = D(rng.randint(1, 500)) / 100
        max_venues = rng.randint(2, 4)

        ranked = rank(quotes, side=side, amount=amount)
        split = best_split(quotes, side=side, amount=amount, max_venues=max_venues, min_saving_bps=D(0))

        eligible = [c for c in ranked if c.eligible]
        prices = [c.effective_price for c in eligible]
        assert prices == sorted(prices, reverse=side is Side.SELL), case
        assert all(c.eligible for c in ranked[: len(eligible)]), case
        if split is None:
            continue
        proposed += 1
        by_key = {quote.key: quote for quote in quotes}
        assert sum(a.amount for a in split.allocations) == amount, case
        assert 2 <= len(split.allocations) <= max_venues, case
        for allocation in split.allocations:
            quote = by_key[allocation.key]
            assert quote.available, case
            step = quote.amount_precision
            assert step is None or allocation.amount % step == 0, case
            assert quote.min_amount is None or allocation.amount >= quote.min_amount, case
            assert quote.min_cost is None or allocation.notional >= quote.min_cost, case
            assert allocation.amount <= sum(size for _, size in quote.levels(side)), case
        if eligible:
            with_saving += 1
            better_or_equal = (
                split.effective_price <= eligible[0].effective_price
                if side is Side.BUY
                else split.effective_price >= eligible[0].effective_price
            )
            assert better_or_equal, case
            assert split.saving >= 0, case
    assert proposed > 50 and with_saving > 20  # the property was exercised, not skipped
