"""The connection admin's actions against the simulator over real HTTP: test, resync balances,
enable / disable, re-encrypt. Each works for a tenant's owner (or admin), is refused for a
viewer, and no result message carries a credential."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection as db

from exchanges.adapters import ccxt_pool
from exchanges.adapters.types import Credentials
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.reads import balance_cached
from exchanges.tests.factories import ExchangeConnectionFactory
from tenancy.models import Role
from tenancy.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/exchanges/exchangeconnection/"


@pytest.fixture(autouse=True)
def fresh_markets():
    ccxt_pool.forget_markets()


@pytest.fixture
def staff_trader(tenant):
    user = UserFactory(username="tina", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role=Role.TRADER)
    return user


@pytest.fixture
def account(exchange_simulator):
    return exchange_simulator.add_account("binance", balances={"USDT": 25_000, "BTC": "0.5"})


@pytest.fixture
def sim_connection(tenant, exchange_simulator, account):
    creds = account.credentials()
    return ExchangeConnectionFactory(
        tenant=tenant, label="Sim Binance", exchange="binance", api_base_url=exchange_simulator.base_url,
        credentials=Credentials(apiKey=creds["apiKey"], secret=creds["secret"]),
    )  # fmt: skip


def stored_row(pk: int) -> tuple:
    """The row as stored: the ciphertext itself, which changes on every re-encryption."""
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM exchanges_exchangeconnection WHERE id = %s", [pk])
        return cursor.fetchone()


def run_action(client, action: str, *connections) -> list[str]:
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [c.pk for c in connections]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)] or [response.content.decode()]


def test_test_connection_records_the_outcome(client, staff_trader, sim_connection, account):
    client.force_login(staff_trader)
    messages = run_action(client, "test_connections", sim_connection)
    assert any("Sim Binance (binance): ok in" in m for m in messages), messages
    sim_connection.refresh_from_db()
    assert sim_connection.status == ConnectionStatus.CONNECTED and sim_connection.latency_ms > 0


def test_a_failed_test_says_why_without_the_secret(client, staff_owner, tenant, exchange_simulator, account):
    wrong = "wrong-secret-value-0000aaaa"
    connection = ExchangeConnectionFactory(
        tenant=tenant, label="Bad keys", exchange="binance", api_base_url=exchange_simulator.base_url,
        credentials=Credentials(apiKey=account.credentials()["apiKey"], secret=wrong),
    )  # fmt: skip
    client.force_login(staff_owner)
    response = client.post(CHANGELIST, {"action": "test_connections", "_selected_action": [connection.pk]}, follow=True)
    page = response.content.decode()
    assert "Bad keys (binance): failed:" in page
    assert wrong not in page and account.credentials()["apiKey"] not in page
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED


def test_resync_balances_refreshes_the_cached_balance(client, staff_trader, sim_connection, exchange_simulator):
    client.force_login(staff_trader)
    assert any("2 asset(s) refreshed" in m for m in run_action(client, "resync_balances", sim_connection))
    assert balance_cached(connection=sim_connection).assets["USDT"].total == 25_000
    exchange_simulator.deposit("binance", sim_connection.credentials.apiKey, "USDT", 5_000)
    messages = run_action(client, "resync_balances", sim_connection)
    assert "1 connection(s) resynced." in messages
    assert balance_cached(connection=sim_connection).assets["USDT"].total == 30_000


def test_enable_and_disable(client, staff_owner, tenant):
    connection = ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")
    client.force_login(staff_owner)
    assert "1 connection(s) disabled." in run_action(client, "disable", connection)
    connection.refresh_from_db()
    assert connection.enabled is False
    assert "1 connection(s) enabled." in run_action(client, "enable", connection)
    connection.refresh_from_db()
    assert connection.enabled is True


@pytest.mark.parametrize("action", ["test_connections", "resync_balances", "enable", "disable", "reencrypt"])
def test_a_viewer_runs_no_action(client, staff_viewer, sim_connection, action, exchange_simulator):
    client.force_login(staff_viewer)
    changelist = client.get(CHANGELIST).content.decode()
    assert "Sim Binance" in changelist and f'value="{action}"' not in changelist
    before = stored_row(sim_connection.pk)
    client.post(CHANGELIST, {"action": action, "_selected_action": [sim_connection.pk]})
    assert stored_row(sim_connection.pk) == before
    assert balance_cached(connection=sim_connection) is None
    assert exchange_simulator.request_count() == 0


def test_a_trader_may_test_but_not_reconfigure(client, staff_trader, tenant):
    connection = ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")
    client.force_login(staff_trader)
    page = client.get(CHANGELIST).content.decode()
    assert 'value="test_connections"' in page and 'value="resync_balances"' in page
    assert 'value="disable"' not in page and 'value="reencrypt"' not in page
    client.post(CHANGELIST, {"action": "disable", "_selected_action": [connection.pk]})
    connection.refresh_from_db()
    assert connection.enabled is True


OLD_KEY, NEW_KEY = "admin-old-fernet-key", "admin-new-fernet-key"


@pytest.fixture
def fernet_keys(settings):
    field = ExchangeConnection._meta.get_field("encrypted_credentials")

    def use(*keys):
        settings.FERNET_KEYS = list(keys)
        for name in ("keys", "fernet_keys", "fernet"):  # the field's cached Fernet
            field.__dict__.pop(name, None)

    yield use
    for name in ("keys", "fernet_keys", "fernet"):
        field.__dict__.pop(name, None)


def test_reencrypt_moves_credentials_to_the_newest_key(client, staff_owner, tenant, fernet_keys):
    fernet_keys(OLD_KEY)
    connection = ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")
    secret = connection.credentials.secret
    fernet_keys(NEW_KEY, OLD_KEY)
    client.force_login(staff_owner)
    messages = run_action(client, "reencrypt", connection)
    assert "1 connection(s) re-encrypted with the first of FERNET_KEYS." in messages
    assert not any(secret in m for m in messages)
    fernet_keys(NEW_KEY)  # the old key is gone: the row still reads
    assert ExchangeConnection.objects.get(pk=connection.pk).credentials.secret == secret


def test_reencrypt_refuses_rows_no_key_reads(client, staff_owner, tenant, fernet_keys):
    fernet_keys(OLD_KEY)
    connection = ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")
    fernet_keys(NEW_KEY)  # the old key was dropped too soon
    client.force_login(staff_owner)
    messages = run_action(client, "reencrypt", connection)
    assert any("cannot be decrypted with any of FERNET_KEYS" in m and "Nothing was changed" in m for m in messages)
