"""Set-based bulk writes shared by region loading and data imports.

On PostgreSQL rows are streamed with COPY into a temporary table and merged with one
INSERT … SELECT … ON CONFLICT; elsewhere (SQLite) they go through bulk_create with
update_conflicts. Either way it is a handful of statements, not one per row. Whatever
changes a table in bulk then calls `analyze` on it.
"""
from __future__ import annotations

import csv
import io
from itertools import islice
from typing import Iterable, Sequence

from django.db import connection, models

_COPY_CHUNK = 100_000


def copy_into(table: str, columns: Sequence[str], rows: Iterable[Sequence], *,
              text_columns: Sequence[str] = ()) -> None:
    """COPY rows into `table` (PostgreSQL only), in chunks so memory stays flat — the one COPY path of
    the project (region loading, import staging, upserts).

    None is written as an empty unquoted field, which COPY reads as NULL — except in `text_columns`,
    where an empty cell is the empty string Django stores for "blank".
    """
    cols = ", ".join(f'"{c}"' for c in columns)
    force = f", FORCE_NOT_NULL ({', '.join(chr(34) + c + chr(34) for c in text_columns)})" if text_columns else ""
    sql = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv{force})"
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, _COPY_CHUNK)):
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(chunk)
            buf.seek(0)
            cursor.copy_expert(sql, buf)


def upsert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence],
           conflict_fields: Sequence[str], update_fields: Sequence[str]) -> None:
    """Insert rows (tuples in `columns` order, by column name) or update them in place on key conflict."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        temp = f"tmp_{table}"
        cols = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{temp}"')
            cursor.execute(f'CREATE TEMP TABLE "{temp}" AS SELECT {cols} FROM "{table}" WITH NO DATA')
        copy_into(f'"{temp}"', columns, rows)
        conflict = ", ".join(f'"{c}"' for c in conflict_fields)
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update_fields)
        action = f"DO UPDATE SET {updates}" if update_fields else "DO NOTHING"
        with connection.cursor() as cursor:
            cursor.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{temp}" ON CONFLICT ({conflict}) {action}')
            cursor.execute(f'DROP TABLE "{temp}"')
        analyze(table)
        return
    by_column = {f.column: f.attname for f in model._meta.concrete_fields}
    attnames = [by_column[c] for c in columns]
    batch: list = []
    for row in rows:
        batch.append(model(**dict(zip(attnames, row))))
        if len(batch) >= 5000:
            _bulk_create(model, batch, conflict_fields, update_fields, by_column)
            batch = []
    if batch:
        _bulk_create(model, batch, conflict_fields, update_fields, by_column)


def _bulk_create(model, batch, conflict_fields, update_fields, by_column):
    if update_fields:
        model.objects.bulk_create(batch, update_conflicts=True,
                                  unique_fields=[by_column[c] for c in conflict_fields],
                                  update_fields=[by_column[c] for c in update_fields])
    else:
        model.objects.bulk_create(batch, ignore_conflicts=True)


def analyze(*tables: str) -> None:
    """Refresh the planner's statistics of the tables a bulk step has just changed (PostgreSQL).

    Autovacuum gets to a freshly loaded table only a while later; until then the planner takes a
    data set of thousands of rows for a handful and picks nested loops over it (a rescreening
    right after an import ran 35 minutes instead of 26 s). Inside a transaction ANALYZE samples
    that transaction's own new rows too, so the statements after it in the same transaction
    are planned on them; but it then keeps the table's lock to the end, so a service whose
    transaction also takes the audit chain's lock calls it once committed
    (`transaction.on_commit`), lest two such transactions wait for each other. Only the named
    tables: ANALYZE samples a fixed number of rows, well under a second a table at province scale.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in sorted(set(tables)):  # one order everywhere: two concurrent callers queue, never deadlock
            cursor.execute(f'ANALYZE "{table}"')
