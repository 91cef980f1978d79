"""The monitoring pages inside the admin: exchange health, the order pipeline, workers and
queues. A superuser sees every tenant and the fleet; a tenant's staff see their own rows and
not the platform-wide page; no page shows a credential."""

import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from exchanges import runtime
from exchanges.adapters.errors import ExchangeUnavailable
from exchanges.health_view import connection_venue_key
from exchanges.resilience import connection_key, guarded_call, limiter
from exchanges.tests.factories import API_KEY, SECRET, ExchangeConnectionFactory
from tenancy.tests.factories import UserFactory
from trading.models import Order, OrderStatus
from trading.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

EXCHANGES, ORDERS, WORKERS = "/admin/monitoring/exchanges/", "/admin/monitoring/orders/", "/admin/monitoring/workers/"


@pytest.fixture
def mine(tenant):
    return ExchangeConnectionFactory(tenant=tenant, label="acme-binance", exchange="binance")


@pytest.fixture
def theirs(other_tenant):
    return ExchangeConnectionFactory(tenant=other_tenant, label="globex-kraken", exchange="kraken")


def unknown_order(connection, *, client_order_id: str, minutes_ago: int) -> Order:
    """An order whose send timed out, as the pipeline leaves it (its events included)."""
    order = OrderFactory(connection=connection, status=OrderStatus.PENDING, client_order_id=client_order_id)
    order.set_status(OrderStatus.SUBMITTING)
    event = order.set_status(OrderStatus.UNKNOWN, reason="the send timed out")
    order.save()
    event.created_at = timezone.now() - timedelta(minutes=minutes_ago)
    event.save(update_fields=["created_at"])
    return order


def open_breakers(connection) -> None:
    """Five 503s through the real guard: the exchange's and the connection's breakers open."""

    async def unavailable():
        raise ExchangeUnavailable("503 Service Unavailable", exchange=connection.exchange)

    for _ in range(5):
        with pytest.raises(ExchangeUnavailable):
            runtime.run(
                guarded_call(
                    unavailable, public_key=connection_venue_key(connection), private_key=connection_key(connection.pk)
                )
            )


def row_of(page: str, marker: str) -> str:
    """The table row that holds ``marker``."""
    return next(row for row in re.findall(r"<tr.*?</tr>", page, flags=re.S) if marker in row)


def test_exchange_health_shows_an_open_breaker_and_the_budget(client, superuser, mine, theirs):
    open_breakers(mine)
    runtime.run(limiter.acquire(connection_venue_key(mine), 3, rate=0.1, capacity=20))
    client.force_login(superuser)
    page = client.get(EXCHANGES).content.decode()
    venue = row_of(page, "<strong>binance</strong>")
    assert "badge-failed" in venue and 'badge-open">open' in venue and "retry in" in venue
    assert "503 Service Unavailable" in venue
    assert re.search(r"17\.\d / 20\.0", venue)  # tokens left of the capacity
    assert "50.0 %" in venue  # 3 units of the 6 a minute allows (0.1/s)
    connection = row_of(page, "acme-binance")
    assert 'badge-open">open</span> /' in connection and connection.count('badge-open">open') == 2
    assert "Acme Capital" in connection
    assert "globex-kraken" in page  # a superuser sees every tenant
    assert SECRET not in page and API_KEY not in page


def test_exchange_health_of_tenant_staff_is_their_own(client, staff_viewer, mine, theirs):
    open_breakers(theirs)
    client.force_login(staff_viewer)
    response = client.get(EXCHANGES)
    assert response.status_code == 200
    page = response.content.decode()
    assert "acme-binance" in page
    assert "globex-kraken" not in page and "kraken" not in page  # neither the connection nor its venue


def test_order_pipeline_shows_unknown_orders_with_their_age(client, superuser, mine, theirs):
    mine_unknown = unknown_order(mine, client_order_id="pacme-unknown", minutes_ago=7)
    unknown_order(theirs, client_order_id="pglobex-unknown", minutes_ago=3)
    stuck = OrderFactory(connection=mine, status=OrderStatus.SUBMITTING, client_order_id="pacme-stuck")
    Order.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    OrderFactory(connection=mine, status=OrderStatus.SUBMITTING, client_order_id="pacme-sending")  # just sent
    OrderFactory(connection=mine, status=OrderStatus.FAILED, reason="insufficient balance", error_code="funds")
    OrderFactory(connection=mine, status=OrderStatus.FILLED, amount=D("0.5"))
    client.force_login(superuser)
    page = client.get(ORDERS).content.decode()
    assert re.search(r'data-status="unknown"><a [^>]*>2<', page)
    assert re.search(r'data-status="submitting"><a [^>]*>2<', page)
    assert re.search(r'data-status="filled"><a [^>]*>1<', page)
    unknown = page[page.index('id="unknown-orders"') : page.index('id="stuck-orders"')]
    assert unknown.index("pacme-unknown") < unknown.index("pglobex-unknown")  # the oldest first
    age = int(re.search(r"(\d+) s</td>", row_of(unknown, "pacme-unknown")).group(1))
    assert 7 * 60 - 5 <= age <= 7 * 60 + 60
    assert f"/admin/trading/order/{mine_unknown.pk}/change/" in unknown
    stuck_section = page[page.index('id="stuck-orders"') : page.index('id="failed-orders"')]
    assert f"#{stuck.pk}<" in stuck_section and stuck_section.count("/admin/trading/order/") == 1
    assert "insufficient balance" in page[page.index('id="failed-orders"') :]


def test_order_pipeline_of_tenant_staff_is_their_own(client, staff_viewer, mine, theirs):
    unknown_order(mine, client_order_id="pacme-unknown", minutes_ago=1)
    unknown_order(theirs, client_order_id="pglobex-unknown", minutes_ago=1)
    client.force_login(staff_viewer)
    page = client.get(ORDERS).content.decode()
    assert "pacme-unknown" in page and "pglobex-unknown" not in page
    assert re.search(r'data-status="unknown"><a [^>]*>1<', page)


def test_workers_page_is_the_superusers(client, superuser, staff_viewer):
    client.force_login(staff_viewer)
    assert client.get(WORKERS).status_code == 403
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
    client.force_login(superuser)
    page = client.get(WORKERS).content.decode()
    for queue in ("orders", "market", "bots", "default"):
        assert re.search(rf'data-queue="{queue}">(\d+|\?)<', page)
    assert "No worker answered a ping" in page or "answering" in page
    assert "/admin/django_celery_beat/periodictask/" in page
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200


def test_the_index_links_the_pages_each_user_may_open(client, superuser, staff_viewer):
    client.force_login(superuser)
    index = client.get("/admin/").content.decode()
    assert all(url in index for url in (EXCHANGES, ORDERS, WORKERS, "/admin/django_celery_beat/periodictask/"))
    client.force_login(staff_viewer)
    index = client.get("/admin/").content.decode()
    assert EXCHANGES in index and ORDERS in index
    assert WORKERS not in index and "periodictask" not in index


def test_the_pages_are_closed_to_everyone_else(client, db):
    for url in (EXCHANGES, ORDERS, WORKERS):
        assert client.get(url).status_code == 302  # to the admin's login
    client.force_login(UserFactory(username="loner", is_staff=True))  # staff of no tenant
    for url in (EXCHANGES, ORDERS, WORKERS):
        assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="customer"))  # not staff
    assert client.get(EXCHANGES)["Location"].startswith("/admin/login/")
