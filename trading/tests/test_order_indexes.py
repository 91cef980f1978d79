"""The order pipeline's tables carry the indexes their queries use and no more: every order
writes its row three times and a trade once, and each index on those tables is one more
entry per write. PostgreSQL only (its catalog and planner)."""

from __future__ import annotations

import pytest
from django.db import connection

from trading.models import Order, OrderEvent, Position, Trade

pytestmark = pytest.mark.django_db

TABLES = [model._meta.db_table for model in (Order, OrderEvent, Trade, Position)]


def _indexes(table: str) -> list[tuple[str, list[str], bool]]:
    """(name, key columns in order, partial) of the table's indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index.relname, array_agg(attribute.attname ORDER BY key.ordinality), i.indpred IS NOT NULL
            FROM pg_index AS i
            JOIN pg_class AS index ON index.oid = i.indexrelid
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS key(attnum, ordinality)
            JOIN pg_attribute AS attribute ON attribute.attrelid = i.indrelid AND attribute.attnum = key.attnum
            WHERE i.indrelid = %s::regclass
            GROUP BY index.relname, i.indpred IS NOT NULL
            """,
            [table],
        )
        return cursor.fetchall()


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: ask which index it would use
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("table", TABLES)
def test_no_full_index_repeats_the_lead_of_another(table):
    indexes = _indexes(table)
    for name, columns, partial in indexes:
        if len(columns) != 1 or partial:
            continue
        covering = [other for other, keys, p in indexes if other != name and not p and keys[0] == columns[0]]
        assert not covering, f"{table}.{name} ({columns[0]}) is served by {covering}"


@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: Order.objects.filter(parent_id=1), "order_parent_set"),
        (lambda: Order.objects.filter(position_id__in=[1, 2]), "order_position_set"),
        (lambda: Order.objects.filter(exchange_order_id="12345"), "order_exchange_id_set"),
        (lambda: Trade.objects.filter(order_id=1), "uniq_trade_sequence_per_order"),
        (lambda: Position.objects.filter(connection_id=1), "uniq_position_per_connection_symbol"),
        (lambda: Position.objects.filter(tenant_id=1), "trading_pos_tenant__cd3404_idx"),
        (lambda: OrderEvent.objects.filter(order_id=1), "trading_ord_order_i_beca93_idx"),
    ],
)
def test_lookups_and_deletes_find_their_index(queryset, index):
    """The lookups the pipeline makes, and those of a delete's cascade (by foreign key)."""
    sql, params = queryset().only("pk").query.sql_with_params()
    assert index in _plan(sql, list(params))
