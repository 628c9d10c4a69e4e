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

import datetime as dt
import time
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Callable, Iterator

from django.db import connection
from django.utils import timezone

from dibao import idnumber, partitions
from dibao.bulk import copy_into, deferred_indexes
from dibao.validators import has_control_character
from imports import fastpath
from imports.kinds import CellError, Column, Kind, clean_cell, parse_id
from imports.reader import FileError, Source

MAX_REPORTED_ERRORS = 10_000
_SQLITE_CHUNK = 5_000

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
    legacy: bool = False        # an admin's legacy migration: decisive fields may be set
    legacy_rows: int = 0        # households whose decisive facts this file sets (marked 历史数据迁移)
    actor_id: int | None = None  # the importing user, recorded on rows that keep who entered them


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
            # Checked while every cell is still a str: one pass over the joined chunk finds none
            # in the common case.
            if cleaned and (max(map(len, cleaned)) > self.max_length or has_control_character("".join(cleaned))):
                for i, v in enumerate(cleaned):
                    if len(v) > self.max_length or has_control_character(v):
                        cleaned[i] = self.convert(v)
                        bad.append(i)
            if "" in cleaned and self.col.required:
                empty = [i for i, v in enumerate(cleaned) if v.__class__ is str and not v]
                for i in empty:
                    cleaned[i] = self.empty
                bad += empty
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
    pad = "" if source.all_text else None
    last_tick = time.monotonic()
    n_rows = 0
    for chunk in _chunks(source, _CHUNK):
        n = len(chunk)
        n_rows += n
        row_nos = [item[0] for item in chunk]
        cells = [item[1] for item in chunk]
        for i, row in enumerate(cells):
            if len(row) < width:  # a short CSV row: its missing cells are empty text, as the csv module gives them
                cells[i] = tuple(row) + (pad,) * (width - len(row))
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
    defs.append(f"{q('py')} {types['bool']}")  # imports.fastpath: the row needs the Python parsers
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
            copy_into(q(stage_name(kind)), columns, rows,
                      text_columns=[c.key for c in kind.columns if c.sql_type == "text"])
            return
        sql = f"INSERT INTO {q(stage_name(kind))} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        while chunk := list(islice(rows, _SQLITE_CHUNK)):
            cursor.executemany(sql, chunk)


def _analyze_stage(kind: Kind, columns: list[str]) -> None:
    """Temp tables are never auto-analysed; the planner needs the columns the checks join on."""
    if connection.vendor != "postgresql":
        return
    joined = [k for k in ("row_no", *kind.key_columns, "region_code", "household_no", "staff_id_number")
              if k in columns]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {q(stage_name(kind))} ({', '.join(q(k) for k in dict.fromkeys(joined))})")


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


def _check_duplicate_heads(kind: Kind, report: Report) -> None:
    """One person heads one household: within a households file, every row whose head also
    heads another household of the file is an error naming the other rows."""
    stage = q(stage_name(kind))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.head_id_number, s.row_no, s.household_no FROM {stage} s JOIN "
                       f"(SELECT head_id_number FROM {stage} WHERE head_id_number IS NOT NULL "
                       f"GROUP BY head_id_number HAVING COUNT(DISTINCT household_no) > 1 "
                       f"LIMIT {MAX_REPORTED_ERRORS}) d "
                       f"ON d.head_id_number = s.head_id_number ORDER BY s.head_id_number, s.row_no")
        found = cursor.fetchall()
        if not found:
            return
        groups: dict[str, list[tuple[int, str]]] = {}
        for head, row_no, household_no in found:
            groups.setdefault(head, []).append((row_no, household_no))
        header = kind.column("head_id_number").header
        for head, rows in groups.items():
            for row_no, _household_no in rows:
                others = [(r, h) for r, h in rows if r != row_no]
                named = "、".join(f"第 {r} 行（户编号 {h}）" for r, h in others)
                report.add(row_no, header, head, f"同一人不能是多户的户主：该户主也是{named}的户主",
                           f"one person heads several households: also head in rows "
                           f"{', '.join(str(r) for r, _ in others)}")
        cursor.execute(f"UPDATE {stage} SET {q('ok')} = false WHERE head_id_number IN "
                       f"(SELECT head_id_number FROM {stage} WHERE head_id_number IS NOT NULL "
                       f"GROUP BY head_id_number HAVING COUNT(DISTINCT household_no) > 1)")


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


