"""Set-based bulk writes shared by region loading and data imports.

On PostgreSQL rows are streamed with COPY into a temporary table and merged with one
INSERT … SELECT … ON CONFLICT; elsewhere (SQLite) they go through bulk_create with
update_conflicts. Either way it is a handful of statements, not one per row. Whatever
changes a table in bulk then calls `analyze` on it.
"""
from __future__ import annotations

import csv
import io
from contextlib import contextmanager
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
            for columns in _analyze_groups(cursor, table):
                cursor.execute(f'ANALYZE "{table}" {columns}')


def _analyze_groups(cursor, table: str) -> list[str]:
    """ANALYZE samples 300 × the largest statistics target of the columns it is given, for all of
    them: one column with a raised target (cases_household.region_code: 2000) made every ANALYZE
    of the table sample 600,000 rows for its 28 columns (5 s at 200,000 households). The raised
    columns are analysed on their own, the rest with the default sample."""
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                   "AND NOT attisdropped AND attstattarget > current_setting('default_statistics_target')::int",
                   [f'"{table}"'])
    raised = [row[0] for row in cursor.fetchall()]
    if not raised:
        return [""]
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                   "AND NOT attisdropped AND attstattarget <= current_setting('default_statistics_target')::int",
                   [f'"{table}"'])
    rest = [row[0] for row in cursor.fetchall()]
    return [f"({', '.join(chr(34) + c + chr(34) for c in group)})" for group in (rest, raised) if group]


_REBUILD_MIN_ROWS = 50_000


@contextmanager
def deferred_indexes(table: str, *, rows: int):
    """Around an INSERT of `rows` rows into `table`: when the load is at least as big as what the
    table holds (a first import, a cross-check data set's first versions), drop its secondary
    indexes and build them again afterwards — one sort per index instead of `rows` insertions into
    each (at 200,000 households into the 11 indexes of cases_household: 3.2 s instead of 6.5 s).
    Primary keys and unique indexes stay (they keep the data right). Inside the caller's
    transaction: a failure restores the indexes with everything else; until the commit the table
    is locked against readers, which only a load that doubles the table pays for."""
    if connection.vendor != "postgresql" or rows < _REBUILD_MIN_ROWS:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM (SELECT 1 FROM "{table}" LIMIT %s) x', [rows])
        if cursor.fetchone()[0] >= rows:
            definitions = []
        else:
            cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                           "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
                           "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                           "ORDER BY 1", [f'"{table}"'])
            definitions = cursor.fetchall()
            for name, _definition in definitions:
                cursor.execute(f"DROP INDEX {name}")
    yield
    if definitions:
        with connection.cursor() as cursor:
            # CREATE INDEX refuses a table with pending trigger events: its deferred foreign-key
            # checks run now (the same work the commit would do) and are deferred again after.
            cursor.execute("SELECT quote_ident(conname) FROM pg_constraint WHERE %s::regclass IN (conrelid, confrelid) "
                           "AND contype = 'f' AND condeferred", [f'"{table}"'])
            deferred = ", ".join(row[0] for row in cursor.fetchall())
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {deferred} IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in definitions:
                cursor.execute(definition)
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {deferred} DEFERRED")
