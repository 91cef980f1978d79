"""A paper connection, a clock the test moves and prices the test sets."""

from __future__ import annotations

import inspect

import pytest
from asgiref.sync import async_to_sync

from exchanges.models import ExchangeConnection
from exchanges.paper.adapter import PaperAdapter
from exchanges.paper.pricing.fixed import FixedPrices
from tenancy.tests.factories import TenantFactory

T0 = 1_717_200_000  # 2024-06-01 00:00 UTC


class Clock:
    def __init__(self, now: float = T0):
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class Sync:
    """The adapter's coroutines called from sync test code (the ORM stays on this thread)."""

    def __init__(self, adapter):
        self.adapter = adapter

    def __getattr__(self, name):
        attribute = getattr(self.adapter, name)
        return async_to_sync(attribute) if inspect.iscoroutinefunction(attribute) else attribute


def paper_connection(tenant=None, label="Paper") -> ExchangeConnection:
    return ExchangeConnection.objects.create(tenant=tenant or TenantFactory(), exchange="paper", label=label)


@pytest.fixture
def connection(db):
    return paper_connection()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def prices():
    # BTC/USDT: spread 1 bp -> bid 59997.00, ask 60003.00
    return FixedPrices({"BTC/USDT": "60000", "ETH/USDT": "3000", "ETH/BTC": "0.05"})


@pytest.fixture
def make_paper(clock, prices):
    def make(connection, **options):
        options = {"account_id": connection.pk, "price_source": prices, "clock": clock, **options}
        return Sync(PaperAdapter(options=options))

    return make


@pytest.fixture
def paper(make_paper, connection):
    return make_paper(connection)
