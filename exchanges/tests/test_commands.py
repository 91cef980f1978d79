"""Operator commands: import_credentials (and its service) and the exchange_setup wizard,
the wizard run as a terminal user would run it: a real process, answers on stdin."""

import base64
import json
import os
import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db

from exchanges.catalog import supported_exchanges
from exchanges.importing import ImportAction, credentials_import
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.services import connection_create
from tenancy.models import Region
from tests.fixtures.services import ROOT, _database_url

KRAKEN_KEY = "KRAKENenvkey000000000wxyz"
KRAKEN_SECRET = "kraken-env-secret-8c1f0e9d"
FILE_KEY = "KRAKENfilekey00000000abcd"
FILE_SECRET = "kraken-file-secret-5a6b7c"
FILE_PASSPHRASE = "kraken-file-passphrase-1234"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a fast, real connection error


def leaked(text, *secrets):
    """The pieces of secrets in ``text``: any 8 characters of one (a masked key shows only 4)."""
    pieces = {secret[i : i + 8] for secret in secrets for i in range(len(secret) - 7)}
    return [piece for piece in pieces if piece in text]


def write_config(directory, exchange, data):
    path = directory / f"{exchange}_config.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def import_for(tenant, environ=None, directory=None, **options):
    return {
        r.exchange: r for r in credentials_import(tenant=tenant, environ=environ or {}, directory=directory, **options)
    }


def move(tenant, region):
    """The tenant in another region, as loaded from the database (a plain string)."""
    type(tenant).objects.filter(pk=tenant.pk).update(region=region)
    tenant.refresh_from_db()


def environ_creds(environ):
    return {"apiKey": environ["KRAKEN_API_KEY"], "secret": environ["KRAKEN_API_SECRET"]}


def imported(tenant, exchange="kraken"):
    return ExchangeConnection.objects.get(tenant=tenant, exchange=exchange, label__endswith="(imported)")


