"""Import an operator's exchange credentials: environment variables first, then files.

The seeds kept credentials in ``KRAKEN_API_KEY``-style variables and in
``credentials/<exchange>_config.json`` files. ``credentials_import`` reads both for every
exchange the catalog knows, field by field (a variable beats the file's value of the same
field), and stores each exchange's credentials, encrypted, in a connection labelled
"<Exchange> (imported)": created on the first import, updated on the next ones.

Results name fields and sources only; no secret value ever leaves this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from exchanges import services
from exchanges.catalog import ALIASES, ExchangeInfo, canonical_id, exchange_info, supported_exchanges
from exchanges.models import ExchangeConnection
from exchanges.validation import CREDENTIAL_ALIASES, exchange_for_region

FILE_SUFFIX = "_config.json"
LABEL = "{name} (imported)"
MASK = "••••"

# Environment variable suffixes -> ccxt's field names; for a field, the first one set wins.
ENV_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("API_KEY", "apiKey"),
    ("API_SECRET", "secret"),
    ("SECRET", "secret"),
    ("PASSPHRASE", "password"),
    ("PASSWORD", "password"),
    ("UID", "uid"),
    ("PRIVATE_KEY", "privateKey"),
)

# Robinhood's old login (the seeds' robinhood_config.json) is not an API credential.
_ROBINHOOD_LOGIN_FIELDS = {"username", "mfa_code", "mfa", "totp", "device_token"}
ROBINHOOD_LOGIN_MESSAGE = (
    "this is Robinhood's old login format (username/password/mfa_code), which is no longer supported: "
    "the Robinhood Crypto Trading API needs an API key and a private key (apiKey + privateKey, created "
    "in Robinhood's crypto API settings). Put them in ROBINHOOD_API_KEY / ROBINHOOD_PRIVATE_KEY or as "
    '"api_key" / "private_key" in robinhood_config.json.'
)


class ImportAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ImportResult:
    """What was found for one exchange, where, and what was done with it. Never a value."""

    exchange: str
    action: ImportAction
    reason: str = ""
    label: str = ""
    from_environment: tuple[str, ...] = ()  # ccxt field names taken from variables
    environment_names: tuple[str, ...] = ()  # the variables they came from
    from_file: tuple[str, ...] = ()  # ccxt field names taken from the file
    file: Path | None = None
    overridden: tuple[str, ...] = ()  # fields the file had but a variable replaced
    ignored: tuple[str, ...] = ()  # keys of the file that are not credentials
    api_key_masked: str = ""  # e.g. "••••wxyz"
    connection_id: int | None = None
    dry_run: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.from_environment, *self.from_file)


@dataclass
class _Found:
    """Credentials gathered for one exchange, values kept apart from the report."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field -> variable name or "file"
    file: Path | None = None
    file_keys: tuple[str, ...] = ()
    overridden: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problem: str = ""  # the file cannot be used, and why

    def __bool__(self) -> bool:
        return bool(self.values or self.file)


def credentials_import(
    *, tenant, environ: Mapping[str, str], directory: Path, dry_run: bool = False
) -> list[ImportResult]:
    """Import every exchange's credentials found in ``environ`` and ``directory``.

    One result per exchange with anything found, seed exchanges first. Refusals (region,
    missing fields, unknown exchange) are reported in the result, never raised. With
    ``dry_run`` every check runs but nothing is saved.
    """
    directory = Path(directory)
    files = _config_files(directory)
    candidates = [info.id for info in supported_exchanges()]
    candidates += [exchange for exchange in files if exchange not in candidates]  # unknown ones get reported
    results = []
    for exchange in candidates:
        found = _gather(exchange, environ=environ, file=files.get(exchange))
        if found:
            results.append(_import_one(tenant=tenant, exchange=exchange, found=found, dry_run=dry_run))
    return results


def mask(api_key: str) -> str:
    """The last 4 characters of an API key, and only for keys long enough to stay unguessable."""
    return MASK + api_key[-4:] if len(api_key) >= 8 else MASK


# --- finding -----------------------------------------------------------------------------


def _names(exchange: str) -> list[str]:
    """The exchange id and its aliases, spelled as in a variable name: GATE, GATEIO, GATE_IO."""
    spellings = [exchange, *(alias for alias, target in ALIASES.items() if target == exchange)]
    return list(dict.fromkeys(s.upper().replace(".", "_").replace("-", "_") for s in spellings))


def _config_files(directory: Path) -> dict[str, Path]:
    """``<exchange>_config.json`` files by canonical exchange id (``gateio_config.json`` is gate's)."""
    if not directory.is_dir():
        return {}
    files: dict[str, Path] = {}
    for path in sorted(directory.glob(f"*{FILE_SUFFIX}")):
        stem = path.name[: -len(FILE_SUFFIX)].lower()
        dotted = stem.replace("_", ".")  # binance_us -> binance.us, an alias of binanceus
        exchange = canonical_id(dotted if dotted in ALIASES else stem)
        files.setdefault(exchange, path)
    return files


