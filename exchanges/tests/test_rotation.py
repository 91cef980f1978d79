"""Key rotation: `rotate_credentials` re-encrypts every row with the first of FERNET_KEYS,
after which the old key can be dropped."""

from io import StringIO

import pytest
from cryptography.fernet import InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection as db

from exchanges.models import ExchangeConnection
from exchanges.services import connection_create

pytestmark = pytest.mark.django_db

OLD, NEW = "old-fernet-key-2024", "new-fernet-key-2025"
ACCOUNTS = {
    "Kraken main": ("kraken", {"apiKey": "KRAKENkey0000000000aaaa", "secret": "kraken-secret-value-111111"}),
    "OKX main": (
        "okx",
        {"apiKey": "OKXkey00000000000000bbbb", "secret": "okx-secret-value-222222", "password": "okx-pass-333333"},
    ),
}
_CACHED = ("keys", "fernet_keys", "fernet")  # cached_property attributes of the field


@pytest.fixture
def fernet_keys(settings):
    """``fernet_keys(*keys)`` switches FERNET_KEYS; the field's cached Fernet follows."""
    field = ExchangeConnection._meta.get_field("encrypted_credentials")

    def forget():
        for name in _CACHED:
            field.__dict__.pop(name, None)

    def use(*keys):
        settings.FERNET_KEYS = list(keys)
        forget()

    forget()
    yield use
    forget()  # the settings fixture restores FERNET_KEYS next; the field reads it afresh


@pytest.fixture
def connections(tenant, fernet_keys):
    fernet_keys(OLD)
    return [
        connection_create(tenant=tenant, exchange=exchange, label=label, credentials=credentials, test=False)
        for label, (exchange, credentials) in ACCOUNTS.items()
    ]


def raw_columns() -> dict[int, object]:
    with db.cursor() as cursor:
        cursor.execute("SELECT id, encrypted_credentials FROM exchanges_exchangeconnection ORDER BY id")
        return dict(cursor.fetchall())


def stored_credentials() -> dict[str, dict]:
    return {c.label: c.credentials.as_ccxt() for c in ExchangeConnection.objects.all()}


def rotate() -> str:
    out = StringIO()
    call_command("rotate_credentials", stdout=out)
    return out.getvalue()


def test_before_rotation_the_new_key_alone_cannot_read_the_rows(connections, fernet_keys):
    fernet_keys(NEW)
    with pytest.raises(InvalidToken):
        list(ExchangeConnection.objects.all())


def test_rotation_lets_the_old_key_go(connections, fernet_keys):
    fernet_keys(NEW, OLD)
    before = raw_columns()
    assert stored_credentials() == {label: creds for label, (_, creds) in ACCOUNTS.items()}

    output = rotate()

    assert "Re-encrypted the credentials of 2 connection(s)" in output
    assert "can be removed" in output
    after = raw_columns()
    assert after.keys() == before.keys()
    assert all(bytes(after[pk]) != bytes(before[pk]) for pk in before)

    fernet_keys(NEW)  # the old key is gone: every row still decrypts
    assert stored_credentials() == {label: creds for label, (_, creds) in ACCOUNTS.items()}
    fernet_keys(OLD)  # and the old key alone no longer reads them
    with pytest.raises(InvalidToken):
        list(ExchangeConnection.objects.all())


def test_the_database_column_holds_only_ciphertext(connections, fernet_keys):
    fernet_keys(NEW, OLD)
    rotate()
    columns = raw_columns()
    assert len(columns) == 2
    for value in columns.values():
        assert isinstance(value, bytes | memoryview)
        raw = bytes(value)
        assert raw.startswith(b"gAAAA")  # a Fernet token
        for _, credentials in ACCOUNTS.values():
            for secret in credentials.values():
                assert secret.encode() not in raw


def test_a_missing_old_key_stops_the_rotation_and_changes_nothing(connections, fernet_keys):
    fernet_keys(NEW)
    before = raw_columns()
    with pytest.raises(
        CommandError, match=r"connection\(s\) \(id \d+, \d+\) cannot be decrypted with any of FERNET_KEYS"
    ):
        rotate()
    assert raw_columns() == before
    fernet_keys(OLD)
    assert stored_credentials()["Kraken main"] == ACCOUNTS["Kraken main"][1]


def test_rotating_nothing_reports_zero(db, fernet_keys):
    fernet_keys(NEW, OLD)
    assert "of 0 connection(s)" in rotate()
