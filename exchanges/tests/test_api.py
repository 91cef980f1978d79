"""The exchanges API: the owner / member / outsider trio, bad input, and secrets that never
come back out."""

import json
import logging

import pytest
from celery.signals import before_task_publish
from django.db import connection as db

from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.tests.factories import API_KEY, SECRET, ExchangeConnectionFactory
from tenancy.models import Role
from tenancy.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a fast, real connection error


def create(client, **overrides):
    body = {
        "exchange": "binance",
        "label": "Main Binance",
        "credentials": {"apiKey": API_KEY, "secret": SECRET},
        "priority": 1,
    } | overrides
    return client.post("/api/v1/exchanges/connections/", body, format="json")


@pytest.fixture
def mine(tenant):
    return ExchangeConnectionFactory(tenant=tenant, label="Acme Binance")


class TestConnectionsCrud:
    def test_owner_creates_and_the_secret_never_comes_back(self, api, owner):
        response = create(api(owner))
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["exchange"] == "binance"
        assert body["api_key"] == "••••" + API_KEY[-4:]
        assert body["status"] == "untested"
        text = json.dumps(body) + api(owner).get("/api/v1/exchanges/connections/").content.decode()
        assert SECRET not in text and API_KEY not in text
        stored = ExchangeConnection.objects.get(pk=body["id"])
        assert stored.credentials.secret == SECRET

    def test_the_database_column_holds_no_plaintext(self, api, owner):
        pk = create(api(owner)).json()["id"]
        with db.cursor() as cursor:
            cursor.execute("SELECT encrypted_credentials FROM exchanges_exchangeconnection WHERE id = %s", [pk])
            raw = bytes(cursor.fetchone()[0])
        assert SECRET.encode() not in raw and API_KEY.encode() not in raw
        assert raw.startswith(b"gAAAA")  # a Fernet token

    def test_passphrase_is_accepted_as_the_alias_of_password(self, api, owner):
        response = create(
            api(owner),
            exchange="okx",
            label="OKX",
            credentials={"apiKey": API_KEY, "secret": SECRET, "passphrase": "pp-123456"},
        )
        assert response.status_code == 201, response.json()
        assert ExchangeConnection.objects.get(label="OKX").credentials.password == "pp-123456"

    def test_member_lists_but_cannot_create(self, api, member, mine):
        assert [c["label"] for c in api(member).get("/api/v1/exchanges/connections/").json()] == ["Acme Binance"]
        response = create(api(member))
        assert response.status_code == 403
        assert ExchangeConnection.objects.count() == 1

    def test_patch_keeps_credentials_unless_given(self, api, owner, mine):
        url = f"/api/v1/exchanges/connections/{mine.pk}/"
        response = api(owner).patch(url, {"priority": 3, "enabled": False}, format="json")
        assert response.status_code == 200
        mine.refresh_from_db()
        assert (mine.priority, mine.enabled, mine.credentials.secret) == (3, False, SECRET)
        api(owner).patch(url, {"credentials": {"secret": "a-brand-new-secret"}}, format="json")
        mine.refresh_from_db()
        assert (mine.credentials.apiKey, mine.credentials.secret) == (API_KEY, "a-brand-new-secret")
        assert mine.status == ConnectionStatus.UNTESTED

    def test_owner_deletes(self, api, owner, mine):
        assert api(owner).delete(f"/api/v1/exchanges/connections/{mine.pk}/").status_code == 204
        assert not ExchangeConnection.objects.filter(pk=mine.pk).exists()


class TestOutsider:
    @pytest.mark.parametrize(
        "method, path",
        [
            ("get", "/api/v1/exchanges/connections/{id}/"),
            ("patch", "/api/v1/exchanges/connections/{id}/"),
            ("delete", "/api/v1/exchanges/connections/{id}/"),
            ("post", "/api/v1/exchanges/connections/{id}/test/"),
            ("get", "/api/v1/exchanges/connections/{id}/balance/"),
            ("get", "/api/v1/exchanges/connections/{id}/symbols/"),
            ("get", "/api/v1/exchanges/connections/{id}/info/"),
            ("get", "/api/v1/market/ticker/?connection={id}&symbol=BTC/USDT"),
            ("get", "/api/v1/market/orderbook/?connection={id}&symbol=BTC/USDT"),
        ],
    )
    def test_another_tenants_connection_is_404(self, api, owner, outsider, mine, method, path):
        client = api(outsider)
        url = path.format(id=mine.pk)
        if method == "patch":
            response = client.patch(url, {"label": "x"}, format="json")
        else:
            response = getattr(client, method)(url)
        assert response.status_code == 404
        assert "Acme" not in response.content.decode()
        assert ExchangeConnection.objects.get(pk=mine.pk).label == "Acme Binance"

    def test_outsider_lists_only_their_own(self, api, outsider, mine):
        assert api(outsider).get("/api/v1/exchanges/connections/").json() == []