def _gather(exchange: str, *, environ: Mapping[str, str], file: Path | None) -> _Found:
    found = _Found()
    for prefix in _names(exchange):
        for suffix, name in ENV_SUFFIXES:
            variable = f"{prefix}_{suffix}"
            value = (environ.get(variable) or "").strip()
            if value and name not in found.values:
                found.values[name], found.sources[name] = value, variable
    if file is not None:
        found.file = file
        _read_file(found, file)
    return found


def _read_file(found: _Found, path: Path) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        found.problem = f"{path.name} cannot be read: {exc.strerror}"
        return
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # The position only: a JSON error's message could quote a piece of a secret.
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        found.problem = f"{path.name} is not valid JSON{where}"
        return
    if not isinstance(data, dict):
        found.problem = f'{path.name} must hold a JSON object, e.g. {{"api_key": "...", "api_secret": "..."}}'
        return
    found.file_keys = tuple(str(key) for key in data)
    for key, value in data.items():
        name = CREDENTIAL_ALIASES.get(str(key).replace("-", "_").lower())
        if name is None:
            found.ignored.append(str(key))
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a numeric uid or account id
        if not isinstance(value, str):
            found.problem = f"{path.name}: the field {key!r} must be a string"
            return
        if not value.strip():
            continue
        if name in found.values:
            if found.sources[name] != "file":
                found.overridden.append(name)
            continue
        found.values[name], found.sources[name] = value.strip(), "file"


# --- importing ---------------------------------------------------------------------------


def _import_one(*, tenant, exchange: str, found: _Found, dry_run: bool) -> ImportResult:
    info = exchange_info(exchange)
    label = LABEL.format(name=info.name if info else exchange)
    old_login = exchange == "robinhood" and _is_robinhood_login(found)
    if old_login:  # nothing of that file is usable; keys from the environment still are
        found.values = {n: v for n, v in found.values.items() if found.sources[n] != "file"}
        found.sources = {n: s for n, s in found.sources.items() if s != "file"}
        found.ignored, found.overridden = list(found.file_keys), []
    report = {
        "exchange": exchange,
        "label": label,
        "from_environment": tuple(n for n, s in found.sources.items() if s != "file"),
        "environment_names": tuple(s for s in found.sources.values() if s != "file"),
        "from_file": tuple(n for n, s in found.sources.items() if s == "file"),
        "file": found.file,
        "overridden": tuple(found.overridden),
        "ignored": tuple(found.ignored),
        "api_key_masked": mask(found.values["apiKey"]) if found.values.get("apiKey") else "",
        "dry_run": dry_run,
    }

    def skipped(reason: str) -> ImportResult:
        return ImportResult(action=ImportAction.SKIPPED, reason=reason, **report)

    if old_login and not found.values:
        return skipped(f"unsupported: {ROBINHOOD_LOGIN_MESSAGE}")
    if found.problem:
        return skipped(found.problem)
    if info is None:
        return skipped(f"unknown exchange {exchange!r}: no ccxt exchange or registered adapter has this id")
    if not found.values:
        return skipped(f"{found.file.name} holds no credential fields")
    try:
        with transaction.atomic():
            result = _save(tenant=tenant, info=info, label=label, values=found.values, report=report)
            if dry_run:
                transaction.set_rollback(True)  # every check ran; nothing is kept, no test is queued
    except ValidationError as exc:
        return skipped(_refusal(exc))
    if dry_run and result.action == ImportAction.CREATED:
        result = replace(result, connection_id=None)
    return result


def _is_robinhood_login(found: _Found) -> bool:
    keys = {key.replace("-", "_").lower() for key in found.file_keys}
    api_keys = {"api_key", "apikey", "private_key", "privatekey"}
    return bool(keys & _ROBINHOOD_LOGIN_FIELDS) and not keys & api_keys


def _save(*, tenant, info: ExchangeInfo, label: str, values: dict[str, str], report: dict) -> ImportResult:
    existing = ExchangeConnection.objects.filter(tenant=tenant, label__iexact=label).first()
    if existing is None:
        connection = services.connection_create(tenant=tenant, exchange=info.id, label=label, credentials=values)
        return ImportResult(action=ImportAction.CREATED, connection_id=connection.pk, **report)
    if existing.exchange != info.id:
        raise ValidationError({"label": f"{label!r} is already the label of a connection to {existing.exchange}."})
    exchange_for_region(info.id, tenant.region)  # an update must not dodge a region the tenant left
    stored = existing.credentials.as_ccxt()
    if all(stored.get(name) == value for name, value in values.items()):
        return ImportResult(
            action=ImportAction.SKIPPED, reason="already up to date", connection_id=existing.pk, **report
        )
    services.connection_update(connection=existing, credentials=values)
    return ImportResult(action=ImportAction.UPDATED, connection_id=existing.pk, **report)


def _refusal(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)
