"""Bots, subscriptions and backtests for tests."""

import factory

from bots.models import Backtest, Bot, ReviewStatus, Subscription, Visibility
from exchanges.tests.factories import ExchangeConnectionFactory
from tenancy.tests.factories import TenantFactory


class BotFactory(factory.django.DjangoModelFactory):
    """A private draft of its author tenant (a built-in SMA crossover unless told)."""

    class Meta:
        model = Bot

    author = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Bot {n}")
    slug = factory.Sequence(lambda n: f"bot-{n}")
    builtin = "sma_crossover"


class ListedBotFactory(BotFactory):
    visibility = Visibility.PUBLISHED
    review_status = ReviewStatus.APPROVED


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    connection = factory.SubFactory(ExchangeConnectionFactory)
    tenant = factory.SelfAttribute("connection.tenant")
    bot = factory.SubFactory(BotFactory, author=factory.SelfAttribute("..tenant"))
    name = factory.Sequence(lambda n: f"Instance {n}")
    symbol = "BTC/USDT"
    timeframe = "1h"
    execution_config = factory.LazyFunction(lambda: {"order_amount": "100", "order_type": "market"})


class BacktestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Backtest

    tenant = factory.SubFactory(TenantFactory)
    bot = factory.SubFactory(BotFactory, author=factory.SelfAttribute("..tenant"))
    symbol = "BTC/USDT"
    timeframe = "1h"
