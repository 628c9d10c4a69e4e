"""Ledgers partitioned by month (PostgreSQL): one partition per month, named `<table>_pYYYYMM`,
and a default partition for rows written by other means than a bulk load (the demo, tests).

Why: the bank returns a month's payments at a time, and a province adds a million rows a month.
Loaded into one growing table, every row of month twelve went into seven indexes of eleven
million entries each — three quarters of the import's time (docs/bench.md). Loaded into a table
of its own and attached, a month's indexes are built once, by sorting, whatever the ledger's size.

`fresh_month` is that load: a plain table with the month's CHECK (so attaching it need not scan it),
filled by the caller, then attached — which builds the parent's indexes on it. Inside the caller's
transaction, like the rest of an import. On SQLite the ledger is a plain table and none of this runs.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.db import connection


def _q(name: str) -> str:
    return '"' + name + '"'


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _next(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [_q(table)])
        row = cursor.fetchone()
    return bool(row and row[0])


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_q(name)])
    return cursor.fetchone()[0]


def _bounds(month: dt.date) -> str:
    return f"FROM ('{month.isoformat()}') TO ('{_next(month).isoformat()}')"


def ensure_month(table: str, column: str, month: dt.date) -> None:
    """The month's partition, created attached (empty, or with the month's rows moved out of the
    default partition, which must not hold rows of an attached month)."""
    name = partition_name(table, month)
    with connection.cursor() as cursor:
        if _exists(cursor, name):
            return
        default = default_name(table)
        held = f"{name}_held"
        cursor.execute(f"CREATE TEMPORARY TABLE {_q(held)} ON COMMIT DROP AS SELECT * FROM {_q(default)} "
                       f"WHERE {_q(column)} >= %s AND {_q(column)} < %s", [month, _next(month)])
        moved = cursor.rowcount
        if moved:
            cursor.execute(f"DELETE FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s",
                           [month, _next(month)])
        cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES {_bounds(month)}")
        if moved:
            cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(held)}")
        cursor.execute(f"DROP TABLE {_q(held)}")


def can_load_fresh(table: str, column: str, month: dt.date) -> bool:
    """True when the month has no rows yet anywhere (its partition, if any, is empty and is dropped
    here so the load can build it anew)."""
    name = partition_name(table, month)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(default_name(table))} WHERE {_q(column)} >= %s "
                       f"AND {_q(column)} < %s)", [month, _next(month)])
        if cursor.fetchone()[0]:
            return False
        if _exists(cursor, name):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(name)})")
            if cursor.fetchone()[0]:
                return False
            cursor.execute(f"DROP TABLE {_q(name)}")
    return True


@contextmanager
def fresh_month(table: str, column: str, month: dt.date):
    """Yields the name of an empty, unattached table shaped like `table` for the month's rows (its
    identity column without a default: the caller gives ids from `id_sequence(table)`); attaches it
    on exit, which builds the parent's indexes on it. Only after `can_load_fresh` said yes."""
    name = partition_name(table, month)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS)")
        cursor.execute(f"ALTER TABLE {_q(name)} ADD CONSTRAINT {_q(name + '_month')} CHECK ({_q(column)} IS NOT NULL "
                       f"AND {_q(column)} >= %s AND {_q(column)} < %s)", [month, _next(month)])
    yield name
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES {_bounds(month)}")
        # the partition's bounds say it now; the CHECK would only be tested again on every write
        cursor.execute(f"ALTER TABLE {_q(name)} DROP CONSTRAINT {_q(name + '_month')}")


def parent_stats_due(table: str) -> bool:
    """ANALYZE of a partitioned table samples every partition again (PostgreSQL 15 has no ANALYZE
    ONLY), so a month's import analyzes its own partition, and the whole ledger only while the
    ledger's statistics are missing or it has doubled since they were taken — four times in a
    first year, not twelve. (Its ndistinct figures are kept as fractions of the rows, so they scale
    with the growth in between.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.reltuples, (SELECT COALESCE(SUM(GREATEST(p.reltuples, 0)), 0) FROM pg_inherits i "
                       "JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid), "
                       "EXISTS (SELECT 1 FROM pg_statistic s WHERE s.starelid = c.oid AND s.stainherit) "
                       "FROM pg_class c WHERE c.oid = to_regclass(%s)", [_q(table)])
        counted, rows, has_stats = cursor.fetchone()
    return not has_stats or rows >= 2 * max(counted, 1)


def key_candidates(table: str, column: str, low: str, high: str) -> list[str]:
    """The partitions (and the default one) that may hold a value of `column` between `low` and
    `high`: a bank's 交易流水号 run in sequence, so a new month's numbers fall outside every earlier
    month's range and the import's match of its keys against the ledger reads no earlier month.
    Each partition's range comes from the two ends of its index on the column."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = to_regclass(%s) ORDER BY 1", [_q(table)])
        names = [row[0] for row in cursor.fetchall()]
        meets = []
        for name in names:
            cursor.execute(f"SELECT MIN({_q(column)}) <= %s AND MAX({_q(column)}) >= %s FROM {_q(name)}", [high, low])
            if cursor.fetchone()[0]:
                meets.append(name)
    return meets


def id_sequence(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [_q(table)])
        return cursor.fetchone()[0]


def partition_by_month(cursor, table: str, column: str) -> None:
    """Rebuild an existing table as partitioned by `column` (a month's first day), keeping its rows,
    identity, index and constraint names (a migration). The primary key becomes (id, column): a
    partitioned table's unique keys include the partition key."""
    old = f"{table}_unpartitioned"
    cursor.execute("SELECT c.relname, pg_get_indexdef(i.indexrelid), con.contype FROM pg_index i "
                   "JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
                   "AND con.conrelid = i.indrelid WHERE i.indrelid = %s::regclass ORDER BY 1", [_q(table)])
    indexes = cursor.fetchall()
    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    for name, _definition, _kind in indexes:
        cursor.execute(f"ALTER INDEX {_q(name)} RENAME TO {_q(name + '_unpartitioned')}")
    cursor.execute(f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
                   f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({_q(column)})")
    for name, definition, kind in indexes:
        if " USING btree (" not in definition or " WHERE " in definition or " INCLUDE " in definition:
            raise ValueError(f"{name}: only plain b-tree indexes are carried over ({definition})")
        columns = definition[definition.index(" USING btree (") + len(" USING btree ("):definition.rindex(")")]
        if kind == "p":
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} PRIMARY KEY ({columns}, {_q(column)})")
        elif kind == "u":
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} UNIQUE ({columns})")
        else:
            unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
            cursor.execute(f"CREATE {unique}INDEX {_q(name)} ON {_q(table)} ({columns})")
    cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
    cursor.execute(f"SELECT DISTINCT CAST(date_trunc('month', {_q(column)}) AS date) FROM {_q(old)} ORDER BY 1")
    for (month,) in cursor.fetchall():
        cursor.execute(f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} "
                       f"FOR VALUES {_bounds(month)}")
    cursor.execute(f"INSERT INTO {_q(table)} OVERRIDING SYSTEM VALUE SELECT * FROM {_q(old)}")
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                   f"FROM {_q(table)}", [_q(table)])
    cursor.execute(f"DROP TABLE {_q(old)}")