@pytest.mark.django_db
class TestCredentialsImport:
    def test_environment_beats_the_file_field_by_field(self, tenant, tmp_path):
        write_config(tmp_path, "kraken", {"api_key": FILE_KEY, "api_secret": FILE_SECRET})

        result = import_for(tenant, {"KRAKEN_API_KEY": KRAKEN_KEY}, tmp_path)["kraken"]

        assert result.action == ImportAction.CREATED
        assert result.label == "Kraken (imported)"
        assert result.from_environment == ("apiKey",) and result.environment_names == ("KRAKEN_API_KEY",)
        assert result.from_file == ("secret",) and result.file == tmp_path / "kraken_config.json"
        assert result.overridden == ("apiKey",)
        assert result.api_key_masked == "••••wxyz"
        stored = imported(tenant)
        assert stored.pk == result.connection_id
        assert stored.credentials.apiKey == KRAKEN_KEY and stored.credentials.secret == FILE_SECRET
        assert stored.status == ConnectionStatus.UNTESTED

    def test_every_spelling_of_a_variable_and_of_a_file_key(self, tenant, tmp_path):
        write_config(tmp_path, "okx", {"key": "OKXfilekey0000000001", "secret_key": "okx-file-secret"})
        environ = {
            "OKX_PASSWORD": "okx-env-passphrase",  # <ID>_PASSWORD, another name of the passphrase
            "GATEIO_API_KEY": "GATEenvkey0000000002",  # GATEIO: gate's alias
            "GATEIO_SECRET": "gate-env-secret",  # <ID>_SECRET as well as <ID>_API_SECRET
            "PATH": "/usr/bin",  # anything else is left alone
        }
        results = import_for(tenant, environ, tmp_path)

        assert set(results) == {"okx", "gate"}
        assert results["okx"].from_environment == ("password",)
        assert results["okx"].from_file == ("apiKey", "secret")
        assert imported(tenant, "okx").credentials.password == "okx-env-passphrase"
        assert results["gate"].environment_names == ("GATEIO_API_KEY", "GATEIO_SECRET")
        assert imported(tenant, "gate").credentials.secret == "gate-env-secret"

    def test_binance_us_variables_belong_to_binanceus(self, tenant, tmp_path):
        move(tenant, "us")
        environ = {"BINANCE_US_API_KEY": "BUSkey00000000000003", "BINANCE_US_API_SECRET": "binanceus-secret"}

        result = import_for(tenant, environ, tmp_path)["binanceus"]

        assert result.action == ImportAction.CREATED
        assert imported(tenant, "binanceus").credentials.apiKey == "BUSkey00000000000003"

    def test_an_exchange_outside_the_tenants_region_is_refused(self, tenant, tmp_path):
        move(tenant, "us")
        environ = {"BYBIT_API_KEY": "BYBITkey000000000004", "BYBIT_API_SECRET": "bybit-secret"}

        result = import_for(tenant, environ, tmp_path)["bybit"]

        assert result.action == ImportAction.SKIPPED
        assert "not available in region 'us'" in result.reason
        assert not ExchangeConnection.objects.exists()

    def test_missing_required_fields_are_refused(self, tenant, tmp_path):
        write_config(tmp_path, "okx", {"api_key": "OKXfilekey0000000005", "api_secret": "okx-secret"})

        results = import_for(tenant, {"KRAKEN_API_KEY": KRAKEN_KEY}, tmp_path)

        assert results["kraken"].action == ImportAction.SKIPPED
        assert "missing: secret" in results["kraken"].reason
        assert results["okx"].action == ImportAction.SKIPPED
        assert "missing: password" in results["okx"].reason
        assert not ExchangeConnection.objects.exists()

    def test_a_second_import_updates_the_imported_connection(self, tenant, other_tenant, tmp_path):
        environ = {"KRAKEN_API_KEY": KRAKEN_KEY, "KRAKEN_API_SECRET": KRAKEN_SECRET}
        first = import_for(tenant, environ, tmp_path)["kraken"]
        mine = ExchangeConnection.objects.get(pk=first.connection_id)
        ExchangeConnection.objects.filter(pk=mine.pk).update(status=ConnectionStatus.CONNECTED)
        theirs = connection_create(
            tenant=other_tenant, exchange="kraken", label="Kraken (imported)", credentials=environ_creds(environ)
        )

        again = import_for(tenant, environ, tmp_path)["kraken"]
        assert again.action == ImportAction.SKIPPED and again.reason == "already up to date"
        assert again.connection_id == mine.pk

        rotated = import_for(tenant, {**environ, "KRAKEN_API_SECRET": "kraken-rotated-secret"}, tmp_path)["kraken"]
        assert rotated.action == ImportAction.UPDATED and rotated.connection_id == mine.pk
        mine.refresh_from_db()
        assert mine.credentials.secret == "kraken-rotated-secret" and mine.credentials.apiKey == KRAKEN_KEY
        assert mine.status == ConnectionStatus.UNTESTED  # new credentials are tested again
        assert ExchangeConnection.objects.filter(tenant=tenant).count() == 1
        theirs.refresh_from_db()
        assert theirs.credentials.secret == KRAKEN_SECRET  # another tenant's import is not touched

    def test_dry_run_saves_nothing_and_queues_no_test(self, tenant, tmp_path, django_capture_on_commit_callbacks):
        environ = {"KRAKEN_API_KEY": KRAKEN_KEY, "KRAKEN_API_SECRET": KRAKEN_SECRET}
        with django_capture_on_commit_callbacks() as callbacks:
            result = import_for(tenant, environ, tmp_path, dry_run=True)["kraken"]
        assert result.action == ImportAction.CREATED and result.dry_run and result.connection_id is None
        assert not ExchangeConnection.objects.exists()
        assert callbacks == []

        import_for(tenant, environ, tmp_path)
        changed = import_for(tenant, {**environ, "KRAKEN_API_SECRET": "not-saved"}, tmp_path, dry_run=True)
        assert changed["kraken"].action == ImportAction.UPDATED
        assert imported(tenant).credentials.secret == KRAKEN_SECRET

    def test_robinhood_login_file_is_unsupported(self, tenant, tmp_path):
        move(tenant, "us")
        write_config(tmp_path, "robinhood", {"username": "me@example.com", "password": "hunter22", "mfa_code": "1"})

        result = import_for(tenant, {}, tmp_path)["robinhood"]

        assert result.action == ImportAction.SKIPPED
        assert result.reason.startswith("unsupported")
        assert "apiKey + privateKey" in result.reason
        assert result.ignored == ("username", "password", "mfa_code") and result.from_file == ()
        assert not ExchangeConnection.objects.exists()

    def test_robinhood_keys_from_the_environment_skip_the_old_login_file(self, tenant, tmp_path):
        move(tenant, "us")
        write_config(tmp_path, "robinhood", {"username": "me@example.com", "password": "hunter22", "mfa_code": "1"})
        private_key = base64.b64encode(bytes(range(32))).decode()
        environ = {"ROBINHOOD_API_KEY": "rh-api-00000000-1111", "ROBINHOOD_PRIVATE_KEY": private_key}

        result = import_for(tenant, environ, tmp_path)["robinhood"]

        assert result.action == ImportAction.CREATED, result.reason
        assert result.from_environment == ("apiKey", "privateKey") and result.from_file == ()
        stored = imported(tenant, "robinhood").credentials
        assert stored.as_ccxt() == {"apiKey": "rh-api-00000000-1111", "privateKey": private_key}  # no old password

    def test_unusable_files_are_reported(self, tenant, tmp_path):
        write_config(tmp_path, "kraken", '{"api_key": "KRAKENfilekey0000", ')
        write_config(tmp_path, "nosuchexchange", {"api_key": "x" * 12, "api_secret": "y" * 12})
        write_config(tmp_path, "bitstamp", ["not", "an", "object"])
        (tmp_path / "kraken_config.example.json").write_text('{"api_key": "a", "api_secret": "b"}')

        results = import_for(tenant, {}, tmp_path)

        assert set(results) == {"kraken", "nosuchexchange", "bitstamp"}
        assert results["kraken"].reason == "kraken_config.json is not valid JSON (line 1, column 34)"
        assert results["nosuchexchange"].reason.startswith("unknown exchange 'nosuchexchange'")
        assert "must hold a JSON object" in results["bitstamp"].reason
        assert not ExchangeConnection.objects.exists()

    def test_nothing_found_is_an_empty_report(self, tenant, tmp_path):
        assert credentials_import(tenant=tenant, environ={"HOME": "/root"}, directory=tmp_path / "absent") == []


