"""The heavy path of every import: stream → normalise/parse → stage → set-based checks → write.

1. The file is streamed in chunks of rows; each column of a chunk is normalised and parsed
   by its declaration (imports.kinds) and the parsed rows go into a temporary staging table
   (COPY on PostgreSQL, executemany on SQLite) together with their Excel row numbers and a
   flag saying whether the row already failed. Nothing but the error report stays in memory.
2. What needs the database is checked with a handful of SQL statements over the whole
   staging table: region codes exist, households / staff referenced exist and are in the
   importer's jurisdiction, keys are not repeated within the file (naming both rows).
3. Counts new / updated / unchanged come from one LEFT JOIN of the staged rows against
   the target; the write is one INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE the row
   differs (registry kinds) or one INSERT … SELECT into a new version (cross-check kinds).

The caller decides whether to write (not for a dry run or when any row is bad) and owns
the transaction around the write, so an import is all or nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Callable, Iterator

from django.db import connection
from django.utils import timezone

from dibao import idnumber
from imports.kinds import CellError, Column, Kind, clean_cell, parse_id
from imports.reader import FileError, Source

MAX_REPORTED_ERRORS = 10_000
_SQLITE_CHUNK = 5_000
_COPY_CHUNK = 50_000

_SQL_TYPES = {
    "postgresql": {"text": "text", "date": "date", "money": "numeric(14,2)", "bool": "boolean", "int": "integer"},
    "sqlite": {"text": "text", "date": "date", "money": "decimal", "bool": "bool", "int": "integer"},
}


def q(name: str) -> str:
    return f'"{name}"'


def stage_name(kind: Kind) -> str:
    """Each kind stages into its own temporary table, so a batch (households + members) can
    check one file against the other."""
    return f"imp_stage_{kind.key}"


@dataclass
class Report:
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error_total: int = 0

    def add(self, row: int, column: str, value, zh: str, en: str, order: int = 0) -> None:
        """order: the column's position, so a row's errors read left to right."""
        self.error_total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "value": _shown(value), "reason": zh, "reason_en": en,
                                "order": order})

    def file_error(self, zh: str, en: str, column: str = "") -> None:
        self.add(1 if column else 0, column, "", zh, en)

    def as_json(self) -> dict:
        self.errors.sort(key=lambda e: (e["row"], e.get("order", 0)))
        for e in self.errors:
            e.pop("order", None)
        return {"errors": self.errors, "warnings": self.warnings, "error_total": self.error_total,
                "truncated": self.error_total > len(self.errors)}


def _shown(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass
class Staged:
    kind: Kind
    present: list[str]          # keys of the columns the file has
    rows_total: int
    rows_invalid: int
    report: Report
    batch: bool = False         # checked together with a households file of the same upload


# --------------------------------------------------------------------------- header
def match_header(kind: Kind, header: list, report: Report) -> list[tuple[Column, int | None]]:
    """Columns by Chinese header or English key, any order; returns (column, cell index)."""
    lookup = {}
    for col in kind.columns:
        lookup[col.header] = col
        lookup[col.key.lower()] = col
    found: dict[str, int] = {}
    for idx, raw in enumerate(header):
        text = clean_cell(raw)
        text = text if isinstance(text, str) else str(text)
        if not text:
            continue
        col = lookup.get(text) or lookup.get(text.lower())
        if col is None:
            report.warnings.append({"column": text, "reason": f"未知的列“{text}”，已忽略",
                                    "reason_en": f"unknown column '{text}' ignored"})
        elif col.key in found:
            report.file_error(f"“{col.header}”列出现了两次", f"column '{col.key}' appears twice", col.header)
        else:
            found[col.key] = idx
    for col in kind.columns:
        if col.required and col.key not in found:
            report.file_error(f"缺少必填列“{col.header}”", f"required column '{col.header}' ({col.key}) is missing",
                              col.header)
    return [(col, found.get(col.key)) for col in kind.columns]


# --------------------------------------------------------------------------- parse + stage
_CHUNK = 5_000
_CACHE_LIMIT = 50_000
_FW = idnumber._FULLWIDTH


class _ColumnParser:
    """Parses one column of a chunk of rows at a time.

    Most columns repeat a few values (status, dates, region codes, enums), so each distinct
    raw value is parsed once and remembered; a column that turns out to be mostly distinct
    (names, ID numbers) stops caching. CSV text and ID columns have list-at-a-time fast paths.
    Every cell is still fully checked: a cache only remembers a verdict, it never skips one.
    """

    def __init__(self, col: Column, idx: int | None, order: int):
        self.col, self.idx, self.order = col, idx, order
        self.cache: dict | None = {}
        self.seen = 0
        self.bad_keys: set = set()
        self.max_length = getattr(col.parse, "max_length", None)
        self.is_id = col.parse is parse_id
        self.empty = CellError(f"“{col.header}”不能为空", f"{col.key} is required") if col.required else col.default

    def convert(self, raw):
        if raw is None:
            return self.empty
        if raw.__class__ is str:
            value = raw.strip() if raw.isascii() else raw.translate(_FW).strip()
            if not value:
                return self.empty
        else:
            value = raw
        try:
            return self.col.parse(value)
        except CellError as exc:
            return exc

    def run(self, raws: list, all_text: bool) -> tuple[list, list[int]]:
        """(values, indexes of bad cells); a bad cell's value is its CellError."""
        if all_text and (self.max_length is not None or self.is_id):
            cleaned = [r.strip() if r.isascii() else r.translate(_FW).strip() for r in raws]
            if self.is_id:
                values = [_id_or_error(v, self.empty) for v in cleaned]
                return values, [i for i, v in enumerate(values) if v.__class__ is not str]
            bad: list[int] = []
            if "" in cleaned and self.col.required:
                bad = [i for i, v in enumerate(cleaned) if not v]
                for i in bad:
                    cleaned[i] = self.empty
            if cleaned and max(map(len, cleaned)) > self.max_length:
                for i, v in enumerate(cleaned):
                    if v.__class__ is str and len(v) > self.max_length:
                        cleaned[i] = self.convert(v)
                        bad.append(i)
            return cleaned, sorted(bad)
        if self.cache is None:
            values = [self.convert(r) for r in raws]
            return values, [i for i, v in enumerate(values) if v.__class__ is CellError]
        cache = self.cache
        get = cache.get
        values = [get(r, _MISS) for r in raws]
        for i, v in enumerate(values):
            if v is _MISS:
                raw = raws[i]
                v = values[i] = self.convert(raw)
                try:
                    cache[raw] = v
                except TypeError:  # an unhashable cell value: nothing to remember
                    continue
                if v.__class__ is CellError:
                    self.bad_keys.add(raw)
        self.seen += len(raws)
        if len(cache) > _CACHE_LIMIT or (self.seen >= 20_000 and len(cache) > self.seen // 2):
            self.cache = None  # mostly distinct values: remembering them costs more than it saves
        if not self.bad_keys:
            return values, []
        return values, [i for i, v in enumerate(values) if v.__class__ is CellError]


_MISS = object()


def _id_or_error(value: str, empty):
    if not value:
        return empty
    try:
        return parse_id(value)
    except CellError as exc:
        return exc


def _chunks(source: Source, size: int):
    chunk = []
    for item in source.rows:
        cells = item[1]
        if cells and (cells[0] or any(cells)):  # skip rows with nothing in them (Excel's trailing rows)
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _parsed_rows(kind: Kind, source: Source, plan, prefix: str | None, report: Report,
                 on_progress: Callable | None, counter: dict) -> Iterator[tuple]:
    parsers = [_ColumnParser(col, idx, order) for order, (col, idx) in enumerate(plan)]
    keys = tuple(col.key for col, _ in plan)
    width = max((idx for _, idx in plan if idx is not None), default=-1) + 1
    region_pos = keys.index("region_code") if kind.registry and "region_code" in keys else None
    region_header = kind.column("region_code").header if region_pos is not None else ""
    last_tick = time.monotonic()
    n_rows = 0
    for chunk in _chunks(source, _CHUNK):
        n = len(chunk)
        n_rows += n
        row_nos = [item[0] for item in chunk]
        cells = [item[1] for item in chunk]
        for i, row in enumerate(cells):
            if len(row) < width:
                cells[i] = tuple(row) + (None,) * (width - len(row))
        ok = [True] * n
        columns = []
        for parser in parsers:
            if parser.idx is None:
                columns.append([parser.col.default] * n)
                continue
            raws = list(map(itemgetter(parser.idx), cells))
            values, bad = parser.run(raws, source.all_text)
            for i in bad:
                err = values[i]
                report.add(row_nos[i], parser.col.header, raws[i], err.zh, err.en, parser.order)
                values[i] = None
                ok[i] = False
            columns.append(values)
        if region_pos is not None and prefix is not None:
            for i, code in enumerate(columns[region_pos]):
                if ok[i] and code and not code.startswith(prefix):
                    report.add(row_nos[i], region_header, code, f"区划 {code} 不在您的管辖范围（{prefix}）内",
                               f"region {code} is outside your jurisdiction ({prefix})", region_pos)
                    ok[i] = False
        rows = list(zip(*columns))
        if kind.row_check is not None:
            candidates = [row if ok[i] else None for i, row in enumerate(rows)]
            for i, key, zh, en in kind.row_check(keys, candidates):
                report.add(row_nos[i], kind.column(key).header, rows[i][keys.index(key)], zh, en, keys.index(key))
                ok[i] = False
        yield from zip(row_nos, ok, *columns)
        if on_progress is not None and time.monotonic() - last_tick > 0.5:
            last_tick = time.monotonic()
            on_progress(n_rows, source.progress())
    counter["rows"] = n_rows


def _create_stage(kind: Kind) -> list[str]:
    types = _SQL_TYPES[connection.vendor]
    columns = ["row_no", "ok"] + [c.key for c in kind.columns]
    defs = [f"{q('row_no')} integer", f"{q('ok')} {types['bool']}"]
    defs += [f"{q(c.key)} {types[c.sql_type]}" for c in kind.columns]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(stage_name(kind))}")
        cursor.execute(f"CREATE TEMPORARY TABLE {q(stage_name(kind))} ({', '.join(defs)})")
    return columns