def _decisive_columns(kind: Kind, present: list[str]) -> list[Column]:
    from cases.models import DECISIVE_FIELDS

    return [kind.column(key) for key in present if key in DECISIVE_FIELDS]


def _sets_decision(col: Column) -> str:
    """SQL: the staged row `s` sets this decisive column — on a new household (no `h`) anything
    but 审核中 / empty, on an existing one any change."""
    from cases.models import Status

    c = q(col.key)
    if col.key == "status":
        new = f"s.{c} <> '{Status.PENDING.value}'"
    elif col.sql_type == "text":
        new = f"s.{c} <> ''"
    else:
        new = f"s.{c} IS NOT NULL"
    return f"(CASE WHEN h.id IS NULL THEN {new} ELSE s.{c} IS DISTINCT FROM h.{c} END)"


def _decision_checks(kind: Kind, present: list[str], report: Report, legacy: bool) -> int:
    """Townships and counties create households only as 审核中 and change descriptive fields;
    a file that sets decisive fields is an admin's legacy migration. Returns how many
    households a legacy file sets decisive facts of."""
    from cases.models import Status

    _, household_t, _ = _tables()
    columns = _decisive_columns(kind, present)
    if not columns:
        return 0
    joins = f"LEFT JOIN {q(household_t)} h ON h.household_no = s.household_no"
    if legacy:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} s {joins} "
                           f"WHERE s.ok AND ({' OR '.join(_sets_decision(col) for col in columns)})")
            return cursor.fetchone()[0]
    for col in columns:
        value = f"s.{q(col.key)}"
        if col.key == "status":  # shown as the office wrote it (在保), not the stored key
            value = f"CASE {value} {' '.join(f'WHEN {v!r} THEN {str(label)!r}' for v, label in Status.choices)} END"
        _check(report, stage=stage_name(kind), column=col, value=value, joins=joins,
               where=f"s.ok AND {_sets_decision(col)}", params=[], order=kind.columns.index(col),
               zh=f"“{col.header}”只能由低保申请/变更的审批步骤（乡镇提出、县级确认）改变：新增家庭只能为“审核中”，"
                  f"已有家庭须与系统中一致（文件中为 {{value}}）；导入历史审批结果属于历史数据迁移，须由系统管理员办理",
               en=f"{col.key} changes only through the application/change steps: new households are imported as "
                  f"pending and existing ones must match the registry (file has {{value}}); importing past "
                  f"decisions is a legacy migration for an admin")
    return 0


_MEMBERS_OF_ACTIVE = "在保家庭的成员收入和人口变化须通过定期核查或变更办理"


def _composition_checks(kind: Kind, present: list[str], report: Report) -> None:
    """Members' incomes and composition drive the amount, so a members file may not change the
    income of a member of a 在保 household nor add one to it (workflow.md "Separation of
    duties"); its descriptive columns stay importable. An admin's legacy migration is exempt."""
    from cases.models import Household, Member, Status

    stage = stage_name(kind)
    active = (f"JOIN {q(Household._meta.db_table)} h ON h.household_no = s.household_no "
              f"AND h.status = '{Status.ACTIVE.value}' "
              f"LEFT JOIN {q(Member._meta.db_table)} m ON m.household_id = h.id AND m.id_number = s.id_number")
    if "monthly_income" in present:
        _check(report, stage=stage, column=kind.column("monthly_income"), value="s.monthly_income", joins=active,
               where="s.ok AND m.id IS NOT NULL AND s.monthly_income IS DISTINCT FROM m.monthly_income", params=[],
               zh=f"本户在保，导入不能改变成员月收入（文件中为 {{value}}）：{_MEMBERS_OF_ACTIVE}",
               en="the household is 在保: a member's income changes only through a review or a change",
               order=kind.columns.index(kind.column("monthly_income")))
    _check(report, stage=stage, column=kind.column("id_number"), value="s.id_number", joins=active,
           where="s.ok AND m.id IS NULL", params=[],
           zh=f"本户在保，导入不能新增成员 {{value}}：{_MEMBERS_OF_ACTIVE}",
           en="the household is 在保: members are added only through a review or a change",
           order=kind.columns.index(kind.column("id_number")))


