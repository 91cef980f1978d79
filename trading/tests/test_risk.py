"""Pre-trade checks against the exchange simulator, real Postgres and real Redis: each
refusal names the field a trader would change and says why in numbers."""

from dataclasses import replace
from decimal import Decimal

import pytest

from exchanges import runtime
from trading.market import fetch
from trading.market.venues import Venue
from trading.services import risk
from trading.services.intents import Intent, OrderRefused
from trading.services.routing import connection_market
from trading.tests.factories import OrderFactory, PositionFactory, TradingSettingsFactory, simulator_connection

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sim(exchange_simulator):
    exchange_simulator.set_price("BTC/USDT", 60_000)
    exchange_simulator.set_price("ETH/USDT", 3_000)
    return exchange_simulator


def check(tenant, connection, intent, **kwargs):
    market = connection_market(connection=connection, symbol=intent.symbol)
    return risk.pretrade_check(tenant=tenant, connection=connection, intent=intent, market=market, **kwargs)


def refusal(tenant, connection, intent, **kwargs) -> OrderRefused:
    with pytest.raises(OrderRefused) as caught:
        check(tenant, connection, intent, **kwargs)
    return caught.value


def buy(amount, symbol="BTC/USDT", **fields) -> Intent:
    return Intent(symbol=symbol, side="buy", amount=D(str(amount)), **fields)


def sell(amount, symbol="BTC/USDT", **fields) -> Intent:
    return Intent(symbol=symbol, side="sell", amount=D(str(amount)), **fields)


