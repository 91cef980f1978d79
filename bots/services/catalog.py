"""The catalog: authors create bots, upload files and ask for review; an operator approves."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from bots.models import Bot, BotFile, BotType, FileType, Framework, ReviewStatus, Visibility
from bots.services.configs import SCHEMA_FIELDS, schema_check

log = logging.getLogger(__name__)

EDITABLE = ("name", "description", "version", "bot_type", "strategy_schema", "execution_schema", "risk_schema")


def _clean_fields(fields: dict) -> dict:
    clean = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            continue
        if name in SCHEMA_FIELDS.values():
            value = schema_check(value, field=name)
        clean[name] = value
    if "bot_type" in clean and clean["bot_type"] not in BotType.values:
        raise ValidationError({"bot_type": f"Use one of {', '.join(BotType.values)}."})
    if "name" in clean and not str(clean["name"]).strip():
        raise ValidationError({"name": "Give the bot a name."})
    return clean


def bot_create(*, tenant, user=None, name: str, builtin: str = "", **fields) -> Bot:
    """A private draft of ``tenant``: uploaded code, or a built-in strategy with the author's models."""
    from bots.services.runtime import builtin_registry

    fields = _clean_fields({"name": name, **fields})
    if builtin:
        cls = builtin_registry().get(builtin)
        if cls is None:
            raise ValidationError(
                {"builtin": f"Use one of {', '.join(sorted(builtin_registry()))}, or leave it empty."}
            )
        for schema_field in ("strategy_schema", "execution_schema", "risk_schema"):
            fields.setdefault(schema_field, getattr(cls, schema_field, {}) or {})
    slug = slugify(fields["name"])[:100] or "bot"
    try:
        with transaction.atomic():
            return Bot.objects.create(author=tenant, slug=slug, builtin=builtin, created_by=user, **fields)
    except IntegrityError:
        raise ValidationError({"name": f"{tenant.name} already has a bot named {fields['name']!r}."}) from None


def bot_update(*, bot: Bot, **fields) -> Bot:
    if bot.author_id is None:
        raise ValidationError({"bot": "Built-in bots cannot be changed."})
    clean = _clean_fields(fields)
    for name, value in clean.items():
        setattr(bot, name, value)
    if "name" in clean:
        bot.slug = slugify(clean["name"])[:100] or "bot"
    if clean and bot.review_status == ReviewStatus.APPROVED and bot.visibility == Visibility.PUBLISHED:
        # A changed bot is reviewed again before other tenants see the change.
        bot.review_status = ReviewStatus.PENDING
    try:
        with transaction.atomic():
            bot.save()
    except IntegrityError:
        raise ValidationError({"name": "Another bot of yours has that name."}) from None
    return bot


def bot_submit(*, bot: Bot) -> Bot:
    """Ask for the marketplace: published once an operator approves."""
    if bot.author_id is None:
        raise ValidationError({"bot": "Built-in bots are already in the marketplace."})
    if not bot.builtin and not bot.files.filter(file_type=FileType.CODE).exists():
        raise ValidationError({"files": "Upload the bot's CODE before asking for review."})
    bot.visibility = Visibility.PUBLISHED
    bot.review_status = ReviewStatus.PENDING
    bot.save(update_fields=["visibility", "review_status", "updated_at"])
    return bot


def bot_unpublish(*, bot: Bot) -> Bot:
    bot.visibility = Visibility.PRIVATE
    bot.review_status = ReviewStatus.DRAFT
    bot.save(update_fields=["visibility", "review_status", "updated_at"])
    return bot


def bot_review(*, bot: Bot, approve: bool, reviewer, note: str = "") -> Bot:
    """An operator's decision. Approving also backtests the bot on the shipped sample for its listing."""
    bot.review_status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    bot.review_note = note
    bot.reviewed_by = reviewer
    bot.reviewed_at = timezone.now()
    if approve:
        bot.visibility = Visibility.PUBLISHED
    bot.save()
    if approve:  # uploaded code runs candle by candle in the sandbox: a worker's job, not a request's
        transaction.on_commit(lambda: _listing_later(bot.pk))
    return bot


def _listing_later(bot_id: int) -> None:
    from bots.tasks import bot_listing_backtest as task

    task.delay(bot_id)


def bot_listing_backtest(*, bot: Bot) -> dict:
    """The figures a marketplace listing shows: the bot on the shipped sample, default config."""
    from bots.data import SAMPLE_SYMBOL, sample_candles
    from bots.engine.backtest import run_backtest
    from bots.services.configs import with_defaults
    from bots.services.runtime import BotUnavailable, SandboxedBot, bot_load

    try:
        instance = bot_load(bot=bot, strategy_config=with_defaults(bot.strategy_schema, {}))
        candles = sample_candles("1h")
        if isinstance(instance, SandboxedBot):  # candle by candle, a process each: keep it short
            candles = candles.tail(settings.BOTS_LISTING_SANDBOX_CANDLES).reset_index(drop=True)
        result = run_backtest(bot=instance, candles=candles)
    except (BotUnavailable, ValueError) as exc:
        summary = {"error": str(exc)}
    else:
        figures = {k: v for k, v in result.figures.items() if k != "equity_curve"}
        summary = figures | {"symbol": SAMPLE_SYMBOL, "timeframe": "1h", "candles": result.candles,
                             "data": "sample", "at": timezone.now().isoformat()}  # fmt: skip
    Bot.objects.filter(pk=bot.pk).update(backtest_summary=summary)
    bot.backtest_summary = summary
    return summary