def _database_checks(kind: Kind, present: list[str], prefix: str | None, report: Report, batch: bool) -> None:
    region_t, household_t, staff_t = _tables()
    scope = [prefix + "%"] if prefix is not None else []
    stage = stage_name(kind)
    households = _households(batch and kind.key == "members")

    def col(key):
        return kind.column(key)

    if kind.key in ("households", "staff", "standards"):
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
    if kind.key == "screenings":
        _screening_checks(kind, prefix, report)
    if kind.key == "payments" and prefix is not None:
        # an unknown 户编号 is accepted (a PAID_UNKNOWN finding); a known one must be the importer's
        _check(report, stage=stage, column=col("household_no"), value="s.household_no",
               joins=f"JOIN {q(household_t)} h ON h.household_no = s.household_no",
               where="s.ok AND h.region_code NOT LIKE %s", params=scope,
               zh="户编号 {value} 不在您的管辖范围内", en="household {value} is outside your jurisdiction")
    _check_duplicates(kind, report)
    if kind.key == "households":
        _check_duplicate_heads(kind, report)


def _screening_checks(kind: Kind, prefix: str | None, report: Report) -> None:
    """A screening row names a running campaign, a household on its list inside the importer's
    jurisdiction, a township that has not signed off, and no 无问题 beside a confirmed finding."""
    from audits.models import Finding, FindingState
    from campaigns.models import Campaign, CampaignHousehold, CampaignState, ScreeningResult, SignoffState, TownshipSignoff

    _, household_t, _ = _tables()
    stage, col = stage_name(kind), kind.column
    campaign_t, list_t = q(Campaign._meta.db_table), q(CampaignHousehold._meta.db_table)
    _check(report, stage=stage, column=col("campaign_no"), value="s.campaign_no",
           joins=f"LEFT JOIN {campaign_t} c ON c.id = s.campaign_no", where="s.ok AND c.id IS NULL", params=[],
           zh="活动编号 {value} 不存在（见排查活动页面上的编号）", en="campaign {value} does not exist")
    _check(report, stage=stage, column=col("campaign_no"), value="s.campaign_no",
           joins=f"JOIN {campaign_t} c ON c.id = s.campaign_no", where="s.ok AND c.state <> %s",
           params=[CampaignState.RUNNING.value],
           zh="排查活动 {value} 已结束，不能再登记排查记录", en="campaign {value} is closed")
    listed = (f"JOIN {q(household_t)} h ON h.household_no = s.household_no "
              f"JOIN {list_t} ch ON ch.campaign_id = s.campaign_no AND ch.household_id = h.id")
    _check(report, stage=stage, column=col("household_no"), value="s.household_no",
           joins=f"LEFT JOIN {q(household_t)} h ON h.household_no = s.household_no",
           where=f"s.ok AND NOT EXISTS (SELECT 1 FROM {list_t} ch WHERE ch.campaign_id = s.campaign_no "
                 f"AND ch.household_id = h.id)", params=[],
           zh="户编号 {value} 不在该排查活动的排查名单中", en="household {value} is not on the campaign's list")
    if prefix is not None:
        _check(report, stage=stage, column=col("household_no"), value="s.household_no", joins=listed,
               where="s.ok AND ch.village_code NOT LIKE %s", params=[prefix + "%"],
               zh="户编号 {value} 不在您的管辖范围内", en="household {value} is outside your jurisdiction")
    _check(report, stage=stage, column=col("household_no"), value="s.household_no",
           joins=f"{listed} JOIN {q(TownshipSignoff._meta.db_table)} so ON so.campaign_id = s.campaign_no "
                 f"AND so.township_code = ch.township_code",
           where="s.ok AND so.state IN (%s, %s)", params=[SignoffState.SUBMITTED.value, SignoffState.ACCEPTED.value],
           zh="户编号 {value} 所在乡镇已确认上报，排查记录不能再修改；如需更正，请县级退回后再导入",
           en="household {value}: its township has signed off; ask the county to return it first")
    _check(report, stage=stage, column=col("result"), value="s.household_no",
           joins=f"JOIN {q(household_t)} h ON h.household_no = s.household_no",
           where=f"s.ok AND s.result = %s AND EXISTS (SELECT 1 FROM {q(Finding._meta.db_table)} f "
                 f"WHERE f.household_id = h.id AND f.state = %s)",
           params=[ScreeningResult.NO_PROBLEM.value, FindingState.CONFIRMED.value],
           zh="户编号 {value} 有已核实属实的疑点，排查结果不能为“无问题”",
           en="household {value} has a confirmed finding: the result cannot be 无问题 (no problem)")
    _check(report, stage=stage, column=col("screened_on"), value="s.screened_on", joins="",
           where="s.ok AND s.screened_on > %s", params=[timezone.localdate()],
           zh="排查日期 {value} 晚于今天", en="screening date {value} is in the future")