@pytest.mark.django_db
class TestImportCredentialsCommand:
    SECRETS = (KRAKEN_KEY, KRAKEN_SECRET, FILE_KEY, FILE_SECRET, FILE_PASSPHRASE)

    @pytest.fixture
    def found(self, monkeypatch, tmp_path):
        monkeypatch.setenv("KRAKEN_API_KEY", KRAKEN_KEY)
        monkeypatch.setenv("KRAKEN_API_SECRET", KRAKEN_SECRET)
        write_config(
            tmp_path, "kucoin", {"api_key": FILE_KEY, "api_secret": FILE_SECRET, "passphrase": FILE_PASSPHRASE}
        )
        write_config(tmp_path, "bybit", {"api_key": FILE_KEY, "api_secret": FILE_SECRET, "testnet": True})
        return tmp_path

    def assert_no_secret(self, text):
        assert not leaked(text, *self.SECRETS)

    def test_reports_what_was_found_where_and_done_without_a_secret(self, tenant, found, capsys):
        call_command("import_credentials", "--tenant", "acme", "--dir", str(found))
        out, err = capsys.readouterr()

        lines = out.splitlines()
        kraken = next(line for line in lines if line.startswith("kraken:"))
        assert "environment: apiKey ••••wxyz, secret" in kraken
        assert "created 'Kraken (imported)'" in kraken
        kucoin = next(line for line in lines if line.startswith("kucoin:"))
        assert "kucoin_config.json: apiKey ••••abcd, secret, password" in kucoin and "created" in kucoin
        bybit = next(line for line in lines if line.startswith("bybit:"))
        assert "ignored keys: testnet" in bybit and "created" in bybit
        assert "3 exchange(s) found: 3 created." in out
        self.assert_no_secret(out + err)
        assert ExchangeConnection.objects.filter(tenant=tenant).count() == 3

    def test_dry_run_by_tenant_id_saves_nothing(self, tenant, found, capsys):
        call_command("import_credentials", "--tenant", str(tenant.pk), "--dir", str(found), "--dry-run")
        out, err = capsys.readouterr()

        assert "would be created: 'Kraken (imported)'" in out
        assert "(dry run)." in out
        self.assert_no_secret(out + err)
        assert not ExchangeConnection.objects.exists()

    def test_refusals_are_printed_not_raised(self, tenant, found, capsys):
        move(tenant, "us")
        call_command("import_credentials", "--tenant", "acme", "--dir", str(found))
        out, err = capsys.readouterr()

        bybit = next(line for line in out.splitlines() if line.startswith("bybit:"))
        assert "skipped: exchange: Bybit is not available in region 'us'" in bybit
        assert "2 created, 1 skipped" in out
        self.assert_no_secret(out + err)

    def test_default_directory_is_the_setting(self, tenant, settings, tmp_path, capsys):
        settings.CREDENTIALS_DIR = tmp_path
        call_command("import_credentials", "--tenant", "acme")
        assert f"No credentials found in the environment or in {tmp_path}/*_config.json." in capsys.readouterr().out

    def test_unknown_tenant(self, tenant):
        with pytest.raises(CommandError, match=r"No tenant with slug or id 'nope'. Tenants: acme \(id \d+\)"):
            call_command("import_credentials", "--tenant", "nope")


