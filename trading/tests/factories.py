"""Orders, trades and positions for tests: rows as the order pipeline would leave them."""

from decimal import Decimal

import factory

from exchanges.tests.factories import ExchangeConnectionFactory
from trading.models import Order, OrderStatus, Position, Trade, TradingSettings


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    connection = factory.SubFactory(ExchangeConnectionFactory)
    tenant = factory.SelfAttribute("connection.tenant")
    symbol = "BTC/USDT"
    side = "buy"
    type = "market"
    amount = Decimal("1")
    status = OrderStatus.OPEN
    remaining = factory.SelfAttribute("amount")


class TradeFactory(factory.django.DjangoModelFactory):
    """A fill of ``order``: its connection, tenant, symbol and side unless told otherwise."""

    class Meta:
        model = Trade

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    connection = factory.SelfAttribute("order.connection")
    symbol = factory.SelfAttribute("order.symbol")
    side = factory.SelfAttribute("order.side")
    amount = factory.SelfAttribute("order.amount")
    price = Decimal("100")
    fee = Decimal("0")
    fee_currency = ""
    sequence = factory.Sequence(lambda n: n + 1)


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    connection = factory.SubFactory(ExchangeConnectionFactory)
    tenant = factory.SelfAttribute("connection.tenant")
    symbol = "BTC/USDT"
    quantity = Decimal("1")
    average_price = Decimal("100")


class TradingSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TradingSettings
        django_get_or_create = ("tenant",)

    tenant = factory.SubFactory("tenancy.tests.factories.TenantFactory")


def simulator_connection(sim, tenant, exchange="binance", *, balances=None, label=None, **fields):
    """A connected ExchangeConnection to a fresh funded account at the exchange simulator."""
    from exchanges.adapters.types import Credentials

    account = sim.add_account(exchange, balances={"USDT": 100_000} if balances is None else balances)
    fields.setdefault("status", "connected")
    return ExchangeConnectionFactory(
        tenant=tenant,
        exchange=exchange,
        label=label or {"okx": "OKX"}.get(exchange, exchange.capitalize()),
        api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()),
        **fields,
    )