def validate(kind: Kind, source: Source, *, prefix: str | None, batch: bool = False, legacy: bool = False,
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
        rows = None
        if fastpath.applies(kind, source):
            rows = fastpath.stage(kind, source, plan, stage_name(kind), prefix, report, on_progress=on_progress,
                                  parse_rows=lambda odd: _stage(kind, columns, _parsed_rows(
                                      kind, odd, plan, prefix, report, None, {})))
        if rows is None:
            _stage(kind, columns, _parsed_rows(kind, source, plan, prefix, report, on_progress, counter))
        else:
            counter["rows"] = rows
        _analyze_stage(kind, columns)
    except FileError as exc:
        report.file_error(exc.zh, exc.en)
        return Staged(kind, present, 0, 0, report, batch)
    if not counter.get("rows"):
        # Above all for cross-check data: an empty file would otherwise replace a whole data set.
        report.file_error("文件中没有数据行", "the file has no data rows")
        return Staged(kind, present, 0, 0, report, batch)
    _database_checks(kind, present, prefix, report, batch)
    legacy_rows = _decision_checks(kind, present, report, legacy) if kind.key == "households" else 0
    if kind.key == "members" and not legacy:
        _composition_checks(kind, present, report)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} WHERE NOT {q('ok')}")
        invalid = cursor.fetchone()[0]
    return Staged(kind, present, counter.get("rows", 0), invalid, report, batch, legacy, legacy_rows)


def check_coverage(households: Staged, members: Staged | None) -> None:
    """保障人数 and 单人保 of a households file against the members each household will have:
    its registry members plus, in a batch, the members file staged alongside. Run once every
    file of the upload is staged. 保障人数 is all members or 1; with 1 in a household of several
    the 单人保 member is named; a named 单人保 member is one of the household's members."""
    if "covered_persons" not in households.present and "single_coverage_id_number" not in households.present:
        return
    _, household_t, _ = _tables()
    from cases.models import Member

    member_t = Member._meta.db_table
    people = f"SELECT h.household_no, m.id_number FROM {q(member_t)} m JOIN {q(household_t)} h ON h.id = m.household_id"
    if members is not None:
        people += f" UNION SELECT sm.household_no, sm.id_number FROM {q(stage_name(members.kind))} sm WHERE sm.ok"
    stage, kind, report = stage_name(households.kind), households.kind, households.report
    count = f"(SELECT COUNT(*) FROM ({people}) p WHERE p.household_no = s.household_no)"
    single = "COALESCE(s.single_coverage_id_number, '') <> ''"
    before = report.error_total
    _check(report, stage=stage, column=kind.column("single_coverage_id_number"), value="s.single_coverage_id_number",
           joins="", where=f"s.ok AND {single} AND NOT EXISTS (SELECT 1 FROM ({people}) p "
                           "WHERE p.household_no = s.household_no AND p.id_number = s.single_coverage_id_number)",
           params=[], zh="单人保对象 {value} 不是本户的家庭成员（请先导入或在成员文件中列出该成员）",
           en="the single-coverage person {value} is not a member of this household")
    if "covered_persons" in households.present:
        _check(report, stage=stage, column=kind.column("covered_persons"), value="s.covered_persons",
               joins="", where=f"s.ok AND s.covered_persons > 1 AND {single}", params=[],
               zh="填写了单人保对象时保障人数应为 1", en="covered persons must be 1 when a single-coverage person is named")
        _check(report, stage=stage, column=kind.column("covered_persons"), value="s.covered_persons",
               joins="", where=f"s.ok AND s.covered_persons > 1 AND s.covered_persons <> {count}", params=[],
               zh="保障人数 {value} 与本户成员数不符：应为全部成员数，或单人保填 1",
               en="covered persons {value} is neither the number of members nor 1")
        _check(report, stage=stage, column=kind.column("single_coverage_id_number"), value="s.covered_persons",
               joins="", where=f"s.ok AND s.covered_persons = 1 AND NOT {single} AND {count} > 1", params=[],
               zh="保障人数为 1（单人保）而本户有多名成员，请填写单人保对象身份证号",
               en="covered persons is 1 in a household of several members: name the single-coverage person")
    if report.error_total > before:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {q(stage)} WHERE NOT {q('ok')}")
            households.rows_invalid = cursor.fetchone()[0]


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
    versioned: bool = False  # an update counts as a write (dibao.concurrency): a page open meanwhile is stale
    partition_column: str | None = None  # the month a partitioned ledger's rows are kept by