class TestBadInput:
    @pytest.mark.parametrize(
        "overrides, field, words",
        [
            ({"exchange": "nope"}, "exchange", "Unknown exchange 'nope'"),
            ({"credentials": {"apiKey": API_KEY}}, "credentials", "missing: secret"),
            ({"credentials": {"apiKey": API_KEY, "secret": SECRET, "color": "red"}}, "credentials", "Unknown"),
            ({"api_base_url": "ftp://127.0.0.1/"}, "api_base_url", "http:// or https://"),
            ({"api_base_url": "http://169.254.169.254"}, "api_base_url", "not an allowed API host"),
            ({"api_base_url": "http://10.0.0.5:8080"}, "api_base_url", "not an allowed API host"),
            ({"priority": -1}, "priority", ""),
            ({"capital_allocation_pct": "150"}, "capital_allocation_pct", ""),
        ],
    )
    def test_a_400_names_the_field(self, api, owner, overrides, field, words):
        response = create(api(owner), **overrides)
        assert response.status_code == 400, response.content
        body = response.json()
        assert field in body
        assert words in " ".join(body[field] if isinstance(body[field], list) else [body[field]])
        assert ExchangeConnection.objects.count() == 0

    def test_an_exchange_outside_the_tenants_region_is_refused(self, api, owner, tenant):
        tenant.region = "us"
        tenant.save()
        response = create(api(owner), exchange="bybit", label="Bybit")
        assert response.status_code == 400
        assert "Bybit is not available in region 'us'" in response.json()["exchange"][0]

    def test_duplicate_label_names_the_field(self, api, owner, mine):
        response = create(api(owner), label="acme binance")
        assert response.status_code == 400
        assert "already has a connection" in response.json()["label"][0]

    def test_an_unreadable_symbol_is_a_400_naming_symbol(self, api, owner, mine):
        response = api(owner).get(f"/api/v1/market/ticker/?connection={mine.pk}&symbol=NOT A SYMBOL")
        assert response.status_code == 400
        assert "symbol" in response.json()

    def test_missing_query_parameters_are_named(self, api, owner):
        response = api(owner).get("/api/v1/market/ticker/")
        assert response.status_code == 400
        assert set(response.json()) == {"connection", "symbol"}


class TestSupported:
    def test_supported_by_region_with_capabilities_and_credentials(self, api, member):
        us = api(member).get("/api/v1/exchanges/supported/?region=us&seed=true").json()
        ids = [e["id"] for e in us]
        assert ids[:5] == ["robinhood", "coinbase", "kraken", "binanceus", "kucoin"]
        assert "bybit" not in ids
        kraken = next(e for e in us if e["id"] == "kraken")
        assert kraken["required_credentials"] == ["apiKey", "secret"]
        assert kraken["capabilities"]["spot"] is True
        assert len(api(member).get("/api/v1/exchanges/supported/").json()) >= 100

    def test_bad_region_is_a_400(self, api, member):
        response = api(member).get("/api/v1/exchanges/supported/?region=mars")
        assert response.status_code == 400
        assert "region" in response.json()


class TestFailingConnection:
    def test_a_connection_that_cannot_connect_is_saved_failed_without_leaking(self, api, owner, caplog):
        published = []

        def capture(sender=None, body=None, headers=None, **kwargs):
            published.append(json.dumps([sender, body, headers], default=str))

        before_task_publish.connect(capture, weak=False)
        try:
            with caplog.at_level(logging.DEBUG):
                from django.test import TestCase

                with TestCase.captureOnCommitCallbacks(execute=True):
                    response = create(api(owner), api_base_url=CLOSED_PORT)
                pk = response.json()["id"]
                test = api(owner).post(f"/api/v1/exchanges/connections/{pk}/test/")
        finally:
            before_task_publish.disconnect(capture)
        assert test.status_code == 200
        result = test.json()
        assert result["ok"] is False
        assert result["error_code"] == "unreachable"
        connection = ExchangeConnection.objects.get(pk=pk)
        assert connection.status == ConnectionStatus.FAILED
        assert connection.last_error
        assert published and f"[{pk}]" in published[0]  # the task got the id
        everything = caplog.text + "".join(published) + test.content.decode() + response.content.decode()
        assert SECRET not in everything and API_KEY not in everything

    def test_validate_credentials_does_not_save(self, api, owner):
        response = api(owner).post(
            "/api/v1/exchanges/validate-credentials/",
            {"exchange": "kraken", "credentials": {"apiKey": API_KEY, "secret": SECRET}, "api_base_url": CLOSED_PORT},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["ok"] is False
        assert ExchangeConnection.objects.count() == 0

    def test_a_viewer_cannot_validate(self, api, tenant):
        viewer = MembershipFactory(tenant=tenant, user=UserFactory(username="vic"), role=Role.VIEWER).user
        response = api(viewer).post("/api/v1/exchanges/validate-credentials/", {"exchange": "kraken"}, format="json")
        assert response.status_code == 403