class TestPrecision:
    def test_amount_and_prices_are_truncated_to_each_exchange_step(self, sim, tenant):
        binance, okx = simulator_connection(sim, tenant, "binance"), simulator_connection(sim, tenant, "okx")
        intent = buy("0.123456789", type="limit", price=D("60000.129"), stop_loss=D("55000.555"))
        on_binance = check(tenant, binance, intent)
        assert (on_binance.amount, on_binance.price, on_binance.stop_loss) == (
            D("0.12345"),
            D("60000.12"),
            D("55000.55"),
        )
        on_okx = check(tenant, okx, intent)
        assert (on_okx.amount, on_okx.price) == (D("0.12345678"), D("60000.1"))

    def test_an_amount_below_one_step_is_refused(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        refused = refusal(tenant, binance, buy("0.000001"))
        assert refused.field_name == "amount" and refused.refusal_code == "precision"
        assert refused.text == "The amount 0.000001 is smaller than BTC/USDT's amount step 0.00001 on Binance."


class TestMinimums:
    def test_minimum_amount(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        market = replace(connection_market(connection=binance, symbol="BTC/USDT"), min_amount=D("0.001"))
        with pytest.raises(OrderRefused) as caught:
            risk.pretrade_check(tenant=tenant, connection=binance, intent=buy("0.0005"), market=market)
        assert caught.value.message_dict == {
            "amount": ["The amount 0.0005 is below BTC/USDT's minimum 0.001 on Binance."]
        }

    def test_minimum_order_value_at_the_market_price(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        refused = refusal(tenant, binance, buy("0.00005"))  # about 3 USDT; Binance wants 5
        assert refused.field_name == "amount" and refused.refusal_code == "min_notional"
        assert refused.text.startswith("The order is worth about 3.0")
        assert refused.text.endswith("below BTC/USDT's minimum order value 5 USDT on Binance.")

    def test_an_attached_stop_loss_needs_room_above_the_minimum(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        assert check(tenant, binance, buy("0.0001", stop_loss=D("50000"))).amount == D("0.0001")  # 5 USDT: enough
        refused = refusal(tenant, binance, buy("0.0001", stop_loss=D("40000")))  # 6 USDT now, 4 USDT at the stop
        assert refused.field_name == "stop_loss" and refused.refusal_code == "min_notional"
        assert refused.text == (
            "At the stop-loss price 40000, 0.0001 BTC is worth 4 USDT, below BTC/USDT's minimum order value "
            "5 USDT on Binance: the stop-loss order could never be placed. Buy more or move it."
        )

    def test_an_exchange_without_a_minimum_takes_dust(self, sim, tenant):
        okx = simulator_connection(sim, tenant, "okx")
        assert check(tenant, okx, buy("0.00005")).amount == D("0.00005")


class TestBalance:
    def test_a_buy_needs_the_quote_currency_and_the_fee(self, sim, tenant):
        binance = simulator_connection(sim, tenant, balances={"USDT": "12.5"})
        refused = refusal(tenant, binance, buy("0.01", type="limit", price=D("60000")))
        assert refused.message_dict == {
            "amount": ["Binance has 12.5 USDT free; this order needs about 600.6 USDT."]  # 600 + 0.1 % taker fee
        }
        assert refused.refusal_code == "insufficient_balance"

    def test_a_sell_needs_the_base_currency(self, sim, tenant):
        binance = simulator_connection(sim, tenant, balances={"USDT": 1000, "BTC": "0.004"})
        assert check(tenant, binance, sell("0.004")).amount == D("0.004")
        refused = refusal(tenant, binance, sell("0.01"))
        assert refused.message_dict == {"amount": ["Binance has 0.004 BTC free; this order sells 0.01 BTC."]}

    def test_a_market_buy_is_valued_from_the_cached_book_without_asking_the_exchange(self, sim, tenant):
        binance = simulator_connection(sim, tenant, balances={"USDT": 100})
        venue = Venue.of(binance)
        runtime.run(fetch.order_book(venue, "BTC/USDT"))  # what the poller / best price leave in Redis
        connection_market(connection=binance, symbol="BTC/USDT")
        before = sim.request_count(path="/api/v3/ticker/*") + sim.request_count(path="/api/v3/depth")
        assert sim.request_count(path="/api/v3/depth") == 1
        refused = refusal(tenant, binance, buy("0.01"))
        assert refused.text.startswith("Binance has 100 USDT free; this order needs about 600.")
        assert sim.request_count(path="/api/v3/ticker/*") + sim.request_count(path="/api/v3/depth") == before

    def test_without_a_cached_price_the_ticker_is_fetched_once_and_cached(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        check(tenant, binance, buy("0.01"))
        fetched = sim.request_count(path="/api/v3/ticker/*")
        assert fetched >= 1
        check(tenant, binance, buy("0.01"))
        assert sim.request_count(path="/api/v3/ticker/*") == fetched


class TestLimits:
    def test_maximum_order_value(self, sim, tenant):
        TradingSettingsFactory(tenant=tenant, max_order_notional=D("500"))
        binance = simulator_connection(sim, tenant)
        check(tenant, binance, buy("0.008", type="limit", price=D("60000")))  # 480
        refused = refusal(tenant, binance, buy("0.01", type="limit", price=D("60000")))
        assert refused.message_dict == {
            "amount": ["This order is worth about 600 USDT, above your maximum order value of 500 USDT."]
        }

    def test_maximum_position_size_counts_what_is_held_and_lets_reductions_through(self, sim, tenant):
        TradingSettingsFactory(tenant=tenant, max_position_notional=D("1000"))
        binance = simulator_connection(sim, tenant, balances={"USDT": 10_000, "BTC": 1})
        PositionFactory(connection=binance, symbol="BTC/USDT", quantity=D("0.015"), average_price=D("50000"))
        check(tenant, binance, buy("0.001", type="limit", price=D("60000")))  # 0.016 x 60000 = 960
        refused = refusal(tenant, binance, buy("0.002", type="limit", price=D("60000")))
        assert refused.field_name == "amount" and refused.refusal_code == "max_position_notional"
        assert refused.text == (
            "Your BTC/USDT position on Binance would be worth about 1020 USDT (orders on their way included), "
            "above your maximum position size of 1000 USDT."
        )
        check(tenant, binance, sell("0.01", type="limit", price=D("60000")))  # reduces it

    def test_max_positions_counts_other_symbols_only(self, sim, tenant):
        binance = simulator_connection(sim, tenant, max_positions=1)
        PositionFactory(connection=binance, symbol="ETH/USDT", quantity=D("1"))
        PositionFactory(connection=binance, symbol="SOL/USDT", quantity=D("0"))  # closed: not counted
        check(tenant, binance, buy("0.1", symbol="ETH/USDT"))  # adds to the open ETH position
        refused = refusal(tenant, binance, buy("0.001"))
        assert refused.message_dict == {
            "connection": ["Binance already holds 1 open position (orders on their way included), its maximum of 1."]
        }

    def test_orders_on_their_way_count_as_positions_until_they_are_done(self, sim, tenant):
        """A burst of orders sent together: each sees the others, not only what has filled."""
        binance = simulator_connection(sim, tenant, max_positions=1)
        sent = OrderFactory(connection=binance, symbol="ETH/USDT", side="buy", amount=D("1"), remaining=D("1"),
                            status="open")  # fmt: skip
        check(tenant, binance, buy("0.1", symbol="ETH/USDT"))  # adds to what is on its way
        refused = refusal(tenant, binance, buy("0.001"))
        assert refused.refusal_code == "max_positions"
        OrderFactory(
            connection=binance,
            symbol="SOL/USDT",
            amount=D("1"),
            remaining=D("1"),
            status="pending",
            purpose="stop_loss",
        )  # fmt: skip  (protective: only reduces)
        sent.status = "canceled"
        sent.save()
        check(tenant, binance, buy("0.001"))  # canceled: nothing on its way any more

    def test_maximum_position_size_counts_orders_on_their_way(self, sim, tenant):
        TradingSettingsFactory(tenant=tenant, max_position_notional=D("1000"))
        binance = simulator_connection(sim, tenant, balances={"USDT": 10_000})
        OrderFactory(connection=binance, symbol="BTC/USDT", side="buy", amount=D("0.015"), remaining=D("0.012"),
                     filled=D("0.003"), status="partially_filled")  # fmt: skip
        PositionFactory(connection=binance, symbol="BTC/USDT", quantity=D("0.003"), average_price=D("60000"))
        check(tenant, binance, buy("0.001", type="limit", price=D("60000")))  # 0.016 x 60000 = 960
        refused = refusal(tenant, binance, buy("0.002", type="limit", price=D("60000")))
        assert refused.refusal_code == "max_position_notional" and "about 1020 USDT" in refused.text


class TestCapitalAllocation:
    def test_tenant_capital_values_every_asset_in_the_quote_currency(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", balances={"USDT": 1000, "BTC": "0.1"})
        simulator_connection(sim, tenant, "okx", balances={"USDT": 500})
        simulator_connection(sim, tenant, "okx", label="Off", balances={"USDT": 10**6}, enabled=False)
        capital = risk.tenant_capital(tenant=tenant)
        assert D("7490") < capital < D("7510")  # 1000 + 0.1 BTC at about 60000 + 500

    def test_a_connection_may_not_hold_more_than_its_share(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", balances={"USDT": 1000}, capital_allocation_pct=10)
        simulator_connection(sim, tenant, "okx", balances={"USDT": 1000})
        check(tenant, binance, buy("0.003", type="limit", price=D("60000")))  # 180 of 200
        refused = refusal(tenant, binance, buy("0.004", type="limit", price=D("60000")))
        assert refused.field_name == "amount" and refused.refusal_code == "capital_allocation"
        assert refused.text == (
            "Binance may hold 10 % of your capital, about 200 USDT of 2000 USDT; with this order it would hold "
            "about 240 USDT."
        )

    def test_open_positions_count_and_sells_that_reduce_always_pass(self, sim, tenant):
        binance = simulator_connection(
            sim, tenant, balances={"USDT": 1000, "ETH": 1, "BTC": 1}, capital_allocation_pct=D("10")
        )
        PositionFactory(connection=binance, symbol="ETH/USDT", quantity=D("1"), average_price=D("3000"))
        PositionFactory(connection=binance, symbol="BTC/USDT", quantity=D("1"), average_price=D("60000"))
        refused = refusal(tenant, binance, buy("0.1", symbol="ETH/USDT", type="limit", price=D("3000")))
        assert refused.refusal_code == "capital_allocation"
        check(tenant, binance, sell("0.5", symbol="ETH/USDT", type="limit", price=D("3000")))


class TestKillSwitch:
    def test_it_stops_new_orders_but_not_protective_ones(self, sim, tenant):
        TradingSettingsFactory(tenant=tenant, kill_switch=True, kill_switch_reason="drawdown limit hit")
        binance = simulator_connection(sim, tenant, balances={"USDT": 1000, "BTC": 1})
        refused = refusal(tenant, binance, buy("0.001"))
        assert refused.message_dict == {"non_field_errors": ["Trading is halted for Acme Capital: drawdown limit hit."]}
        assert refused.refusal_code == "kill_switch"
        stop = sell("0.001", type="stop", stop_price=D("55000"), purpose="stop_loss")
        assert check(tenant, binance, stop).stop_price == D("55000.00")

    def test_another_tenants_kill_switch_does_not_stop_this_one(self, sim, tenant, other_tenant):
        TradingSettingsFactory(tenant=other_tenant, kill_switch=True)
        binance = simulator_connection(sim, tenant)
        assert check(tenant, binance, buy("0.001")).amount == D("0.001")