# --- the exchange_setup wizard ---------------------------------------------------------

WIZARD_KEY = "WIZARDkey000000000000qrst"
WIZARD_SECRET = "wizard-typed-secret-7e3d2c1b"


@pytest.fixture
def wizard(transactional_db):
    """``wizard(*args, answers=[...])``: run ``manage.py exchange_setup`` on the test database."""

    def run(*args, answers):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
        env["DATABASE_URL"] = _database_url(db.settings_dict)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform"), env.get("PYTHONPATH", "")])
        return subprocess.run(
            [sys.executable, "manage.py", "exchange_setup", *args],
            input="".join(f"{answer}\n" for answer in answers),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=90,
            start_new_session=True,  # no controlling terminal: getpass reads the answers from stdin
        )

    return run


def assert_not_shown(process, *secrets):
    assert not leaked(process.stdout + process.stderr, *secrets)


def assert_secret_not_shown(process):
    assert_not_shown(process, WIZARD_KEY, WIZARD_SECRET)


def test_wizard_failed_test_answered_no_saves_nothing(wizard, tenant):
    answers = ["y", "us", "kraken", "Kraken wizard", WIZARD_KEY, WIZARD_SECRET, CLOSED_PORT, "n"]
    process = wizard("--tenant", "acme", answers=answers)

    assert process.returncode == 0, process.stderr
    assert "Region is now us (United States)." in process.stdout
    assert "Exchanges in region us:" in process.stdout
    assert f"The test failed (unreachable): kraken: GET {CLOSED_PORT}/" in process.stdout
    assert "Save anyway? [y/N]" in process.stdout
    assert "Nothing was saved." in process.stdout
    assert_secret_not_shown(process)
    tenant.refresh_from_db()
    assert tenant.region == Region.US
    assert not ExchangeConnection.objects.exists()


