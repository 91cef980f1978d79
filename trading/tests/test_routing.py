"""Routing policies against the exchange simulator, real Postgres and real Redis: which
connection an order goes to, which ones were passed over and why."""

from decimal import Decimal

import pytest
from django.conf import settings

from exchanges import runtime
from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.resilience import connection_key, venue_key
from exchanges.resilience.breaker import breaker
from trading.services.intents import Intent, OrderRefused
from trading.services.routing import route
from trading.tests.factories import PositionFactory, TradingSettingsFactory, simulator_connection

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sim(exchange_simulator):
    exchange_simulator.set_price("BTC/USDT", 60_000)
    return exchange_simulator


def buy(amount="0.01", **fields) -> Intent:
    return Intent(symbol="BTC/USDT", side="buy", amount=D(amount), **fields)


def sell(amount="0.01", **fields) -> Intent:
    return Intent(symbol="BTC/USDT", side="sell", amount=D(amount), **fields)


def refused(**kwargs) -> OrderRefused:
    with pytest.raises(OrderRefused) as caught:
        route(**kwargs)
    return caught.value


def open_circuit(key: str) -> None:
    for _ in range(settings.CIRCUIT_BREAKER_FAILURES):
        runtime.run(breaker.record_failure(key, ExchangeUnavailable("down")))