_KEY_TO_COLUMN = {
    "members": {"household_no": "household_id"},
    "relatives": {"staff_id_number": "staff_id", "household_no": "household_id"},
}


def _screening_target(staged: Staged, now) -> Target:
    """One record per list entry: a household on two annexes of the campaign gets the row on both."""
    from campaigns.models import CampaignHousehold, ScreeningRecord

    _, household_t, _ = _tables()
    problem_types = "CAST(s.problem_types AS jsonb)" if connection.vendor == "postgresql" else "s.problem_types"
    values = {"screened_on": "s.screened_on", "screeners": "s.screeners", "result": "s.result",
              "problem_types": problem_types, "handling": "s.handling", "note": "s.note"}
    select = ["ch.id AS campaign_household_id"] + [f"{expr} AS {q(key)}" for key, expr in values.items()]
    select += ["%s AS recorded_by_id", "%s AS recorded_at"]
    joins = (f"JOIN {q(household_t)} h ON h.household_no = s.household_no "
             f"JOIN {q(CampaignHousehold._meta.db_table)} ch ON ch.campaign_id = s.campaign_no AND ch.household_id = h.id")
    source = f"SELECT {', '.join(select)} FROM {q(stage_name(staged.kind))} s {joins} WHERE s.ok"
    compare = [key for key in values if key in staged.present]
    return Target(ScreeningRecord._meta.db_table, source, ["campaign_household_id", *values, "recorded_by_id",
                                                           "recorded_at"],
                  compare, ["campaign_household_id"], [staged.actor_id, now],
                  on_update=["recorded_by_id", "recorded_at"], versioned=True)


def _payments_target(staged: Staged, now) -> Target:
    """The ledger adds rows by 交易流水号 and corrects them in place; each row is linked to its
    household and region when the registry knows the 户编号, else both stay empty."""
    from payments.models import Payment

    _, household_t, _ = _tables()
    own = ["txn_no", "pay_month", "household_no", "payee_name", "payee_id_number", "account_no", "amount",
           "paid_on", "status"]
    select = [f"s.{q(key)} AS {q(key)}" for key in own]
    select += ["h.id AS household_id", "h.region_code AS region_code", "%s AS imported_at"]
    source = (f"SELECT {', '.join(select)} FROM {q(stage_name(staged.kind))} s "
              f"LEFT JOIN {q(household_t)} h ON h.household_no = s.household_no WHERE s.ok")
    compare = [key for key in own if key != "txn_no"] + ["household_id", "region_code"]
    return Target(Payment._meta.db_table, source, [*own, "household_id", "region_code", "imported_at"], compare,
                  ["txn_no"], [now], on_update=["imported_at"], partition_column="pay_month")


def _registry_target(staged: Staged) -> Target:
    from cases.models import BenefitStandard, Household, Member, RelativeFiling, Staff

    kind = staged.kind
    _, household_t, staff_t = _tables()
    rename = _KEY_TO_COLUMN.get(kind.key, {})
    now = timezone.now()
    if connection.vendor == "sqlite":  # Django keeps naive UTC there
        now = timezone.make_naive(now, dt.timezone.utc)
    if kind.key == "screenings":
        return _screening_target(staged, now)
    if kind.key == "payments":
        return _payments_target(staged, now)
    select = []
    columns = []
    for col in kind.columns:
        if not col.stored:
            continue
        target_col = rename.get(col.key, col.key)
        columns.append(target_col)
        if target_col == "household_id":
            select.append("h.id AS household_id")
        elif target_col == "staff_id":
            select.append("st.id AS staff_id")
        else:
            select.append(f"s.{q(col.key)} AS {q(target_col)}")
    key_cols = [rename.get(k, k) for k in kind.key_columns]
    compare = [rename.get(k, k) for k in staged.present
               if rename.get(k, k) not in key_cols and kind.column(k).stored]
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
        if staged.legacy_rows:
            # a household keeps the mark once any of its decisive facts came from a legacy file
            joins = f"LEFT JOIN {q(household_t)} h ON h.household_no = s.household_no"
            sets = " OR ".join(_sets_decision(col) for col in _decisive_columns(kind, staged.present))
            extra["legacy_migration"] = f"(COALESCE(h.legacy_migration, false) OR {sets})"
            on_update.append("legacy_migration")
    elif kind.key == "members":
        model = Member
        joins = f"JOIN {_households(staged.batch)} h ON h.household_no = s.household_no"
        extra = {}
    elif kind.key == "staff":
        model = Staff
        extra = {}
    elif kind.key == "standards":
        model = BenefitStandard
        select += ["%s AS created_at", "%s AS created_by_id"]
        columns += ["created_at", "created_by_id"]
        params = [now, staged.actor_id]
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
    return Target(model._meta.db_table, source, columns, compare, key_cols, params, on_update,
                  versioned=any(f.name == "version" for f in model._meta.concrete_fields))


def _differs(left: str, right: str, columns: list[str]) -> str:
    if not columns:
        return "false"
    return " OR ".join(f"{left}.{q(c)} IS DISTINCT FROM {right}.{q(c)}" for c in columns)


def count_changes(target: Target) -> tuple[int, int, int]:
    """(new, updated, unchanged) of the valid staged rows against the target table."""
    join = " AND ".join(f"t.{q(c)} = src.{q(c)}" for c in target.conflict)
    with connection.cursor() as cursor:
        existing = _existing_rows(target, cursor)
        cursor.execute(
            f"SELECT COALESCE(SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND ({_differs('t', 'src', target.compare)}) THEN 1 ELSE 0 END), 0), "
            f"COUNT(*) FROM ({target.source}) src LEFT JOIN {existing} t ON {join}", target.params)
        new, updated, total = cursor.fetchone()
    return int(new), int(updated), int(total) - int(new) - int(updated)


def _existing_rows(target: Target, cursor) -> str:
    """The relation the staged keys are matched in: the table, or of a partitioned ledger only the
    partitions whose key range meets the staged keys' (dibao.partitions.key_candidates) — a new
    month's file need not read the months before it."""
    if not (target.partition_column and len(target.conflict) == 1 and partitions.is_partitioned(target.table)):
        return q(target.table)
    key = q(target.conflict[0])
    cursor.execute(f"SELECT MIN(src.{key}), MAX(src.{key}) FROM ({target.source}) src", target.params)
    low, high = cursor.fetchone()
    parts = partitions.key_candidates(target.table, target.conflict[0], low, high) if low is not None else []
    if not parts:
        return f"(SELECT * FROM {q(target.table)} WHERE false)"
    return "(" + " UNION ALL ".join(f"SELECT * FROM {q(name)}" for name in parts) + ")"


