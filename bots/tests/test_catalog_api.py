"""The marketplace catalog over the API: what each tenant sees, authoring, uploads that are
refused or kept, the operator's review, and the bot test run."""

from __future__ import annotations

import io
import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bots.models import Bot, BotFile, ReviewStatus, Visibility
from bots.services import catalog
from bots.tests.factories import BotFactory, ListedBotFactory

pytestmark = pytest.mark.django_db

ALWAYS_BUY = b"""
from bots.sdk import Action, CustomBot


class AlwaysBuy(CustomBot):
    name = "always buy"
    warmup = 2

    def analyze_market(self, candles):
        return Action.buy(float(candles["close"].iloc[-1]), "always")
"""


class Payload:
    """Unpickling this would create ``marker``: the upload must never be unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def upload(client, bot, data: bytes, filename: str, **fields):
    body = {"file": SimpleUploadedFile(filename, data), "file_type": "MODEL", "framework": "sklearn"} | fields
    return client.post(f"/api/v1/bots/{bot.pk}/upload-file/", body, format="multipart")


class TestCatalog:
    def test_everyone_sees_the_builtins_and_listed_bots_but_only_their_own_drafts(self, api, owner, outsider, tenant,
                                                                                 other_tenant):  # fmt: skip
        mine = BotFactory(author=tenant, name="Acme draft")
        theirs = BotFactory(author=other_tenant, name="Globex draft")
        listed = ListedBotFactory(author=other_tenant, name="Globex public")
        names = {b["name"] for b in api(owner).get("/api/v1/bots/?limit=100").json()["results"]}
        assert {"Acme draft", "Globex public"} <= names
        assert "Globex draft" not in names
        assert any(b["author"] == "platform" for b in api(owner).get("/api/v1/bots/?limit=100").json()["results"])
        assert api(outsider).get(f"/api/v1/bots/{mine.pk}/").status_code == 404
        assert api(owner).get(f"/api/v1/bots/{theirs.pk}/").status_code == 404
        assert api(owner).get(f"/api/v1/bots/{listed.pk}/").json()["mine"] is False
        mine_only = api(owner).get("/api/v1/bots/?mine=true").json()["results"]
        assert [b["name"] for b in mine_only] == ["Acme draft"]

    def test_builtins_are_listed_with_their_backtest_on_the_sample(self, api, member):
        bots = api(member).get("/api/v1/bots/?limit=100").json()["results"]
        builtins = {b["builtin"]: b for b in bots if b["author"] == "platform"}
        assert {"sma_crossover", "rsi", "macd", "bollinger", "ml_example"} <= set(builtins)
        summary = builtins["sma_crossover"]["backtest_summary"]
        assert summary["data"] == "sample" and summary["total_trades"] > 0
        assert {"win_rate", "total_pnl", "max_drawdown", "sharpe_ratio"} <= set(summary)
        assert builtins["ml_example"]["type"] == "ML"

    def test_a_trader_creates_a_private_draft_a_viewer_cannot(self, api, owner, member):
        body = {
            "name": "Mean reversion",
            "type": "TECHNICAL",
            "description": "buys dips",
            "strategy_schema": {"type": "object", "properties": {"window": {"type": "integer", "default": 20}}},
        }
        assert api(member).post("/api/v1/bots/", body, format="json").status_code == 403
        response = api(owner).post("/api/v1/bots/", body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["visibility"] == "private" and response.json()["review_status"] == "draft"
        again = api(owner).post("/api/v1/bots/", body, format="json")
        assert again.status_code == 400 and "name" in again.json()

    def test_a_bot_in_use_is_not_deleted_an_unused_one_is(self, api, owner, tenant):
        from bots.tests.factories import SubscriptionFactory

        used = SubscriptionFactory(connection__tenant=tenant).bot
        unused = BotFactory(author=tenant)
        response = api(owner).delete(f"/api/v1/bots/{used.pk}/")
        assert response.status_code == 409 and response.json()["code"] == "in_use"
        assert api(owner).delete(f"/api/v1/bots/{unused.pk}/").status_code == 204
        assert set(Bot.objects.filter(author=tenant)) == {used}

    def test_a_bad_schema_is_refused_naming_the_field(self, api, owner):
        body = {"name": "Broken", "strategy_schema": {"type": "objekt"}}
        response = api(owner).post("/api/v1/bots/", body, format="json")
        assert response.status_code == 400 and "strategy_schema" in response.json()

    def test_an_outsider_cannot_change_upload_to_or_delete_a_bot(self, api, outsider, tenant):
        bot = BotFactory(author=tenant)
        client = api(outsider)
        assert client.patch(f"/api/v1/bots/{bot.pk}/", {"name": "x"}, format="json").status_code == 404
        assert upload(client, bot, ALWAYS_BUY, "bot.py", file_type="CODE", framework="").status_code == 404
        assert client.delete(f"/api/v1/bots/{bot.pk}/").status_code == 404
        assert client.post(f"/api/v1/bots/{bot.pk}/test/", {}, format="json").status_code == 404
        assert Bot.objects.filter(pk=bot.pk, name=bot.name).exists()


class TestUploads:
    def test_a_malicious_pickle_is_refused_and_its_payload_never_runs(self, api, owner, tenant, tmp_path):
        bot = BotFactory(author=tenant, builtin="")
        marker = tmp_path / "pwned"
        for name in ("model.pkl", "model.joblib", "model.skops"):
            response = upload(api(owner), bot, pickle.dumps(Payload(marker)), name)
            assert response.status_code == 400, response.content
            assert "skops" in str(response.json()["file"]) or "ONNX" in str(response.json()["file"])
        assert not marker.exists()
        assert BotFile.objects.count() == 0

    def test_a_skops_model_with_an_untrusted_type_is_refused(self, api, owner, tenant):
        import skops.io as sio
        from sklearn.preprocessing import FunctionTransformer

        bot = BotFactory(author=tenant, builtin="ml_example")
        data = sio.dumps(FunctionTransformer(func=print))
        response = upload(api(owner), bot, data, "model.skops")
        assert response.status_code == 400
        assert "print" in str(response.json()["file"]) or "untrusted" in str(response.json()["file"]).lower()

    def test_a_safe_skops_model_is_kept_with_its_checksum(self, api, owner, tenant):
        import hashlib

        from bots.examples_ml.bot import ml_example_model_bytes

        bot = BotFactory(author=tenant, builtin="ml_example")
        data = ml_example_model_bytes()
        response = upload(api(owner), bot, data, "mine.skops", name="model", model_type="classifier")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["format"] == "skops" and body["sha256"] == hashlib.sha256(data).hexdigest()
        assert body["size"] == len(data)
        files = api(owner).get(f"/api/v1/bots/{bot.pk}/files/").json()
        assert [f["name"] for f in files] == ["model"]
        report = api(owner).post(f"/api/v1/bots/{bot.pk}/test/", {}, format="json").json()
        assert report["ok"] is True, report
        assert report["action"]["kind"] in ("BUY", "SELL", "HOLD")

    def test_code_with_a_forbidden_import_is_refused_with_the_line(self, api, owner, tenant):
        bot = BotFactory(author=tenant, builtin="")
        code = (
            b"import os\nfrom bots.sdk import CustomBot, Action\n\nclass B(CustomBot):\n"
            b"    def analyze_market(self, candles):\n        os.system('id')\n        return Action.hold('x')\n"
        )
        response = upload(api(owner), bot, code, "bot.py", file_type="CODE", framework="")
        assert response.status_code == 400
        assert "os" in str(response.json()["file"])

    def test_uploaded_code_runs_in_the_sandbox_when_tested(self, api, owner, tenant):
        bot = BotFactory(author=tenant, builtin="")
        assert upload(api(owner), bot, ALWAYS_BUY, "bot.py", file_type="CODE", framework="").status_code == 201
        report = api(owner).post(f"/api/v1/bots/{bot.pk}/test/", {}, format="json").json()
        assert report["ok"] is True, report
        assert report["action"]["kind"] == "BUY" and report["action"]["reason"] == "always"

    def test_a_file_over_the_limit_is_refused(self, api, owner, tenant, settings):
        settings.BOTS_UPLOAD_MAX_BYTES = 100
        bot = BotFactory(author=tenant, builtin="")
        response = upload(api(owner), bot, b"x" * 200, "data.csv", file_type="DATA", framework="")
        assert response.status_code == 400 and "limit" in str(response.json()["file"])


class TestReview:
    def test_submitted_bots_wait_for_the_operator_then_everyone_sees_them(
        self, api, owner, outsider, tenant, django_user_model, django_capture_on_commit_callbacks
    ):
        bot = BotFactory(author=tenant, builtin="")
        assert upload(api(owner), bot, ALWAYS_BUY, "bot.py", file_type="CODE", framework="").status_code == 201
        response = api(owner).post(f"/api/v1/bots/{bot.pk}/submit/")
        assert response.status_code == 200 and response.json()["review_status"] == "pending"
        assert api(outsider).get(f"/api/v1/bots/{bot.pk}/").status_code == 404  # not before the review
        operator = django_user_model.objects.create_superuser("operator", "op@example.com", "pw")
        with django_capture_on_commit_callbacks():
            catalog.bot_review(bot=bot, approve=True, reviewer=operator)
        catalog.bot_listing_backtest(bot=bot)  # what the queued task does
        seen = api(outsider).get(f"/api/v1/bots/{bot.pk}/").json()
        assert seen["listed"] is True and seen["author"] == tenant.name
        assert "total_trades" in seen["backtest_summary"], seen["backtest_summary"]

    def test_a_viewer_cannot_submit_and_an_edit_sends_a_listed_bot_back_to_review(self, api, owner, member, tenant):
        bot = ListedBotFactory(author=tenant)
        assert api(member).post(f"/api/v1/bots/{bot.pk}/submit/").status_code == 403
        response = api(owner).patch(f"/api/v1/bots/{bot.pk}/", {"description": "new"}, format="json")
        assert response.json()["review_status"] == "pending"
        bot.refresh_from_db()
        assert bot.visibility == Visibility.PUBLISHED and bot.review_status == ReviewStatus.PENDING


def test_bot_file_bytes_go_nowhere_but_the_file(api, owner, tenant):
    bot = BotFactory(author=tenant, builtin="")
    upload(api(owner), bot, ALWAYS_BUY, "bot.py", file_type="CODE", framework="")
    body = api(owner).get(f"/api/v1/bots/{bot.pk}/files/").content
    assert b"AlwaysBuy" not in body
    assert io.BytesIO(BotFile.objects.get().read()).read() == ALWAYS_BUY