def drop_stage(kind: Kind) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(stage_name(kind))}")


def _stage(kind: Kind, columns: list[str], rows: Iterator[tuple]) -> None:
    cols = ", ".join(q(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # None is written as an empty unquoted field, which COPY reads as NULL — except in
            # text columns, where an empty cell is the empty string Django stores for "blank".
            text = ", ".join(q(c.key) for c in kind.columns if c.sql_type == "text")
            sql = f"COPY {q(stage_name(kind))} ({cols}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({text}))"
            while chunk := list(islice(rows, _COPY_CHUNK)):
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerows(chunk)
                buf.seek(0)
                cursor.copy_expert(sql, buf)
            # Temp tables are never auto-analysed; the planner needs the columns the checks join on.
            joined = [k for k in ("row_no", *kind.key_columns, "region_code", "household_no", "staff_id_number")
                      if k in columns]
            cursor.execute(f"ANALYZE {q(stage_name(kind))} ({', '.join(q(k) for k in dict.fromkeys(joined))})")
            return
        sql = f"INSERT INTO {q(stage_name(kind))} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        while chunk := list(islice(rows, _SQLITE_CHUNK)):
            cursor.executemany(sql, chunk)


# --------------------------------------------------------------------------- set-based checks
def _check(report: Report, *, stage: str, column: Column, value: str, joins: str, where: str, params: list,
           zh: str, en: str, order: int = 0) -> None:
    """Report (up to the cap) and flag every staged row matching `where`; zh/en may use {value}."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.row_no, {value} FROM {q(stage)} s {joins} WHERE {where} "
                       f"ORDER BY s.row_no LIMIT {MAX_REPORTED_ERRORS}", params)
        found = cursor.fetchall()
        if not found:
            return
        for row_no, val in found:
            report.add(row_no, column.header, val, zh.format(value=val), en.format(value=val), order)
        cursor.execute(f"UPDATE {q(stage)} SET {q('ok')} = false WHERE row_no IN "
                       f"(SELECT s.row_no FROM {q(stage)} s {joins} WHERE {where})", params)
        report.error_total += max(cursor.rowcount - len(found), 0)


def _check_duplicates(kind: Kind, report: Report) -> None:
    keys = [q(k) for k in kind.key_columns]
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    headers = "+".join(kind.column(k).header for k in kind.key_columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {q(stage_name(kind))} WHERE {not_null} GROUP BY {', '.join(keys)} HAVING COUNT(*) > 1 LIMIT 1")
        if cursor.fetchone() is None:
            return
        dup = (f"SELECT row_no, first_row, {', '.join(keys)} FROM (SELECT row_no, {', '.join(keys)}, "
               f"MIN(row_no) OVER (PARTITION BY {', '.join(keys)}) AS first_row FROM {q(stage_name(kind))} WHERE {not_null}) d "
               f"WHERE row_no <> first_row")
        cursor.execute(f"{dup} ORDER BY row_no LIMIT {MAX_REPORTED_ERRORS}")
        found = cursor.fetchall()
        last_key = kind.column(kind.key_columns[-1])
        for row_no, first_row, *key_values in found:
            shown = " + ".join(str(v) for v in key_values)
            report.add(row_no, last_key.header, shown,
                       f"与第 {first_row} 行重复（{headers} 相同：{shown}）",
                       f"duplicate of row {first_row} (same {'+'.join(kind.key_columns)})")
        cursor.execute(f"UPDATE {q(stage_name(kind))} SET {q('ok')} = false WHERE row_no IN (SELECT row_no FROM ({dup}) x)")
        report.error_total += max(cursor.rowcount - len(found), 0)


def _tables():
    from cases.models import Household, Staff
    from dibao.models import Region
    return Region._meta.db_table, Household._meta.db_table, Staff._meta.db_table


def _households(batch: bool) -> str:
    """Households a file may refer to: the registry, plus (in a batch) the good rows of the
    households file staged alongside that are not in the registry yet."""
    _, household_t, _ = _tables()
    if not batch:
        return q(household_t)
    staged = q("imp_stage_households")
    return (f"(SELECT id, household_no, region_code FROM {q(household_t)} UNION ALL "
            f"SELECT NULL, b.household_no, b.region_code FROM {staged} b WHERE b.ok AND NOT EXISTS "
            f"(SELECT 1 FROM {q(household_t)} x WHERE x.household_no = b.household_no))")


def _database_checks(kind: Kind, present: list[str], prefix: str | None, report: Report, batch: bool) -> None:
    region_t, household_t, staff_t = _tables()
    scope = [prefix + "%"] if prefix is not None else []
    stage = stage_name(kind)
    households = _households(batch and kind.key == "members")

    def col(key):
        return kind.column(key)

    if kind.key in ("households", "staff"):
        _check(report, stage=stage, column=col("region_code"), value="s.region_code",
               joins=f"LEFT JOIN {q(region_t)} r ON r.code = s.region_code",
               where="s.ok AND s.region_code IS NOT NULL AND r.code IS NULL", params=[],
               zh="区划代码 {value} 不存在", en="region code {value} does not exist")
    if kind.key == "households" and prefix is not None:
        _check(report, stage=stage, column=col("household_no"), value="s.household_no",
               joins=f"JOIN {q(household_t)} h ON h.household_no = s.household_no",
               where="s.ok AND h.region_code NOT LIKE %s", params=scope,
               zh="户编号 {value} 已登记在您管辖范围以外的区划，不能修改",
               en="household {value} is registered outside your jurisdiction")
    if kind.key == "staff" and prefix is not None:
        _check(report, stage=stage, column=col("id_number"), value="s.id_number",
               joins=f"JOIN {q(staff_t)} st ON st.id_number = s.id_number",
               where="s.ok AND st.region_code NOT LIKE %s", params=scope,
               zh="该工作人员已登记在您管辖范围以外的区划，不能修改",
               en="this staff person is registered outside your jurisdiction")
    if kind.key in ("members", "relatives"):
        optional = kind.key == "relatives"
        if not optional or "household_no" in present:
            _check(report, stage=stage, column=col("household_no"), value="s.household_no",
                   joins=f"LEFT JOIN {households} h ON h.household_no = s.household_no",
                   where="s.ok AND s.household_no IS NOT NULL AND s.household_no <> '' AND h.household_no IS NULL",
                   params=[],
                   zh="户编号 {value} 不存在（请先导入该低保家庭）",
                   en="household {value} does not exist (import the household first)")
            if prefix is not None:
                _check(report, stage=stage, column=col("household_no"), value="s.household_no",
                       joins=f"JOIN {households} h ON h.household_no = s.household_no",
                       where="s.ok AND h.region_code NOT LIKE %s", params=scope,
                       zh="户编号 {value} 不在您的管辖范围内", en="household {value} is outside your jurisdiction")
    if kind.key == "relatives":
        _check(report, stage=stage, column=col("staff_id_number"), value="s.staff_id_number",
               joins=f"LEFT JOIN {q(staff_t)} st ON st.id_number = s.staff_id_number",
               where="s.ok AND s.staff_id_number IS NOT NULL AND st.id IS NULL", params=[],
               zh="备案人不在工作人员名册中（请先导入工作人员）",
               en="the filing staff person is not in the staff roster (import staff first)")
        if prefix is not None:
            _check(report, stage=stage, column=col("staff_id_number"), value="s.staff_id_number",
                   joins=f"JOIN {q(staff_t)} st ON st.id_number = s.staff_id_number",
                   where="s.ok AND st.region_code NOT LIKE %s", params=scope,
                   zh="备案人不在您的管辖范围内", en="the filing staff person is outside your jurisdiction")
    _check_duplicates(kind, report)


def validate(kind: Kind, source: Source, *, prefix: str | None, batch: bool = False,
             on_progress: Callable[[int, float], None] | None = None) -> Staged:
    """Parse and stage the whole file and run every check; nothing outside the staging table is written."""
    report = Report()
    plan = match_header(kind, source.header, report)
    present = [col.key for col, idx in plan if idx is not None]
    if report.error_total:
        return Staged(kind, present, 0, 0, report, batch)
    columns = _create_stage(kind)
    counter: dict = {}
    try:
        _stage(kind, columns, _parsed_rows(kind, source, plan, prefix, report, on_progress, counter))
    except FileError as exc:
        report.file_error(exc.zh, exc.en)
        return Staged(kind, present, 0, 0, report, batch)
    if not counter.get("rows"):
        # Above all for cross-check data: an empty file would otherwise replace a whole data set.
        report.file_error("文件中没有数据行", "the file has no data rows")
        return Staged(kind, present, 0, 0, report, batch)
    _database_checks(kind, present, prefix, report, batch)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} WHERE NOT {q('ok')}")
        invalid = cursor.fetchone()[0]
    return Staged(kind, present, counter.get("rows", 0), invalid, report, batch)


# --------------------------------------------------------------------------- registry write
@dataclass
class Target:
    table: str
    source: str                       # SELECT producing the target's columns, aliased by their names
    columns: list[str]                # columns inserted
    compare: list[str]                # columns updated when they differ
    conflict: list[str]
    params: list
    on_update: list[str] = field(default_factory=list)   # set from EXCLUDED only when a row is updated


_KEY_TO_COLUMN = {
    "members": {"household_no": "household_id"},
    "relatives": {"staff_id_number": "staff_id", "household_no": "household_id"},
}


def _registry_target(staged: Staged) -> Target:
    from cases.models import Household, Member, RelativeFiling, Staff

    kind = staged.kind
    _, household_t, staff_t = _tables()
    rename = _KEY_TO_COLUMN.get(kind.key, {})
    now = timezone.now()
    if connection.vendor == "sqlite":  # Django keeps naive UTC there
        now = timezone.make_naive(now, dt.timezone.utc)
    select = []
    columns = []
    for col in kind.columns:
        target_col = rename.get(col.key, col.key)
        columns.append(target_col)
        if target_col == "household_id":
            select.append("h.id AS household_id")
        elif target_col == "staff_id":
            select.append("st.id AS staff_id")
        else:
            select.append(f"s.{q(col.key)} AS {q(target_col)}")
    key_cols = [rename.get(k, k) for k in kind.key_columns]
    compare = [rename.get(k, k) for k in staged.present if rename.get(k, k) not in key_cols]
    joins = ""
    params: list = []
    on_update: list[str] = []
    if kind.key == "households":
        model = Household
        select += ["%s AS created_at", "%s AS updated_at"]
        columns += ["created_at", "updated_at"]
        params = [now, now]
        on_update = ["updated_at"]
        extra = {"payment_stopped": "false"}
    elif kind.key == "members":
        model = Member
        joins = f"JOIN {_households(staged.batch)} h ON h.household_no = s.household_no"
        extra = {}
    elif kind.key == "staff":
        model = Staff
        extra = {}
    else:
        model = RelativeFiling
        joins = (f"JOIN {q(staff_t)} st ON st.id_number = s.staff_id_number "
                 f"LEFT JOIN {q(household_t)} h ON h.household_no = s.household_no")
        select.append("%s AS created_at")
        columns.append("created_at")
        params = [now]
        extra = {}
    for name, expr in extra.items():
        select.append(f"{expr} AS {q(name)}")
        columns.append(name)
    source = f"SELECT {', '.join(select)} FROM {q(stage_name(kind))} s {joins} WHERE s.ok"
    return Target(model._meta.db_table, source, columns, compare, key_cols, params, on_update)


def _differs(left: str, right: str, columns: list[str]) -> str:
    if not columns:
        return "false"
    return " OR ".join(f"{left}.{q(c)} IS DISTINCT FROM {right}.{q(c)}" for c in columns)


def count_changes(target: Target) -> tuple[int, int, int]:
    """(new, updated, unchanged) of the valid staged rows against the target table."""
    join = " AND ".join(f"t.{q(c)} = src.{q(c)}" for c in target.conflict)
    sql = (f"SELECT COALESCE(SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), 0), "
           f"COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND ({_differs('t', 'src', target.compare)}) THEN 1 ELSE 0 END), 0), "
           f"COUNT(*) FROM ({target.source}) src LEFT JOIN {q(target.table)} t ON {join}")
    with connection.cursor() as cursor:
        cursor.execute(sql, target.params)
        new, updated, total = cursor.fetchone()
    return int(new), int(updated), int(total) - int(new) - int(updated)


def upsert(target: Target) -> int:
    cols = ", ".join(q(c) for c in target.columns)
    conflict = ", ".join(q(c) for c in target.conflict)
    sets = target.compare + target.on_update
    if target.compare:
        action = (f"DO UPDATE SET {', '.join(f'{q(c)} = EXCLUDED.{q(c)}' for c in sets)} "
                  f"WHERE {_differs(q(target.table), 'EXCLUDED', target.compare)}")
    else:
        action = "DO NOTHING"
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
    sql = (f"INSERT INTO {q(target.table)} ({cols}) SELECT {cols} FROM ({target.source}) src WHERE true "
           f"ON CONFLICT ({conflict}) {action}")
    with connection.cursor() as cursor:
        cursor.execute(sql, target.params)
        return cursor.rowcount


# --------------------------------------------------------------------------- cross-check write
def _ref_columns(kind: Kind) -> list[str]:
    return [c.key for c in kind.columns]


def count_ref_changes(kind: Kind, current_version_id: int | None) -> tuple[int, int, int, int]:
    """(new, updated, unchanged, removed) of the staged data set against the current version."""
    from audits.models import REF_MODELS

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} WHERE {q('ok')}")
        total = cursor.fetchone()[0]
        if current_version_id is None:
            return total, 0, 0, 0
        table = REF_MODELS[kind.key]._meta.db_table
        join = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in kind.key_columns)
        others = [c for c in _ref_columns(kind) if c not in kind.key_columns]
        cursor.execute(
            f"SELECT COALESCE(SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND ({_differs('t', 's', others)}) THEN 1 ELSE 0 END), 0) "
            f"FROM {q(stage_name(kind))} s LEFT JOIN {q(table)} t ON t.version_id = %s AND {join} WHERE s.ok",
            [current_version_id])
        new, updated = (int(v) for v in cursor.fetchone())
        cursor.execute(f"SELECT COUNT(*) FROM {q(table)} WHERE version_id = %s", [current_version_id])
        previous = cursor.fetchone()[0]
    unchanged = total - new - updated
    return new, updated, unchanged, max(previous - updated - unchanged, 0)


def insert_ref_rows(kind: Kind, version_id: int) -> int:
    from audits.models import REF_MODELS

    table = REF_MODELS[kind.key]._meta.db_table
    cols = _ref_columns(kind)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {q(table)} (version_id, {', '.join(q(c) for c in cols)}) "
                       f"SELECT %s, {', '.join('s.' + q(c) for c in cols)} FROM {q(stage_name(kind))} s WHERE s.ok",
                       [version_id])
        return cursor.rowcount