def builtin_bots_sync() -> int:
    """Every built-in strategy of the SDK is a platform bot in the marketplace (idempotent)."""
    from bots.services.runtime import builtin_registry

    made = 0
    for key, cls in sorted(builtin_registry().items()):
        defaults = {
            "name": getattr(cls, "name", key) or key,
            "bot_type": getattr(cls, "bot_type", BotType.TECHNICAL),
            "description": (getattr(cls, "description", "") or (cls.__doc__ or "")).strip(),
            "builtin": key,
            "visibility": Visibility.PUBLISHED,
            "review_status": ReviewStatus.APPROVED,
            "strategy_schema": getattr(cls, "strategy_schema", {}) or {},
            "execution_schema": getattr(cls, "execution_schema", {}) or {},
            "risk_schema": getattr(cls, "risk_schema", {}) or {},
        }
        # Created once: an operator's later edits (description, schemas) are kept.
        bot, created = Bot.objects.get_or_create(author=None, slug=key.replace("_", "-"), defaults=defaults)
        made += created
        if created or not bot.backtest_summary:
            bot_listing_backtest(bot=bot)
    return made


# --- files ---------------------------------------------------------------------------


def bot_file_upload(
    *, bot: Bot, user=None, upload, file_type: str, framework: str = "", name: str = "", model_type: str = "",
    description: str = "",
) -> BotFile:  # fmt: skip
    """Check an untrusted upload (format from its bytes, never unpickled) and keep it."""
    from bots.safety.formats import inspect_upload

    if bot.author_id is None:
        raise ValidationError({"bot": "Files cannot be added to built-in bots."})
    if file_type not in FileType.values:
        raise ValidationError({"file_type": f"Use one of {', '.join(FileType.values)}."})
    if framework not in Framework.values:
        raise ValidationError({"framework": f"Use one of {', '.join(v for v in Framework.values if v)}."})
    limit = settings.BOTS_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"file": f"The file is {upload.size:,} bytes; the limit is {limit:,}."})
    data = upload.read()
    verdict = inspect_upload(file_type=file_type, framework=framework, filename=upload.name or "", data=data,
                             max_bytes=limit)  # fmt: skip
    # The format from the bytes; CODE checked statically, models loaded by the safe loaders.
    if not verdict.ok:
        raise ValidationError({"file": verdict.message})
    name = (name or "").strip() or {"CODE": "bot", "MODEL": "model"}.get(file_type, file_type.lower())
    with transaction.atomic():
        # A new upload under the same name replaces the old one (a new version of the model).
        old = list(bot.files.select_for_update().filter(name=name))
        for previous in old:
            previous.file.delete(save=False)
            previous.delete()
        record = BotFile(bot=bot, file_type=file_type, framework=framework, model_type=model_type, name=name,
                         original_filename=(upload.name or "")[:255], description=description, format=verdict.format,
                         size=verdict.size, sha256=verdict.sha256, uploaded_by=user)  # fmt: skip
        record.file.save(record.sha256, ContentFile(data), save=False)
        record.save()
        Bot.objects.filter(pk=bot.pk).update(updated_at=timezone.now())
    log.info("bot %s: %s file %s uploaded (%s, %d bytes)", bot.pk, file_type, name, verdict.format, verdict.size)
    return record


class BotInUse(Exception):
    """Subscriptions run the bot: it cannot be deleted (unpublish it instead)."""


def bot_delete(*, bot: Bot) -> None:
    if bot.author_id is None:
        raise ValidationError({"bot": "Built-in bots cannot be deleted."})
    if bot.subscriptions.exists():
        raise BotInUse("Subscriptions use this bot: unpublish it instead.")
    with transaction.atomic():
        for file in bot.files.all():
            bot_file_delete(file=file)
        bot.delete()


def bot_file_delete(*, file: BotFile) -> None:
    file.file.delete(save=False)
    file.delete()


def bot_test(*, bot: Bot, strategy_config: dict | None = None) -> dict:
    """Load everything and run the bot once on the shipped sample: what a user needs to know."""
    import time

    from bots.data import sample_candles
    from bots.services.configs import config_validate
    from bots.services.runtime import BotUnavailable, bot_load

    report = {"ok": False, "action": None, "errors": [], "files": [], "duration_ms": None}
    for file in bot.files.all():
        report["files"].append({"name": file.name, "file_type": file.file_type, "format": file.format})
    try:
        config = config_validate(schema=bot.strategy_schema, config=strategy_config or {}, field="strategy_config")
        started = time.perf_counter()
        instance = bot_load(bot=bot, strategy_config=config)
        history = instance.required_history() if hasattr(instance, "required_history") else 300
        action = instance.analyze_market(sample_candles("1h").tail(max(int(history), 1) * 2).reset_index(drop=True))
        report["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    except ValidationError as exc:
        report["errors"] = [f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms]
    except BotUnavailable as exc:
        report["errors"] = [str(exc)]
    except Exception as exc:  # a built-in that fails is a bug of ours; say so without a trace
        log.exception("bot %s failed its test run", bot.pk)
        report["errors"] = [f"The bot failed: {type(exc).__name__}: {exc}"[:500]]
    else:
        report["ok"] = True
        report["action"] = action.to_json()
    return report
