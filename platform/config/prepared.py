"""Querysets compiled once per process, for the reads every order request makes.

Turning a queryset into SQL costs the ORM more than PostgreSQL spends answering it: about
0.85 ms for the token-and-membership lookup against 0.25 ms for its round trip. A
``Prepared`` keeps the queryset as the place where the read is defined (scoping helpers,
``select_related``, ordering) and compiles it the first time with marker values; later
calls put their values where the markers were and run the same SQL, converting the rows
as the ORM would (model instances with their ``select_related`` objects, or tuples for
``values_list``).

    _SETTINGS = Prepared(lambda tenant_id: TradingSettings.objects.filter(tenant_id=tenant_id)[:1], tenant_id=int)
    settings = _SETTINGS.first(tenant_id=tenant.pk)

Only for statements whose shape does not depend on the values (no ``__in`` lists, no
``None`` turning into ``IS NULL``): each value must reach the statement's parameters
unchanged, which the first compile checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

_MARKER_BASE = -2_000_000_000  # inside every integer column's range, never a real id
_BIGINT = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[str, type, tuple[int, ...]], ...]  # name, kind, positions in params
    col_count: int
    converters: dict  # column index -> (converter functions, expression)
    model: type | None  # model instances, else tuples
    init_list: tuple[str, ...] = ()
    model_span: tuple[int, int] = (0, 0)
    related: tuple = ()
    annotations: tuple[tuple[str, int], ...] = ()


class Prepared:
    """A queryset ``build(**values)`` compiled once, run with new ``values`` (``int`` or ``str``)."""

    def __init__(self, build: Callable, /, **kinds: type):
        if not kinds or any(kind not in (int, str) for kind in kinds.values()):
            raise ImproperlyConfigured("Prepared takes the values' kinds: name=int or name=str.")
        self._build, self._kinds = build, kinds
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def all(self, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        connection = connections[using]
        compiled = self._compiled.get((using, connection.vendor)) or self._compile(using, connection)
        params = list(compiled.params)
        for name, kind, positions in compiled.slots:
            value = kind(values[name])  # the same ValueError the ORM gives for "abc" as an id
            if kind is int and not _BIGINT[0] <= value <= _BIGINT[1]:
                return []  # as the ORM answers: no row has such a number
            for position in positions:
                params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return self._convert(compiled, rows, connection, using)

    def first(self, using: str = DEFAULT_DB_ALIAS, **values):
        found = self.all(using, **values)
        return found[0] if found else None

    def _compile(self, using: str, connection) -> _Compiled:
        with self._lock:
            done = self._compiled.get((using, connection.vendor))
            if done is not None:  # another thread compiled it while this one waited
                return done
            markers = {
                name: kind(f"\x1fprepared:{name}\x1f") if kind is str else _MARKER_BASE - index
                for index, (name, kind) in enumerate(self._kinds.items())
            }
            queryset = self._build(**markers)
            if queryset._known_related_objects or queryset._prefetch_related_lookups:
                raise ImproperlyConfigured("Prepared takes plain querysets (no related managers, no prefetches).")
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            slots = []
            for name, marker in markers.items():
                positions = tuple(i for i, p in enumerate(params) if type(p) is type(marker) and p == marker)
                if not positions:
                    raise ImproperlyConfigured(f"Prepared: {name!r} does not reach the statement unchanged.")
                slots.append((name, self._kinds[name], positions))
            fields = [column[0] for column in compiler.select[: compiler.col_count]]
            common = dict(sql=sql, params=tuple(params), slots=tuple(slots), col_count=compiler.col_count,
                          converters=compiler.get_converters(fields))  # fmt: skip
            if queryset._iterable_class is ModelIterable:
                info, select = compiler.klass_info, compiler.select
                start, end = info["select_fields"][0], info["select_fields"][-1] + 1
                compiled = _Compiled(
                    **common, model=info["model"], init_list=tuple(f[0].target.attname for f in select[start:end]),
                    model_span=(start, end), related=tuple(get_related_populators(info, select, using)),
                    annotations=tuple((compiler.annotation_col_map or {}).items()),
                )  # fmt: skip
            elif queryset._iterable_class is ValuesListIterable:
                compiled = _Compiled(**common, model=None)
            else:
                raise ImproperlyConfigured("Prepared takes model querysets and values_list() without flat/named.")
            self._compiled[(using, connection.vendor)] = compiled
            return compiled

    @staticmethod
    def _convert(compiled: _Compiled, rows: list, connection, using: str) -> list:
        if rows and len(rows[0]) != compiled.col_count:
            rows = [row[: compiled.col_count] for row in rows]
        if compiled.converters:
            converted = []
            for row in rows:
                row = list(row)
                for index, (functions, expression) in compiled.converters.items():
                    value = row[index]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[index] = value
                converted.append(row)
            rows = converted
        if compiled.model is None:
            return [tuple(row) for row in rows]
        start, end = compiled.model_span
        objects = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[start:end])
            for populator in compiled.related:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects
