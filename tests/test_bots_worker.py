"""Bots end to end with a real Celery worker, Redis and the exchange simulator: beat's round
finds the subscription, the worker evaluates its group (uploaded code in the sandbox), the
BUY goes through the order pipeline and is filled at the simulator, exactly once, even when
beat ticks twice; a backtest runs on the worker and reports its figures."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bots.models import Backtest, BotSignal
from bots.services import backtests, catalog, subscriptions
from bots.tasks import bots_evaluate
from bots.tests.factories import BotFactory
from bots.tests.test_catalog_api import ALWAYS_BUY
from trading.models import Order
from trading.tests.factories import simulator_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def wait_for(check, timeout: float = 45, what: str = "it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def test_a_beat_round_turns_a_buy_signal_into_exactly_one_filled_order(exchange_simulator, tenant, owner):
    connection = simulator_connection(exchange_simulator, tenant, balances={"USDT": 100_000})
    bot = BotFactory(author=tenant, builtin="", name="Always buy")
    catalog.bot_file_upload(bot=bot, upload=SimpleUploadedFile("bot.py", ALWAYS_BUY), file_type="CODE")
    sub = subscriptions.subscription_create(
        tenant=tenant, user=owner, bot=bot, name="buyer", symbol="BTC/USDT", timeframe="1h", connection=connection,
        execution_config={"order_amount": "100"},
    )  # fmt: skip
    bots_evaluate.delay()  # what beat does
    bots_evaluate.delay()  # and its next tick, before the first round is done
    order = wait_for(lambda: Order.objects.filter(status="filled").first(), what="a filled order")
    time.sleep(1.5)  # room for a second order, were there going to be one
    assert Order.objects.count() == 1
    assert len(exchange_simulator.orders("binance")) == 1
    signal = BotSignal.objects.get(subscription=sub)
    assert signal.action == "BUY" and signal.outcome == "order" and signal.order_id == order.pk
    assert order.source == "bot" and order.side == "buy"


def test_a_backtest_runs_on_the_worker(tenant, owner):
    from bots.models import Bot

    bot = Bot.objects.get(author=None, builtin="sma_crossover")
    backtest = backtests.backtest_create(tenant=tenant, user=owner, bot=bot, symbol="BTC/USDT", timeframe="1h")
    done = wait_for(lambda: Backtest.objects.filter(pk=backtest.pk, status="done").first(), what="the backtest")
    assert done.progress == 100 and done.figures["total_trades"] > 0 and done.equity_curve
