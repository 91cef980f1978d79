"""The exchange's answer to a send, written in one statement (two with a fill).

The general path (``execution.apply_exchange_order``) reads and locks the order again, then
writes the order, each event, the position and the trade one statement at a time. For the
order a worker has just claimed and sent, nothing needs reading: the update is conditional
on the row still being as claimed, and the order's events go with it in one data-modifying
statement that also locks the position row a fill moves. The fill then moves the position
in memory (``positions.position_move``, the general path's rules) and the position's update
and the trade's insert are the second statement. PostgreSQL only (data-modifying CTEs).
"""

from __future__ import annotations

import functools

from django.db import connection as database

from trading.models import Order, OrderEvent, Position, Trade
from trading.services import rows
from trading.services.positions import POSITION_APPLIED, position_move


class Moved(Exception):
    """The order row is no longer as this worker claimed it: take the general path."""


def sent_write(
    order: Order, loaded: dict, changed: list[str], events: list[OrderEvent], trade: Trade | None
) -> Position | None:
    """Write the order's ``changed`` fields and its new ``events`` if the row is still as
    ``loaded`` (same status, attempt and submit time: Moved otherwise), and with a fill
    lock its position. Returns the locked position (None without a fill, or on a first fill
    of this connection and symbol: the caller creates the row then)."""
    assignments, params = rows.update_assignments(order, changed, database)
    # Table and column names come from the models; every value is a parameter.
    sql = (
        f"WITH moved AS (UPDATE {Order._meta.db_table} SET {assignments} WHERE id = %s AND status = %s"  # noqa: S608
        " AND attempts = %s AND submitted_at IS NOT DISTINCT FROM %s RETURNING id)"
    )
    params += [order.pk, loaded["status"], loaded["attempts"], loaded["submitted_at"]]
    if events:
        insert, values = rows.insert_values(events, database)
        sql += f", events AS ({insert})"
        params += values
    if trade is None:
        sql += " SELECT count(*) FROM moved"
    else:
        sql += (
            f", held AS (SELECT * FROM {Position._meta.db_table} WHERE connection_id = %s AND symbol = %s FOR UPDATE)"  # noqa: S608
            f" SELECT (SELECT count(*) FROM moved), {_held_columns()} FROM (SELECT 1) AS one LEFT JOIN held ON true"
        )
        params += [trade.connection_id, trade.symbol]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if not row[0]:
        raise Moved
    if trade is None or row[1] is None:
        return None
    (position,) = rows.models_from_row(row[1:], (Position,), database)
    return position


def fill_write(position: Position, trade: Trade) -> None:
    """The fill on its locked position (``position_move``) and the trade's insert, in one
    statement."""
    position_move(position, trade)
    assignments, params = rows.update_assignments(position, POSITION_APPLIED, database)
    insert, values = rows.insert_values([trade], database)
    sql = f"WITH held AS (UPDATE {Position._meta.db_table} SET {assignments} WHERE id = %s) {insert} RETURNING id"  # noqa: S608
    with database.cursor() as cursor:
        cursor.execute(sql, [*params, position.pk, *values])
        trade.pk = cursor.fetchone()[0]
    trade._state.adding, trade._state.db = False, database.alias


@functools.cache
def _held_columns() -> str:
    return rows.select_columns({"held": Position})