def test_wizard_failed_test_answered_yes_saves_it_as_failed(wizard, tenant):
    move(tenant, "us")
    seeds = [info.id for info in supported_exchanges(Region.US) if info.seed]
    number = str(seeds.index("kraken") + 1)
    # No --tenant: choose it from the list; keep the region; kraken by its number; the default label.
    answers = ["acme", "n", number, "", WIZARD_KEY, WIZARD_SECRET, CLOSED_PORT, "y"]
    process = wizard(answers=answers)

    assert process.returncode == 0, process.stderr
    assert "Acme Capital (slug acme, region us)" in process.stdout
    assert f"{number}) Kraken (kraken)" in process.stdout
    assert f"The test failed (unreachable): kraken: GET {CLOSED_PORT}/" in process.stdout
    connection = ExchangeConnection.objects.get(tenant=tenant)
    assert (connection.exchange, connection.label, connection.api_base_url) == ("kraken", "Kraken", CLOSED_PORT)
    assert connection.status == ConnectionStatus.FAILED
    assert CLOSED_PORT in connection.last_error and connection.last_checked_at is not None
    assert connection.credentials.apiKey == WIZARD_KEY and connection.credentials.secret == WIZARD_SECRET
    assert f"Saved 'Kraken' (id {connection.pk}, kraken) for Acme Capital: failed" in process.stdout
    assert_secret_not_shown(process)


def test_wizard_tests_and_saves_a_working_connection(wizard, tenant):
    from exchanges.simulator import run_simulator

    with run_simulator() as sim:  # the local exchange simulator speaks Binance's API over real HTTP
        account = sim.add_account("binance", balances={"USDT": 1000})
        answers = ["n", "binance", "Binance sim", account.api_key, account.secret, sim.base_url]
        process = wizard("--tenant", "acme", answers=answers)

    assert process.returncode == 0, process.stderr
    assert re.search(r"^OK: \d+ ms\.$", process.stdout, re.MULTILINE), process.stdout
    assert "Save anyway?" not in process.stdout
    connection = ExchangeConnection.objects.get(tenant=tenant)
    assert (connection.exchange, connection.label, connection.api_base_url) == ("binance", "Binance sim", sim.base_url)
    assert connection.status == ConnectionStatus.CONNECTED and connection.latency_ms is not None
    assert f"Saved 'Binance sim' (id {connection.pk}, binance) for Acme Capital: connected, " in process.stdout
    assert_not_shown(process, account.api_key, account.secret)


def test_wizard_never_shows_a_typed_secret_even_when_asking_again(wizard, tenant):
    answers = [
        "n",
        "nosuchexchange",  # refused, asked again
        "kraken",
        "Kraken",
        WIZARD_KEY,
        "",  # an empty secret is asked again
        WIZARD_SECRET,
        f"ftp://{WIZARD_SECRET}.example",  # refused, asked again
        CLOSED_PORT,
        "y",
    ]
    process = wizard("--tenant", "acme", answers=answers)

    assert process.returncode == 0, process.stderr
    assert "Unknown exchange 'nosuchexchange'" in process.stdout
    assert "API secret is required." in process.stdout
    assert "Must be an http:// or https:// URL" in process.stdout
    assert ExchangeConnection.objects.get(tenant=tenant).credentials.secret == WIZARD_SECRET
    assert_secret_not_shown(process)


def test_wizard_stops_when_the_answers_run_out(tenant, monkeypatch):
    monkeypatch.setattr(sys, "stdin", StringIO("n\n"))
    with pytest.raises(CommandError, match="Cancelled: no connection was saved."):
        call_command("exchange_setup", "--tenant", "acme", stdout=StringIO())
    assert not ExchangeConnection.objects.exists()
