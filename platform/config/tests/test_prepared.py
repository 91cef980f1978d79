"""config.prepared: a queryset compiled once gives what the ORM gives, for any values."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.prepared import Prepared
from exchanges.adapters.types import Credentials
from exchanges.models import ExchangeConnection
from exchanges.selectors import connection_find, connection_list
from tenancy.models import Membership, Role, Tenant
from tenancy.resolution import membership_for_token
from tenancy.tests.factories import MembershipFactory, TenantFactory
from trading.models import Order, Position, TradingSettings
from trading.services import risk

pytestmark = pytest.mark.django_db


def _connection(tenant, label):
    connection = ExchangeConnection(tenant=tenant, exchange="binance", label=label)
    connection.set_credentials(Credentials(apiKey=f"key-{label}", secret=f"secret-{label}"))
    connection.save()
    return connection


class TestModels:
    def test_same_instances_as_the_orm_for_each_value(self):
        tenants = [TenantFactory(), TenantFactory()]
        mine = [_connection(tenants[0], "A"), _connection(tenants[0], "B"), _connection(tenants[1], "C")]
        prepared = Prepared(lambda tenant: connection_list(tenant=Tenant(pk=tenant)), tenant=int)
        for tenant in tenants:
            expected = list(connection_list(tenant=tenant))
            got = prepared.all(tenant=tenant.pk)
            assert [c.pk for c in got] == [c.pk for c in expected]
            assert [c.label for c in got] == [c.label for c in expected]
        # loaded as from the database: saving updates, the encrypted field decrypts
        found = prepared.first(tenant=tenants[0].pk)
        assert found._state.adding is False and found._state.db == "default"
        assert found.credentials.apiKey == mine[0].credentials.apiKey == "key-A"
        found.label = "renamed"
        found.save(update_fields=["label"])
        assert ExchangeConnection.objects.get(pk=found.pk).label == "renamed"

    def test_select_related_objects_come_with_it(self):
        member = MembershipFactory(role=Role.TRADER)
        token = Token.objects.create(user=member.user)
        memberships = Membership.objects.select_related("tenant", "user__auth_token")
        prepared = Prepared(lambda key: memberships.filter(user__auth_token__key=key), key=str)
        with CaptureQueriesContext(connection) as queries:
            found = prepared.first(key=token.key)
            assert (found.tenant.name, found.user.username, found.user.auth_token.key) == (
                member.tenant.name, member.user.username, token.key)  # fmt: skip
        assert len(queries) == 1
        assert prepared.first(key="no-such-key") is None

    def test_values_list_rows_are_tuples_with_their_types(self):
        tenant = TenantFactory()
        conn = _connection(tenant, "A")
        Position.objects.create(tenant=tenant, connection=conn, symbol="BTC/USDT", quantity=Decimal("0.5"),
                                average_price=Decimal("100"))  # fmt: skip
        Order.objects.create(
            tenant=tenant, connection=conn, symbol="ETH/USDT", side="sell", type="limit", amount=Decimal("2"),
            remaining=Decimal("1.5"), price=Decimal("3000"), status="open",
        )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            rows = risk.open_positions(connection=conn)  # a union: the positions and the orders on their way
        assert len(queries) == 1
        assert rows == {"BTC/USDT": (Decimal("0.5"), Decimal("100")), "ETH/USDT": (Decimal("-1.5"), Decimal("3000"))}
        assert all(isinstance(value, Decimal) for row in rows.values() for value in row)


class TestValues:
    def test_a_non_number_is_the_orm_s_value_error_and_a_huge_one_finds_nothing(self):
        tenant = TenantFactory()
        conn = _connection(tenant, "A")
        with pytest.raises(ValueError):
            connection_find(tenant=tenant, connection_id="abc")
        assert connection_find(tenant=tenant, connection_id=10**30) is None
        assert connection_find(tenant=tenant, connection_id=conn.pk) == conn

    def test_another_tenant_s_row_is_not_found(self):
        mine, other = TenantFactory(), TenantFactory()
        theirs = _connection(other, "theirs")
        assert connection_find(tenant=mine, connection_id=theirs.pk) is None
        assert connection_find(tenant=None, connection_id=theirs.pk) is None

    def test_quotes_in_strings_stay_values(self):
        member = MembershipFactory(tenant=TenantFactory(slug="o-brien's"), role=Role.OWNER)
        token = Token.objects.create(user=member.user)
        assert membership_for_token(token.key, "o-brien's") == member
        assert membership_for_token(token.key, "x' OR '1'='1") is None
        assert membership_for_token("x' OR '1'='1", None) is None

    def test_settings_read_through_it_see_every_change(self):
        tenant = TenantFactory()
        assert risk.trading_settings(tenant=tenant).kill_switch is False
        TradingSettings.objects.create(tenant=tenant, kill_switch=True, kill_switch_reason="audit")
        limits = risk.trading_settings(tenant=tenant)
        assert (limits.kill_switch, limits.kill_switch_reason) == (True, "audit")
        TradingSettings.objects.filter(tenant=tenant).update(kill_switch=False)
        assert risk.trading_settings(tenant=tenant).kill_switch is False


class TestRefusesWhatItCannotReplay:
    def test_a_value_that_does_not_reach_the_statement_unchanged(self):
        prepared = Prepared(lambda name: Tenant.objects.filter(name__contains=name), name=str)
        with pytest.raises(ImproperlyConfigured, match="'name'"):
            prepared.all(name="x")

    def test_kinds_are_int_or_str(self):
        with pytest.raises(ImproperlyConfigured):
            Prepared(lambda when: Tenant.objects.all(), when=float)

    def test_values_rows_and_flat_lists_are_refused(self):
        with pytest.raises(ImproperlyConfigured):
            Prepared(lambda pk: Tenant.objects.filter(pk=pk).values("name"), pk=int).all(pk=1)


@pytest.mark.django_db(transaction=True)
def test_threads_that_arrive_together_compile_it_once():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    tenant = TenantFactory()
    builds = []
    together = threading.Barrier(6)

    def build(pk):
        builds.append(pk)
        time.sleep(0.2)  # a slow first compile: the others arrive meanwhile and wait for it
        return Tenant.objects.filter(pk=pk)

    prepared = Prepared(build, pk=int)

    def read(_):
        together.wait()
        try:
            return prepared.first(pk=tenant.pk).name
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=6) as pool:
        names = list(pool.map(read, range(6)))
    assert names == [tenant.name] * 6
    assert len(builds) == 1
