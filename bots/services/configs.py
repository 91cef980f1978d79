"""Subscription and backtest configs, validated against the bot's JSON Schemas.

A config is filled with the schema's top-level defaults first, so a subscription can
leave out everything the author gave a default for; errors name the field and the path
inside it (``strategy_config.fast: 0 is less than the minimum of 2``).
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

SCHEMA_FIELDS = {"strategy_config": "strategy_schema", "execution_config": "execution_schema",
                 "risk_config": "risk_schema"}  # fmt: skip


def schema_check(schema, *, field: str) -> dict:
    """A schema an author gives must itself be a valid JSON Schema object."""
    if schema in (None, ""):
        return {}
    if not isinstance(schema, dict):
        raise ValidationError({field: 'Give a JSON Schema object, e.g. {"type": "object", "properties": {}}.'})
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationError({field: f"Not a valid JSON Schema: {exc.message}"}) from None
    return schema


def with_defaults(schema: dict, config: dict | None) -> dict:
    merged = copy.deepcopy(config) if config else {}
    for name, spec in (schema.get("properties") or {}).items():
        if name not in merged and isinstance(spec, dict) and "default" in spec:
            merged[name] = copy.deepcopy(spec["default"])
    return merged


def config_validate(*, schema: dict, config, field: str) -> dict:
    """``config`` with defaults filled in; ValidationError naming ``field`` and the path."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValidationError({field: "Give a JSON object."})
    config = with_defaults(schema or {}, config)
    if not schema:
        return config
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        messages = []
        for error in errors[:5]:
            path = ".".join(str(p) for p in error.absolute_path)
            messages.append(f"{path}: {error.message}" if path else error.message)
        raise ValidationError({field: messages})
    return config


def configs_validate(*, bot, **configs) -> dict[str, dict]:
    """Every config of a subscription or backtest, checked against ``bot``'s schemas."""
    problems: dict[str, list] = {}
    clean: dict[str, dict] = {}
    for field, config in configs.items():
        try:
            clean[field] = config_validate(schema=getattr(bot, SCHEMA_FIELDS[field]), config=config, field=field)
        except ValidationError as exc:
            problems.update(exc.message_dict)
    if problems:
        raise ValidationError(problems)
    return clean
