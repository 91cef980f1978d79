"""Backtests: the same bot code as live, over historical candles, run by a worker that
reports its progress to the row (and the dashboard) and stores the figures."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bots.models import Backtest, BacktestStatus, DataSource
from bots.models.subscriptions import TIMEFRAMES
from bots.services.configs import config_validate
from bots.services.events import backtest_publish
from exchanges.symbols import InvalidSymbol, normalize

log = logging.getLogger(__name__)


def backtest_create(
    *, tenant, user=None, bot, symbol: str = "BTC/USDT", timeframe: str = "1h", data: str = DataSource.SAMPLE,
    connection=None, start: datetime | None = None, end: datetime | None = None, csv_file=None,
    strategy_config=None, initial_capital=None, fee=None, slippage=None,
) -> Backtest:  # fmt: skip
    """Check everything a worker would trip over, save the row, queue the run."""
    if timeframe not in TIMEFRAMES:
        raise ValidationError({"timeframe": f"Use one of {', '.join(TIMEFRAMES)}."})
    try:
        symbol = normalize(symbol)
    except InvalidSymbol as exc:
        raise ValidationError({"symbol": str(exc)}) from None
    if data not in DataSource.values:
        raise ValidationError({"data": f"Use one of {', '.join(DataSource.values)}."})
    if data == DataSource.EXCHANGE:
        if connection is None:
            raise ValidationError({"connection": "Fetching candles needs one of your connections."})
        if start is None or end is None:
            raise ValidationError({"start": "Give start and end for candles fetched from an exchange."})
        if end <= start:
            raise ValidationError({"end": "The end must be after the start."})
    if data == DataSource.CSV:
        if csv_file is None:
            raise ValidationError({"csv_file": "Upload a CSV with timestamp, open, high, low, close, volume."})
        if csv_file.size > settings.BOTS_UPLOAD_MAX_BYTES:
            raise ValidationError({"csv_file": f"At most {settings.BOTS_UPLOAD_MAX_BYTES:,} bytes."})
        _csv_check(csv_file)
    if data == DataSource.SAMPLE:
        _sample_check(timeframe)
    config = config_validate(schema=bot.strategy_schema, config=strategy_config, field="strategy_config")
    fields = {k: v for k, v in (("initial_capital", initial_capital), ("fee", fee), ("slippage", slippage))
              if v is not None}  # fmt: skip
    if fields.get("initial_capital") is not None and fields["initial_capital"] <= 0:
        raise ValidationError({"initial_capital": "Must be greater than zero."})
    for name in ("fee", "slippage"):
        if name in fields and not (0 <= fields[name] < 1):
            raise ValidationError({name: "A fraction between 0 and 1, e.g. 0.001 for 0.1 %."})
    with transaction.atomic():
        backtest = Backtest.objects.create(
            tenant=tenant, created_by=user, bot=bot, symbol=symbol, timeframe=timeframe, data=data,
            connection=connection if data == DataSource.EXCHANGE else None, start=start, end=end,
            strategy_config=config, **fields,
        )  # fmt: skip
        if csv_file is not None and data == DataSource.CSV:
            csv_file.seek(0)
            backtest.csv_file.save(f"{backtest.pk}.csv", csv_file, save=True)
        transaction.on_commit(lambda: _queue(backtest.pk))
    return backtest


def _queue(backtest_id: int) -> None:
    from bots.tasks import backtest_run

    backtest_run.delay(backtest_id)


def _csv_check(csv_file) -> None:
    from bots.sdk.candles import read_candles_csv

    try:
        csv_file.seek(0)
        read_candles_csv(csv_file.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError({"csv_file": "The CSV must be UTF-8 text."}) from None
    except ValueError as exc:
        raise ValidationError({"csv_file": str(exc)}) from None


def _sample_check(timeframe: str) -> None:
    from bots.data import sample_candles

    try:
        sample_candles(timeframe)
    except ValueError as exc:
        raise ValidationError({"timeframe": str(exc)}) from None


def _candles(backtest: Backtest, progress):
    from bots.data import sample_candles
    from bots.sdk.candles import read_candles_csv
    from bots.services.candles import candles_history
    from trading.market.venues import Venue

    if backtest.data == DataSource.SAMPLE:
        return sample_candles(backtest.timeframe)
    if backtest.data == DataSource.CSV:
        with backtest.csv_file.open("rb") as handle:
            return read_candles_csv(handle.read().decode("utf-8-sig"))
    return candles_history(
        venue=Venue.of(backtest.connection), symbol=backtest.symbol, timeframe=backtest.timeframe,
        start_ms=int(backtest.start.timestamp() * 1000), end_ms=int(backtest.end.timestamp() * 1000),
        progress=progress,
    )  # fmt: skip


class _Progress:
    """Writes progress to the row and pushes it, at most every ``every`` seconds."""

    def __init__(self, backtest: Backtest, *, low: int, high: int, every: float = 0.5):
        self.backtest, self.low, self.high, self.every = backtest, low, high, every
        self.sent = 0.0

    def __call__(self, fraction: float) -> None:
        percent = int(self.low + (self.high - self.low) * min(max(fraction, 0.0), 1.0))
        now = time.monotonic()
        if percent <= self.backtest.progress or now - self.sent < self.every:
            return
        self.sent = now
        self.backtest.progress = percent
        Backtest.objects.filter(pk=self.backtest.pk).update(progress=percent)
        backtest_publish(backtest=self.backtest)


def backtest_run(*, backtest_id: int) -> Backtest:
    """The worker's part. A second run of a finished or running backtest does nothing."""
    from bots.engine.backtest import run_backtest
    from bots.services.candles import CandlesUnavailable
    from bots.services.runtime import BotUnavailable, bot_load

    claimed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.QUEUED).update(
        status=BacktestStatus.RUNNING, started_at=timezone.now(), progress=1
    )
    backtest = Backtest.objects.select_related("bot", "connection").get(pk=backtest_id)
    if not claimed:
        return backtest
    backtest_publish(backtest=backtest)
    try:
        candles = _candles(backtest, _Progress(backtest, low=1, high=20))
        instance = bot_load(bot=backtest.bot, strategy_config=backtest.strategy_config)
        result = run_backtest(
            bot=instance, candles=candles, initial_capital=float(backtest.initial_capital), fee=float(backtest.fee),
            slippage=float(backtest.slippage), progress=_Progress(backtest, low=20, high=99),
        )  # fmt: skip
    except (CandlesUnavailable, BotUnavailable, ValueError) as exc:
        return _fail(backtest, str(exc))
    except Exception as exc:
        log.exception("backtest %s failed", backtest_id)
        return _fail(backtest, f"The backtest failed: {type(exc).__name__}: {exc}")
    figures = dict(result.figures)
    backtest.equity_curve = figures.pop("equity_curve", [])
    backtest.figures = figures | {"open_position": result.open_position}
    backtest.trades = [_trade_json(t) for t in result.trades[: settings.BOTS_BACKTEST_MAX_STORED_TRADES]]
    backtest.candles = result.candles
    backtest.path = result.path
    backtest.status, backtest.progress, backtest.finished_at = BacktestStatus.DONE, 100, timezone.now()
    backtest.save()
    backtest_publish(backtest=backtest)
    return backtest


def _trade_json(trade) -> dict:
    from dataclasses import asdict

    return {k: (round(v, 10) if isinstance(v, float) else v) for k, v in asdict(trade).items()}


def _fail(backtest: Backtest, error: str) -> Backtest:
    backtest.status, backtest.error, backtest.finished_at = BacktestStatus.FAILED, error[:2000], timezone.now()
    backtest.save(update_fields=["status", "error", "finished_at"])
    backtest_publish(backtest=backtest)
    return backtest
