"""Subscriptions: the API trio, config validation against the bot's schemas, evaluation on
the exchange simulator (one order per signal, groups fetch candles once, a crashing bot is
stopped), and live performance figures from the subscription's own fills."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bots.models import Bot, BotSignal, SignalOutcome, Subscription
from bots.services import catalog
from bots.services.evaluation import group_evaluate, subscriptions_due
from bots.services.performance import subscription_performance
from bots.tests.factories import BotFactory, ListedBotFactory, SubscriptionFactory
from bots.tests.test_catalog_api import ALWAYS_BUY
from trading.models import Order, Trade
from trading.services import execution
from trading.tests.factories import OrderFactory, TradeFactory, simulator_connection

pytestmark = pytest.mark.django_db

CRASHES = b"""
from bots.sdk import CustomBot


class Crashes(CustomBot):
    def analyze_market(self, candles):
        return 1 / 0
"""


@pytest.fixture
def binance(exchange_simulator, tenant):
    return simulator_connection(exchange_simulator, tenant, balances={"USDT": 100_000, "BTC": 1})


def code_bot(tenant, code: bytes, name="Coded"):
    bot = BotFactory(author=tenant, builtin="", name=name)
    catalog.bot_file_upload(bot=bot, upload=SimpleUploadedFile("bot.py", code), file_type="CODE")
    return bot


def body(bot, connection, **extra):
    return {"name": "My SMA", "bot": bot.pk, "connection": connection.pk, "symbol": "BTC/USDT",
            "timeframe": "1h"} | extra  # fmt: skip


def evaluate_all():
    counts = {}
    for group in subscriptions_due():
        for key, value in group_evaluate(venue=group.venue, symbol=group.symbol, timeframe=group.timeframe,
                                         candle_at=group.candle_at,
                                         subscription_ids=group.subscription_ids).items():  # fmt: skip
            counts[key] = counts.get(key, 0) + value
    return counts


class TestApi:
    def test_the_owner_subscribes_the_viewer_reads_the_outsider_sees_nothing(self, api, owner, member, outsider,
                                                                              tenant):  # fmt: skip
        from exchanges.tests.factories import ExchangeConnectionFactory

        connection = ExchangeConnectionFactory(tenant=tenant)
        bot = Bot.objects.get(author=None, builtin="sma_crossover")  # made by migrate, like on a new install
        assert api(member).post("/api/v1/subscriptions/", body(bot, connection), format="json").status_code == 403
        response = api(owner).post("/api/v1/subscriptions/", body(bot, connection), format="json")
        assert response.status_code == 201, response.content
        sub = response.json()
        assert sub["status"] == "running" and sub["strategy_config"]["fast"] == 10  # schema defaults filled in
        assert sub["execution_config"]["order_amount"]
        assert api(member).get(f"/api/v1/subscriptions/{sub['id']}/").status_code == 200
        assert api(member).post(f"/api/v1/subscriptions/{sub['id']}/pause/").status_code == 403
        client = api(outsider)
        for url in ("", "signals/", "performance/"):
            assert client.get(f"/api/v1/subscriptions/{sub['id']}/{url}").status_code == 404
        assert client.post(f"/api/v1/subscriptions/{sub['id']}/pause/").status_code == 404
        assert client.patch(f"/api/v1/subscriptions/{sub['id']}/", {"name": "x"}, format="json").status_code == 404
        assert client.get("/api/v1/subscriptions/").json()["results"] == []
        # and cannot subscribe with the tenant's connection or its private bots
        private = BotFactory(author=tenant)
        response = client.post("/api/v1/subscriptions/", body(private, connection), format="json")
        assert response.status_code == 400 and {"bot"} <= set(response.json())

    def test_pause_resume_stop(self, api, owner, tenant):
        sub = SubscriptionFactory(connection__tenant=tenant)
        client = api(owner)
        assert client.post(f"/api/v1/subscriptions/{sub.pk}/pause/").json()["status"] == "paused"
        again = client.post(f"/api/v1/subscriptions/{sub.pk}/pause/")
        assert again.status_code == 400 and "status" in again.json()
        assert client.post(f"/api/v1/subscriptions/{sub.pk}/resume/").json()["status"] == "running"
        assert client.delete(f"/api/v1/subscriptions/{sub.pk}/").json()["status"] == "stopped"

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"strategy_config": {"fast": "ten"}}, "strategy_config"),
            ({"strategy_config": {"fast": 0}}, "strategy_config"),
            ({"execution_config": {"order_amount": "-5"}}, "execution_config"),
            ({"risk_config": {"stop_loss_pct": 500}}, "risk_config"),
            ({"symbol": "BTC"}, "symbol"),
            ({"timeframe": "7m"}, "timeframe"),
            ({"connection": None}, "connection"),
        ],
    )
    def test_bad_configs_are_refused_naming_the_field(self, api, owner, tenant, extra, field):
        from exchanges.tests.factories import ExchangeConnectionFactory

        connection = ExchangeConnectionFactory(tenant=tenant)
        bot = BotFactory(author=tenant, strategy_schema=_sma_schema(), execution_schema=_execution_schema(),
                         risk_schema=_risk_schema())  # fmt: skip
        extra = dict(extra)
        if extra.get("connection", 1) is None:
            extra["routing"] = "explicit"
        response = api(owner).post("/api/v1/subscriptions/", body(bot, connection) | extra, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()
        assert Subscription.objects.count() == 0


def _sma_schema():
    from bots.sdk.builtin import REGISTRY

    return REGISTRY["sma_crossover"].strategy_schema


def _execution_schema():
    from bots.sdk.builtin import REGISTRY

    return REGISTRY["sma_crossover"].execution_schema


def _risk_schema():
    from bots.sdk.builtin import REGISTRY

    return REGISTRY["sma_crossover"].risk_schema


class TestEvaluation:
    def test_a_buy_signal_on_the_simulator_leads_to_exactly_one_order(self, tenant, binance, exchange_simulator,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
        bot = code_bot(tenant, ALWAYS_BUY)
        sub = SubscriptionFactory(connection=binance, bot=bot, execution_config={"order_amount": "100"})
        with django_capture_on_commit_callbacks():
            counts = evaluate_all()
        assert counts == {"order": 1}
        signal = BotSignal.objects.get(subscription=sub)
        assert signal.action == "BUY" and signal.outcome == SignalOutcome.ORDER and signal.reason == "always"
        order = signal.order
        assert order.side == "buy" and order.source == "bot"
        execution.order_send(order_id=order.pk)
        order.refresh_from_db()
        assert order.status == "filled"
        # the same candle again, however it comes (a second beat, a redelivered task): nothing new
        with django_capture_on_commit_callbacks():
            assert evaluate_all() == {}
            assert group_evaluate(venue=_venue(binance), symbol="BTC/USDT", timeframe="1h",
                                  candle_at=signal.candle_at, subscription_ids=[sub.pk]) == {}  # fmt: skip
        assert Order.objects.count() == 1 and BotSignal.objects.count() == 1
        assert len(exchange_simulator.orders("binance")) == 1
        sub.refresh_from_db()
        assert sub.last_action == "BUY" and sub.last_candle_at == signal.candle_at

    def test_buy_then_sell_what_its_own_fills_hold_and_skip_what_makes_no_sense(
        self, tenant, binance, exchange_simulator, django_capture_on_commit_callbacks
    ):
        from bots.sdk import Action
        from bots.services.signals import signal_act

        sub = SubscriptionFactory(connection=binance, execution_config={"order_amount": "650"})
        price = float(exchange_simulator.price("BTC/USDT", exchange="binance"))
        sell_first = signal_act(subscription=sub, action=Action.sell(price, "cross down"), candle_at=1)
        assert sell_first.outcome == "skipped" and sell_first.detail == "nothing to sell (flat)"
        with django_capture_on_commit_callbacks():
            buy = signal_act(subscription=sub, action=Action.buy(price, "cross up"), candle_at=2)
        assert buy.outcome == "order"
        assert signal_act(subscription=sub, action=Action.buy(price, "again"), candle_at=3).detail == (
            "an entry order is still working"
        )
        execution.order_send(order_id=buy.order_id)
        buy.order.refresh_from_db()
        assert buy.order.status == "filled" and buy.order.filled == Decimal("650") / Decimal(str(price))
        assert signal_act(subscription=sub, action=Action.buy(price, "again"), candle_at=4).detail == "already long"
        with django_capture_on_commit_callbacks():
            sell = signal_act(subscription=sub, action=Action.sell(price, "cross down"), candle_at=5)
        assert sell.outcome == "order" and sell.order.side == "sell" and sell.order.amount == buy.order.filled
        execution.order_send(order_id=sell.order_id)
        figures = subscription_performance(subscription=sub)
        assert figures["total_trades"] == 1 and figures["open_position"] == 0
        assert len(exchange_simulator.orders("binance")) == 2

    def test_a_refused_order_is_recorded_with_the_reason(self, tenant, exchange_simulator):
        from bots.sdk import Action
        from bots.services.signals import signal_act

        poor = simulator_connection(exchange_simulator, tenant, balances={"USDT": 10})
        sub = SubscriptionFactory(connection=poor, execution_config={"order_amount": "5000"})
        signal = signal_act(subscription=sub, action=Action.buy(65000.0, "cross up"), candle_at=1)
        assert signal.outcome == "refused" and "10 USDT free" in signal.detail, signal.detail
        assert Order.objects.count() == 0

    def test_a_subscription_without_a_connection_trades_where_routing_sends_it(
        self, tenant, owner, binance, django_capture_on_commit_callbacks
    ):
        from bots.services import subscriptions

        sub = subscriptions.subscription_create(
            tenant=tenant, user=owner, bot=code_bot(tenant, ALWAYS_BUY), name="routed", symbol="BTC/USDT",
            routing="priority", execution_config={"order_amount": "100"},
        )  # fmt: skip
        assert sub.connection is None and sub.routing == "priority"
        with django_capture_on_commit_callbacks():
            assert evaluate_all() == {"order": 1}
        order = BotSignal.objects.get(subscription=sub).order
        assert order.connection == binance and order.routing == "priority"

    def test_a_group_fetches_candles_once_for_every_subscription(self, tenant, other_tenant, binance,
                                                                  exchange_simulator):  # fmt: skip
        other = simulator_connection(exchange_simulator, other_tenant)
        bot = ListedBotFactory(author=None, slug="sma-group", builtin="sma_crossover")
        subs = [SubscriptionFactory(connection=binance, bot=bot) for _ in range(3)]
        subs += [SubscriptionFactory(connection=other, bot=bot, strategy_config={"fast": 5, "slow": 20})]
        SubscriptionFactory(connection=binance, bot=bot, timeframe="4h")
        groups = subscriptions_due()
        assert sorted(len(g.subscription_ids) for g in groups) == [1, 4]
        before = exchange_simulator.request_count(path="/api/v3/klines")
        counts = evaluate_all()
        assert sum(counts.values()) == 5
        assert exchange_simulator.request_count(path="/api/v3/klines") - before == 2  # one per group
        assert BotSignal.objects.filter(subscription__in=subs).count() == 4

    def test_a_crashing_bot_is_stopped_with_its_error_and_the_group_goes_on(self, tenant, binance):
        crashing = SubscriptionFactory(connection=binance, bot=code_bot(tenant, CRASHES, name="Crashes"))
        healthy = SubscriptionFactory(connection=binance, bot=ListedBotFactory(author=None, slug="sma-ok"))
        counts = evaluate_all()
        assert counts.get("error") == 1 and sum(counts.values()) == 2
        crashing.refresh_from_db()
        assert crashing.status == "stopped" and "ZeroDivisionError" in crashing.error
        assert BotSignal.objects.get(subscription=crashing).outcome == SignalOutcome.ERROR
        assert BotSignal.objects.filter(subscription=healthy).exists()

    def test_a_bot_that_loops_forever_is_killed_and_stopped(self, tenant, binance, settings):
        settings.BOTS_SANDBOX_LIMITS = {"cpu_seconds": 1, "wall_seconds": 2.0, "memory_mb": 1024}
        loops = b"from bots.sdk import CustomBot\n\nclass Loops(CustomBot):\n" \
                b"    def analyze_market(self, candles):\n        while True:\n            pass\n"  # fmt: skip
        sub = SubscriptionFactory(connection=binance, bot=code_bot(tenant, loops, name="Loops"))
        assert evaluate_all() == {"error": 1}
        sub.refresh_from_db()
        assert sub.status == "stopped" and sub.error


def _venue(connection):
    from trading.market.venues import Venue

    return Venue.of(connection)


class TestPerformance:
    def test_figures_match_a_hand_computed_trade_list(self, tenant):
        from datetime import UTC, datetime

        sub = SubscriptionFactory(connection__tenant=tenant, execution_config={"order_amount": "1000"})
        at = lambda h: datetime(2026, 1, 1, h, tzinfo=UTC)  # noqa: E731
        # 1) buy 10 @ 100 (fee 1), sell 10 @ 110 (fee 1.1): pnl 100 - 2.1 = 97.9, 2 h
        # 2) buy 10 @ 105 (fee 1.05), sell 10 @ 100 (fee 1): pnl -50 - 2.05 = -52.05, 4 h
        fills = [("buy", 10, 100, 1, 0), ("sell", 10, 110, "1.1", 2), ("buy", 10, 105, "1.05", 3),
                 ("sell", 10, 100, 1, 7)]  # fmt: skip
        for n, (side, amount, price, fee, hour) in enumerate(fills):
            order = OrderFactory(connection=sub.connection, side=side, amount=Decimal(amount), status="filled")
            BotSignal.objects.create(tenant=tenant, subscription=sub, candle_at=n, action=side.upper(),
                                     outcome="order", order=order)  # fmt: skip
            TradeFactory(order=order, price=Decimal(price), fee=Decimal(str(fee)), fee_currency="USDT",
                         executed_at=at(hour))  # fmt: skip
        assert Trade.objects.count() == 4
        figures = subscription_performance(subscription=sub)
        assert figures["total_trades"] == 2
        assert figures["winning_trades"] == 1 and figures["losing_trades"] == 1
        assert figures["win_rate"] == 50.0
        assert figures["total_pnl"] == pytest.approx(97.9 - 52.05)
        assert figures["total_pnl_percent"] == pytest.approx((97.9 - 52.05) / 1000 * 100, abs=0.01)
        assert figures["average_trade_duration"] == pytest.approx(3 * 3600)  # (2 h + 4 h) / 2
        # equity 1000 -> 1097.9 -> 1045.85: the drop from the peak is 52.05 / 1097.9
        assert figures["max_drawdown"] == pytest.approx(52.05 / 1097.9 * 100, abs=0.01)
        assert [point[1] for point in figures["equity_curve"]] == pytest.approx([1000, 1097.9, 1045.85])
        assert figures["open_position"] == 0

    def test_the_performance_endpoint_for_the_owner_only(self, api, owner, outsider, tenant):
        sub = SubscriptionFactory(connection__tenant=tenant)
        body = api(owner).get(f"/api/v1/subscriptions/{sub.pk}/performance/").json()
        assert body["total_trades"] == 0 and body["equity_curve"]
        assert api(outsider).get(f"/api/v1/subscriptions/{sub.pk}/performance/").status_code == 404
