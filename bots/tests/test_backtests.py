"""Backtests over the API: on the shipped sample, an uploaded CSV and candles fetched from
the simulator; progress and figures with the performance endpoint's names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bots.models import Backtest
from bots.services.backtests import backtest_run
from bots.tests.factories import BotFactory, ListedBotFactory
from trading.tests.factories import simulator_connection

pytestmark = pytest.mark.django_db

FIGURES = {"total_trades", "winning_trades", "losing_trades", "win_rate", "total_pnl", "total_pnl_percent",
           "average_trade_duration", "max_drawdown", "sharpe_ratio"}  # fmt: skip


def sma_bot():
    return ListedBotFactory(author=None, slug="sma-bt", builtin="sma_crossover")


def create(client, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks():  # the queued task is run below, in the test's process
        response = client.post("/api/v1/backtests/", body, format="multipart" if "csv_file" in body else "json")
    if response.status_code == 202:
        backtest_run(backtest_id=response.json()["id"])
    return response


def test_a_backtest_on_the_sample_reports_the_performance_figures(api, owner, django_capture_on_commit_callbacks):
    client = api(owner)
    bot = sma_bot()
    response = create(client, django_capture_on_commit_callbacks, bot=bot.pk, symbol="BTC/USDT", timeframe="1h",
                      data="sample")  # fmt: skip
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    result = client.get(f"/api/v1/backtests/{response.json()['id']}/").json()
    assert result["status"] == "done" and result["progress"] == 100, result
    assert set(result) >= FIGURES
    assert result["total_trades"] > 0 and result["candles"] > 8000 and result["path"] == "vectorized"
    assert len(result["equity_curve"]) > 10 and result["trades"]
    listed = client.get("/api/v1/backtests/").json()["results"]
    assert [b["id"] for b in listed] == [result["id"]] and "equity_curve" not in listed[0]


def test_a_csv_backtest_and_a_bad_csv(api, owner, django_capture_on_commit_callbacks):
    from bots.data import sample_candles

    frame = sample_candles("1h").tail(600)
    csv = frame.to_csv(index=False).encode()
    client = api(owner)
    bot = sma_bot()
    response = create(client, django_capture_on_commit_callbacks, bot=bot.pk, data="csv", timeframe="1h",
                      csv_file=SimpleUploadedFile("candles.csv", csv))  # fmt: skip
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/backtests/{response.json()['id']}/").json()["candles"] == 600
    bad = create(client, django_capture_on_commit_callbacks, bot=bot.pk, data="csv",
                 csv_file=SimpleUploadedFile("candles.csv", b"timestamp,open\n1,abc\n"))  # fmt: skip
    assert bad.status_code == 400 and "csv_file" in bad.json()
    assert Backtest.objects.count() == 1


def test_a_backtest_on_candles_fetched_from_the_simulator(api, owner, tenant, exchange_simulator,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    connection = simulator_connection(exchange_simulator, tenant)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    response = create(api(owner), django_capture_on_commit_callbacks, bot=sma_bot().pk, data="exchange",
                      connection=connection.pk, timeframe="1h", start=(end - timedelta(days=60)).isoformat(),
                      end=end.isoformat())  # fmt: skip
    assert response.status_code == 202, response.content
    result = api(owner).get(f"/api/v1/backtests/{response.json()['id']}/").json()
    assert result["status"] == "done", result
    assert 1400 <= result["candles"] <= 1441


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": "exchange"}, "connection"),
        ({"timeframe": "2h"}, "timeframe"),
        ({"data": "sample", "timeframe": "1m"}, "timeframe"),
        ({"fee": "2"}, "fee"),
        ({"strategy_config": {"fast": -1}}, "strategy_config"),
    ],
)
def test_bad_requests_name_the_field(api, owner, body, field, django_capture_on_commit_callbacks):
    from bots.sdk.builtin import REGISTRY

    bot = BotFactory(author=None, slug="sma-bad", builtin="sma_crossover",
                     strategy_schema=REGISTRY["sma_crossover"].strategy_schema)  # fmt: skip
    bot.visibility, bot.review_status = "published", "approved"
    bot.save()
    response = create(api(owner), django_capture_on_commit_callbacks, bot=bot.pk, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_outsiders_and_viewers(api, member, outsider, tenant, django_capture_on_commit_callbacks):
    bot = sma_bot()
    backtest = Backtest.objects.create(tenant=tenant, bot=bot, symbol="BTC/USDT")
    assert api(outsider).get(f"/api/v1/backtests/{backtest.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/backtests/").json()["results"] == []
    assert api(member).get(f"/api/v1/backtests/{backtest.pk}/").status_code == 200
    assert api(member).post("/api/v1/backtests/", {"bot": bot.pk}, format="json").status_code == 403
    private = BotFactory(author=tenant)
    response = api(outsider).post("/api/v1/backtests/", {"bot": private.pk}, format="json")
    assert response.status_code == 400 and "bot" in response.json()
