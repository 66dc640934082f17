"""Event-log rows to PostgreSQL: one multi-row upsert per batch, newest state wins.

Rows reach the log out of order: a worker buffers its rows for up to one flush
period, a retry may run in another worker process that flushes first, and a
requeued event is emitted again. So an update only applies when the incoming
row is at least as far along as the stored one, by (attempt, phase) with the
phases emitted < started < outcome. An `emitted` row always applies: it is
written before its message is enqueued, so it is never stale, and on a requeue
it starts the event's next run (attempts back to 0).

A multi-row `INSERT … ON CONFLICT` rather than COPY: COPY cannot upsert without
a temporary table (three more statements), and a flush is tens of rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection

from .models import Event

COLUMNS = (
    "event_id",
    "trace_id",
    "parent_id",
    "type",
    "source",
    "queue",
    "actor",
    "status",
    "payload",
    "attempts",
    "duration_ms",
    "error",
    "created_at",
    "started_at",
    "finished_at",
)
# Identity and creation time stay as first written (by emit); the rest is state.
KEPT = frozenset({"event_id", "trace_id", "parent_id", "type", "source", "created_at"})
UPDATED = tuple(column for column in COLUMNS if column not in KEPT)
# Typed placeholders: the VALUES list is read as a table, so NULLs need a type.
PLACEHOLDERS = (
    "(%s::uuid, %s::uuid, %s::uuid, %s, %s, %s, %s, %s, %s::jsonb, %s::integer,"
    " %s::double precision, %s, %s::timestamptz, %s::timestamptz, %s::timestamptz)"
)
# Keeps a statement far below any parameter limit (65,535 with server-side binding).
MAX_ROWS_PER_STATEMENT = 1000


def _phase(table: str) -> str:
    return f"CASE {table}.status WHEN 'emitted' THEN 0 WHEN 'started' THEN 1 ELSE 2 END"


def _sql(rows: int, *, async_commit: bool) -> str:
    table = Event._meta.db_table
    values = ", ".join([PLACEHOLDERS] * rows)
    # Outside a caller's transaction the statement is its own transaction; this
    # lets its commit skip the WAL flush wait (a PostgreSQL crash may lose the
    # last few hundred ms of the log, never its consistency) in one round trip
    # instead of BEGIN / SET LOCAL / INSERT / COMMIT. Inside a caller's
    # transaction it is left out: it would relax the caller's own commit.
    join = (
        " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
        if async_commit
        else ""
    )
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATED)
    # Only constants are interpolated; every value is a parameter.
    return (
        f"INSERT INTO {table} ({', '.join(COLUMNS)})"  # noqa: S608
        f" SELECT v.* FROM (VALUES {values}) AS v ({', '.join(COLUMNS)}){join}"
        f" ON CONFLICT (event_id) DO UPDATE SET {updates}"
        f" WHERE EXCLUDED.status = 'emitted'"
        f" OR (EXCLUDED.attempts, {_phase('EXCLUDED')}) >= ({table}.attempts, {_phase(table)})"
    )


def _params(row: Event) -> list[object]:
    values = [getattr(row, column) for column in COLUMNS]
    values[COLUMNS.index("payload")] = json.dumps(row.payload)
    return values


def events_write(*, rows: Sequence[Event]) -> None:
    """Upsert unsaved `Event` rows (one per event id) in as few statements as possible.

    Inside a transaction the rows commit (or roll back) with it.
    """
    # Autocommit: the statement is its own transaction, so relaxing it touches nothing else.
    async_commit = connection.get_autocommit()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
            chunk = rows[start : start + MAX_ROWS_PER_STATEMENT]
            params = [value for row in chunk for value in _params(row)]
            cursor.execute(_sql(len(chunk), async_commit=async_commit), params)
