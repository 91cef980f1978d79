"""Rows in and out of the order pipeline's hot path, where the ORM's general machinery costs
more than the work: model instances from one hand-written SQL row that holds several
tables' columns (a join in a data-modifying statement, which the ORM cannot express),
converted as the ORM would; and the fields of an instance that changed since it was loaded,
so a save writes those and not every column of a wide row."""

from __future__ import annotations

import copy

from django.db import connections, models


def select_columns(aliases: dict[str, type[models.Model]]) -> str:
    """``alias.column, ...`` of every concrete field of each model, in ``models_from_row`` order."""
    return ", ".join(
        f"{alias}.{field.column}" for alias, model in aliases.items() for field in model._meta.concrete_fields
    )


def models_from_row(row, model_classes, connection) -> list[models.Model]:
    """One instance per model of ``select_columns``, each field through its from_db converters
    (decryption, JSON), as loaded from the database (``_state.adding`` is False)."""
    connection = connections[connection.alias]  # the wrapper itself, not the per-use proxy
    instances, offset = [], 0
    for model in model_classes:
        names, converters = _loading(model, connection)
        values = list(row[offset : offset + len(names)])
        for index, column, functions in converters:
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        offset += len(names)
        instances.append(model.from_db(connection.alias, names, values))
    return instances


_LOADING: dict[tuple, tuple] = {}


def _loading(model: type[models.Model], connection) -> tuple[list[str], list[tuple]]:
    """The model's attnames and, for the fields that have any, their converters (cached per
    model and connection wrapper: one per thread that claims orders)."""
    key = (model, connection)
    if key not in _LOADING:
        converters = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.cached_col
            functions = (*connection.ops.get_db_converters(column), *field.get_db_converters(connection))
            if functions:
                converters.append((index, column, functions))
        _LOADING[key] = ([field.attname for field in model._meta.concrete_fields], converters)
    return _LOADING[key]


def field_values(instance: models.Model) -> dict[str, object]:
    """Every concrete field's value now (JSON values copied), for ``changed_fields`` later."""
    return {
        field.attname: copy.deepcopy(value) if isinstance(value := getattr(instance, field.attname), list | dict)
        else value
        for field in instance._meta.concrete_fields
    }  # fmt: skip


def changed_fields(instance: models.Model, before: dict[str, object], *, always: tuple[str, ...] = ()) -> list[str]:
    """The fields whose value differs from ``before`` (plus ``always``): ``save(update_fields=...)``
    then writes only those, not every column of a wide row."""
    changed = [name for name, value in before.items() if getattr(instance, name) != value]
    return changed + [name for name in always if name not in changed]


def insert_values(instances: list[models.Model], connection) -> tuple[str, list]:
    """``INSERT INTO table (columns) VALUES (...), ...`` of unsaved instances of one model
    (every concrete field but the generated primary key, prepared as ``save()`` would)."""
    meta = type(instances[0])._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholders] * len(instances))}"  # noqa: S608  (names from the model, values are parameters)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in instances for field in fields]
    return sql, params


def insert_select(
    instances: list[models.Model], connection, *, source: str, columns: dict[str, str]
) -> tuple[str, list]:
    """``insert_values`` for a data-modifying statement whose ``source`` (a CTE of one row)
    gives some values: ``INSERT INTO table (...) SELECT ..., source.column FROM source``;
    ``columns`` maps attnames to the source's columns. The other values are parameters,
    cast to their column's type (a SELECT list does not infer it)."""
    meta = type(instances[0])._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    selects, params = [], []
    for obj in instances:
        items = []
        for field in fields:
            if field.attname in columns:
                items.append(f"{source}.{quote(columns[field.attname])}")
            else:
                items.append(f"%s::{field.db_type(connection)}")
                params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        selects.append(f"SELECT {', '.join(items)} FROM {source}")  # noqa: S608  (names from the model)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) {' UNION ALL '.join(selects)}"  # noqa: S608  (names from the model, values are parameters)
    return sql, params


def update_assignments(instance: models.Model, names: list[str] | tuple[str, ...], connection) -> tuple[str, list]:
    """``column = %s, ...`` for these fields of the instance, prepared as ``save(update_fields=...)``
    would (``auto_now`` fields set to now)."""
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    sql = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return sql, [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
