"""Several processes (here threads, each with its own database connection) trading one account."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connections

from exchanges.adapters.errors import InsufficientFunds
from exchanges.adapters.types import OrderStatus, OrderType, Side
from exchanges.paper.adapter import PaperAdapter
from exchanges.paper.models import PaperBalance, PaperOrder
from exchanges.paper.services import paper_account_ensure

from .conftest import Sync, paper_connection


def run_together(count, work):
    """Start ``count`` threads at once; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_buys_cannot_overspend(clock, prices):
    connection = paper_connection()
    account = paper_account_ensure(connection=connection)

    def buy(i):
        paper = Sync(PaperAdapter(options={"account_id": connection.pk, "price_source": prices, "clock": clock}))
        # ~36 000 USDT each: two fit in 100 000 USDT, a third does not
        return paper.create_order(symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, amount=D("0.6"))

    results = run_together(5, buy)

    filled = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(filled) == 2 and len(refused) == 3, results
    assert all(order.status == OrderStatus.FILLED for order in filled)
    usdt = PaperBalance.objects.get(account=account, asset="USDT")
    spent = sum(order.filled * order.average + order.fees[0].cost for order in filled)
    assert usdt.free == D("100000") - spent and usdt.free >= 0
    assert PaperBalance.objects.get(account=account, asset="BTC").free == D("1.2")


@pytest.mark.django_db(transaction=True)
def test_the_same_client_order_id_sent_concurrently_places_one_order(clock, prices):
    connection = paper_connection()

    def place(i):
        paper = Sync(PaperAdapter(options={"account_id": connection.pk, "price_source": prices, "clock": clock}))
        return paper.create_order(
            symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, amount=D("0.1"), price=D("59000"),
            client_order_id="retry-me",
        )  # fmt: skip

    results = run_together(4, place)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({order.id for order in results}) == 1
    assert PaperOrder.objects.count() == 1
    assert PaperBalance.objects.get(account__connection=connection, asset="USDT").used == D("5905.9")