class TestExplicit:
    def test_the_given_connection(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", priority=1)
        okx = simulator_connection(sim, tenant, "okx", priority=2)
        chosen = route(tenant=tenant, intent=buy("0.0123456789"), policy="explicit", connection=okx)
        assert chosen.connection == okx and not chosen.split
        assert chosen.legs[0].intent.amount == D("0.01234567")
        assert D("59000") < chosen.legs[0].estimated_price < D("61000")

    def test_another_tenants_connection_is_as_if_it_did_not_exist(self, sim, tenant, other_tenant):
        theirs = simulator_connection(sim, other_tenant, "binance")
        error = refused(tenant=tenant, intent=buy(), policy="explicit", connection=theirs)
        assert error.message_dict == {"connection": ["No such exchange connection."]}

    def test_a_symbol_the_exchange_does_not_list(self, sim, tenant):
        binance = simulator_connection(sim, tenant)
        error = refused(tenant=tenant, intent=Intent(symbol="PEPE/USDT", side="buy", amount=D(1)),
                        policy="explicit", connection=binance)  # fmt: skip
        assert error.message_dict == {"symbol": ["PEPE/USDT is not listed on Binance."]}

    def test_an_unknown_policy(self, tenant):
        error = refused(tenant=tenant, intent=buy(), policy="cheapest")
        assert error.field_name == "routing"


class TestPriority:
    def test_lowest_priority_number_first(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", priority=5)
        okx = simulator_connection(sim, tenant, "okx", priority=1)
        chosen = route(tenant=tenant, intent=buy(), policy="priority")
        assert chosen.connection == okx and chosen.policy == "priority"
        assert chosen.considered == ({"connection": okx.pk, "label": "OKX", "ok": True, "reason": ""},)

    @pytest.mark.parametrize(
        ("setup", "reason"),
        [
            ({"enabled": False}, None),  # not even considered
            ({"status": "failed"}, "not connected (last test: failed)"),
            ("excluded", "already tried for this order"),
            (
                "max_positions",
                "Primary already holds 1 open position (orders on their way included), its maximum of 1.",
            ),
            ("allocation", "Primary may hold 1 % of your capital"),
            ("circuit", "paused after repeated failures (circuit open)"),
            ("venue_circuit", "paused after repeated failures (circuit open)"),
            ("balance", "Primary has 10 USDT free; this order needs about 600."),
        ],
    )
    def test_skips_a_connection_that_cannot_take_the_order(self, sim, tenant, setup, reason):
        fields = setup if isinstance(setup, dict) else {}
        balances = {"USDT": 10} if setup == "balance" else None
        first = simulator_connection(sim, tenant, "binance", label="Primary", priority=1, balances=balances, **fields)
        second = simulator_connection(sim, tenant, "okx", label="Backup", priority=2)
        exclude = (first.pk,) if setup == "excluded" else ()
        if setup == "max_positions":
            first.max_positions = 1
            first.save()
            PositionFactory(connection=first, symbol="ETH/USDT", quantity=D("2"))
        if setup == "allocation":
            first.capital_allocation_pct = D("1")  # 1 % of 200000 USDT: 2000; the order is about 6000
            first.save()
        if setup == "circuit":
            open_circuit(connection_key(first.pk))
        if setup == "venue_circuit":
            open_circuit(venue_key("binance", api_base_url=sim.base_url))
        chosen = route(tenant=tenant, intent=buy("0.1" if setup == "allocation" else "0.01"), policy="priority",
                       exclude=exclude)  # fmt: skip
        assert chosen.connection == second
        passed_over = [row for row in chosen.considered if not row["ok"]]
        if reason is None:
            assert passed_over == []
        else:
            assert [row["label"] for row in passed_over] == ["Primary"]
            assert passed_over[0]["reason"].startswith(reason)

    def test_a_refusal_names_every_exchange_and_why(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", priority=1, balances={"USDT": 10})
        okx = simulator_connection(sim, tenant, "okx", priority=2, status="failed")
        error = refused(tenant=tenant, intent=buy(), policy="priority")
        assert error.refusal_code == "no_route" and error.field_name == "connection"
        text = error.text
        assert text.startswith("No exchange can take this order: Binance: Binance has 10 USDT free; this order needs")
        assert text.endswith("; OKX: not connected (last test: failed).")
        assert [(row["connection"], row["ok"]) for row in error.considered] == [(binance.pk, False), (okx.pk, False)]

    def test_without_connections(self, tenant):
        error = refused(tenant=tenant, intent=buy(), policy="priority")
        assert error.message_dict == {"connection": ["No exchange is enabled for trading."]}

    def test_skips_an_exchange_whose_minimum_order_value_is_higher(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", priority=1, balances={"USD": 1000})
        okx = simulator_connection(sim, tenant, "okx", priority=2, balances={"USD": 1000})
        # OKX (in the simulator) lists BTC/USD with a zero minimum; Binance's minimum is 10 USD
        chosen = route(tenant=tenant, intent=Intent(symbol="BTC/USD", side="buy", amount=D("0.0001")),
                       policy="priority")  # fmt: skip
        assert chosen.connection == okx
        assert "below BTC/USD's minimum order value 10 USD" in chosen.considered[0]["reason"]

    def test_never_another_tenants_connection(self, sim, tenant, other_tenant):
        simulator_connection(sim, other_tenant, "okx", label="Theirs", priority=0)
        mine = simulator_connection(sim, tenant, "binance", label="Mine", priority=9)
        assert route(tenant=tenant, intent=buy(), policy="priority").connection == mine
        mine.enabled = False
        mine.save()
        assert refused(tenant=tenant, intent=buy(), policy="priority").text == "No exchange is enabled for trading."


class TestBestPrice:
    def test_buys_where_it_is_cheaper_and_sells_where_it_pays_more(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", priority=1, balances={"USDT": 10**5, "BTC": 1})
        okx = simulator_connection(sim, tenant, "okx", priority=2, balances={"USDT": 10**5, "BTC": 1})
        sim.set_price("BTC/USDT", 59_000, exchange="okx")
        chosen = route(tenant=tenant, intent=buy(), policy="best_price")
        assert chosen.connection == okx and chosen.policy == "best_price" and not chosen.split
        assert D("59000") < chosen.legs[0].estimated_price < D("59100")
        assert route(tenant=tenant, intent=sell(), policy="best_price").connection == binance

    def test_the_cheaper_book_is_skipped_when_its_checks_fail(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", label="Poor", balances={"USDT": 10})
        okx = simulator_connection(sim, tenant, "okx")
        sim.set_price("BTC/USDT", 59_000, exchange="binance")
        chosen = route(tenant=tenant, intent=buy(), policy="best_price")
        assert chosen.connection == okx
        assert [(row["label"], row["ok"]) for row in chosen.considered] == [("Poor", False), ("OKX", True)]
        assert chosen.considered[0]["reason"].startswith("Poor has 10 USDT free")

    def test_only_eligible_connections_and_never_another_tenants(self, sim, tenant, other_tenant):
        simulator_connection(sim, other_tenant, "okx", label="Theirs")
        binance = simulator_connection(sim, tenant, "binance")
        excluded = simulator_connection(sim, tenant, "okx", label="Tried")
        sim.set_price("BTC/USDT", 50_000, exchange="okx")  # much cheaper, but not for this order
        chosen = route(tenant=tenant, intent=buy(), policy="best_price", exclude=(excluded.pk,))
        assert chosen.connection == binance
        assert {row["label"]: row["reason"] for row in chosen.considered} == {
            "Tried": "already tried for this order",
            "Binance": "",
        }

    def test_a_limit_order_goes_where_the_book_is_best_at_its_own_price(self, sim, tenant):
        simulator_connection(sim, tenant, "binance")
        okx = simulator_connection(sim, tenant, "okx")
        sim.set_price("BTC/USDT", 59_000, exchange="okx")
        chosen = route(tenant=tenant, intent=buy(type="limit", price=D("58500.55")), policy="best_price")
        assert chosen.connection == okx
        assert chosen.legs[0].intent.price == D("58500.5")  # OKX ticks by 0.1
        assert chosen.legs[0].estimated_price is None

    def test_splits_when_a_thin_book_makes_one_venue_expensive(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", balances={"USDT": 10**6})
        okx = simulator_connection(sim, tenant, "okx", balances={"USDT": 10**6})
        sim.set_price("BTC/USDT", 59_900, exchange="okx")  # cheaper at the top ...
        sim.set_book("BTC/USDT", exchange="okx", level_notional=5_000)  # ... but 0.08 BTC a level
        assert route(tenant=tenant, intent=buy("0.05"), policy="best_price").connection == okx
        single = route(tenant=tenant, intent=buy("3"), policy="best_price")
        assert single.connection == binance and not single.split  # 3 BTC walks OKX's thin book too far
        chosen = route(tenant=tenant, intent=buy("3"), policy="best_price", allow_split=True)
        assert chosen.split and chosen.policy == "best_price"
        amounts = {leg.connection: leg.intent.amount for leg in chosen.legs}
        assert set(amounts) == {binance, okx} and sum(amounts.values()) == D("3")
        assert amounts[binance] == amounts[binance].quantize(D("0.00001"))  # Binance's amount step
        assert D("1") < amounts[okx] < D("2")
        assert all(D("59900") < leg.estimated_price < D("60200") for leg in chosen.legs)
        assert {row["label"]: row["ok"] for row in chosen.considered} == {"Binance": True, "OKX": True}

    def test_a_split_share_that_fails_its_checks_sends_the_order_to_one_venue(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", balances={"USDT": 10**6})
        simulator_connection(sim, tenant, "okx", balances={"USDT": 100})
        sim.set_price("BTC/USDT", 59_900, exchange="okx")
        sim.set_book("BTC/USDT", exchange="okx", level_notional=5_000)
        chosen = route(tenant=tenant, intent=buy("3"), policy="best_price", allow_split=True)
        assert chosen.connection == binance and not chosen.split
        reasons = {row["label"]: row["reason"] for row in chosen.considered}
        assert reasons == {"OKX": reasons["OKX"], "Binance": ""}
        assert reasons["OKX"].startswith("its share of a split (1.12501): OKX has 100 USDT free")

    def test_a_book_too_thin_for_the_whole_amount_is_passed_over(self, sim, tenant):
        binance = simulator_connection(sim, tenant, "binance", balances={"USDT": 10**6})
        simulator_connection(sim, tenant, "okx", balances={"USDT": 10**6})
        sim.set_price("BTC/USDT", 59_000, exchange="okx")
        sim.set_book("BTC/USDT", exchange="okx", level_notional=5_000)  # about 8 BTC in all
        chosen = route(tenant=tenant, intent=buy("10"), policy="best_price")
        assert chosen.connection == binance
        assert {row["label"]: row["reason"] for row in chosen.considered} == {
            "OKX": "its order book is too thin for 10 BTC",
            "Binance": "",
        }

    def test_nothing_eligible(self, sim, tenant):
        simulator_connection(sim, tenant, "binance", status="untested")
        error = refused(tenant=tenant, intent=buy(), policy="best_price")
        assert error.text == "No exchange can take this order: Binance: not connected (last test: not tested yet)."


def test_the_kill_switch_stops_every_policy(sim, tenant):
    TradingSettingsFactory(tenant=tenant, kill_switch=True)
    binance = simulator_connection(sim, tenant)
    for policy in ("explicit", "priority", "best_price"):
        error = refused(tenant=tenant, intent=buy(), policy=policy, connection=binance)
        assert error.message_dict == {"non_field_errors": ["Trading is halted for Acme Capital."]}
    protective = sell(type="stop", stop_price=D("50000"), purpose="stop_loss")
    assert route(tenant=tenant, intent=protective, policy="priority").connection == binance