def upsert(target: Target, *, new_rows: int, updated_rows: int) -> list[str]:
    """Update the rows whose key exists and differ, then insert the new ones.

    Two plain statements rather than one INSERT … ON CONFLICT: the speculative insertion of
    ON CONFLICT cost a third more than a plain insert at 200,000 households, and the staged
    rows are already known to be new or not (`count_changes`), so neither runs for nothing. A
    transaction-level lock per table serialises two imports writing the same table, so a key
    cannot appear between the two statements. A load at least as big as the table rebuilds its
    secondary indexes (`dibao.bulk.deferred_indexes`); a ledger partitioned by month loads a
    month it has no rows of into a partition of its own (`_insert_by_month`). Returns the tables
    whose statistics the write changed (for `dibao.bulk.analyze`, once committed).
    """
    key = " AND ".join(f"t.{q(c)} = src.{q(c)}" for c in target.conflict)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [WRITE_LOCK, target.table])
        months = _months_to_partition(target, cursor, all_new=not updated_rows and new_rows > 0) \
            if target.partition_column and partitions.is_partitioned(target.table) else None
        if target.compare and updated_rows:
            sets = [f"{q(c)} = src.{q(c)}" for c in target.compare + target.on_update]
            if target.versioned:
                sets.append(f"{q('version')} = t.{q('version')} + 1")
            cursor.execute(f"UPDATE {q(target.table)} AS t SET {', '.join(sets)} FROM ({target.source}) src "
                           f"WHERE {key} AND ({_differs('t', 'src', target.compare)})", target.params)
        if months is not None:
            if new_rows:
                _insert_by_month(target, cursor, months, key)
            touched = [partitions.partition_name(target.table, month) for month in months]
            return touched + ([target.table] if partitions.parent_stats_due(target.table) else [])
        if new_rows:
            cols = ", ".join(q(c) for c in target.columns)
            with deferred_indexes(target.table, rows=new_rows):
                cursor.execute(f"INSERT INTO {q(target.table)} ({cols}) SELECT {cols} FROM ({target.source}) src "
                               f"WHERE NOT EXISTS (SELECT 1 FROM {q(target.table)} t WHERE {key})", target.params)
    return [target.table]


def _months_to_partition(target: Target, cursor, *, all_new: bool) -> dict[dt.date, bool]:
    """The staged months, each True when it loads into a fresh partition of its own: every staged
    row is new and the ledger has no row of that month. The others get their (attached) partition
    before anything is written, so updates and inserts never land in the default partition."""
    column = target.partition_column
    cursor.execute(f"SELECT DISTINCT src.{q(column)} FROM ({target.source}) src", target.params)
    months = {}
    for (month,) in cursor.fetchall():
        months[month] = all_new and partitions.can_load_fresh(target.table, column, month)
        if not months[month]:
            partitions.ensure_month(target.table, column, month)
    return months


def _insert_by_month(target: Target, cursor, months: dict[dt.date, bool], key: str) -> None:
    cols = ", ".join(q(c) for c in target.columns)
    for month in sorted(m for m, fresh in months.items() if fresh):
        with partitions.fresh_month(target.table, target.partition_column, month) as table:
            cursor.execute(f"INSERT INTO {q(table)} (id, {cols}) SELECT nextval(%s), {cols} "
                           f"FROM ({target.source}) src WHERE src.{q(target.partition_column)} = %s",
                           [partitions.id_sequence(target.table), *target.params, month])
    if not all(months.values()):
        cursor.execute(f"INSERT INTO {q(target.table)} ({cols}) SELECT {cols} FROM ({target.source}) src "
                       f"WHERE NOT EXISTS (SELECT 1 FROM {q(target.table)} t WHERE {key})", target.params)


WRITE_LOCK = 0x494D50  # the advisory lock space of imports (with services._new_ref_version)


# --------------------------------------------------------------------------- cross-check write
def _ref_columns(kind: Kind) -> list[str]:
    return [c.key for c in kind.columns]


def count_ref_changes(kind: Kind, current_version_id: int | None) -> tuple[int, int, int, int]:
    """(new, updated, unchanged, removed) of the staged data set against the current version."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} WHERE {q('ok')}")
        total = cursor.fetchone()[0]
        if current_version_id is None:
            return total, 0, 0, 0
        table = ref_table(kind)
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


def ref_table(kind: Kind) -> str:
    from audits.models import REF_MODELS

    return REF_MODELS[kind.key]._meta.db_table


def insert_ref_rows(kind: Kind, version_id: int) -> int:
    table = ref_table(kind)
    cols = _ref_columns(kind)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(stage_name(kind))} WHERE {q('ok')}")
        with deferred_indexes(table, rows=cursor.fetchone()[0]):
            cursor.execute(f"INSERT INTO {q(table)} (version_id, {', '.join(q(c) for c in cols)}) "
                           f"SELECT %s, {', '.join('s.' + q(c) for c in cols)} FROM {q(stage_name(kind))} s "
                           f"WHERE s.ok", [version_id])
        return cursor.rowcount
