"""Staging a UTF-8 CSV file without Python touching its rows (PostgreSQL).

PostgreSQL COPYs the file as it is into a temporary all-text table, and one INSERT … SELECT
turns each cell into its staged value when the cell is in the plain form its parser in
imports.kinds accepts unchanged: an 18-character ID whose birth date and check digit hold, a
`YYYY-MM-DD` date that exists, yuan with at most two decimals, an enumeration's spelling, text
within its length. A row with any other cell — full-width characters or odd spaces, another
date spelling, a comma in an amount, or a mistake — is parsed by those same Python parsers,
which stay the one statement of the rules and of every reason in the report: the SQL forms only
ever accept what the parsers accept and hand everything else to them. A file PostgreSQL does
not read as the csv module does (ragged rows, blank lines, a line `\\.`) goes through the Python
path whole. Kinds with a cross-field row check, or a column without an SQL form, stay on the
Python path.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Callable

from django.db import DatabaseError, connection, transaction

from imports import kinds as k
from imports.reader import Source, too_many_rows

RAW = "imp_raw"
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# Anything the parsers would translate, strip or refuse as a control character: full-width
# letters and digits, every kind of space but the ASCII one, C0/C1 controls, BOM. A cell holding
# one goes to Python.
_SPECIAL = "[\x01-\x1f\x7f-\xa0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\uff01-\uff5e]"
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ymd_exists(y: str, m: str, d: str) -> str:
    """SQL: the integers y, m, d name a day of the proleptic Gregorian calendar (as datetime.date)."""
    leap = f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"
    days = f"CASE WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    return f"({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})"


# PostgreSQL's regular expressions cost over a microsecond a cell; these checks are plain string functions.
def _digits_only(v: str) -> str:
    return f"ltrim({v}, '0123456789') = ''"


def _number(v: str, start: int, length: int) -> str:
    return f"CAST(substr({v}, {start}, {length}) AS integer)"


def _ascii_lower(v: str) -> str:
    # not lower(): its result depends on the database's locale
    return f"translate({v}, '{_UPPER}', '{_LOWER}')"


def _choice_case(v: str, lookup: dict, *, lower: bool) -> str:
    key = _ascii_lower(v) if lower else v
    whens = " ".join(f"WHEN {_lit(spelling)} THEN {_lit(value)}" for spelling, value in lookup.items())
    return f"(CASE {key} {whens} END)"


def _iso_date(v: str) -> str:
    """SQL: `v` is YYYY-MM-DD (two-digit month and day) and that day exists."""
    return (f"CASE WHEN char_length({v}) = 10 AND substr({v}, 5, 1) = '-' AND substr({v}, 8, 1) = '-' "
            f"AND {_digits_only(f'substr({v}, 1, 4) || substr({v}, 6, 2) || substr({v}, 9, 2)')} "
            f"THEN {_ymd_exists(_number(v, 1, 4), _number(v, 6, 2), _number(v, 9, 2))} ELSE false END")


def _form(col: k.Column, v: str) -> tuple[str, str] | None:
    """(SQL: the non-empty cleaned cell `v` is in a form the parser accepts unchanged, SQL: its value),
    or None when the parser has no SQL form."""
    parse = col.parse
    if parse is k.parse_id:
        # the weights applied to the digits' ASCII codes, as kinds.parse_id does
        checksum = " + ".join(f"ascii(substr({v}, {i + 1}, 1)) * {w}" for i, w in enumerate(_ID_WEIGHTS))
        birth = f"substr({v}, 7, 8)"
        latest = (dt.date.today() - dt.timedelta(days=1)).strftime("%Y%m%d")  # a day's margin for time zones
        ok = (f"CASE WHEN char_length({v}) = 18 AND {_digits_only(f'substr({v}, 1, 17)')} "
              f"AND {birth} COLLATE \"C\" BETWEEN '18800101' AND '{latest}' "
              f"THEN {_ymd_exists(_number(v, 7, 4), _number(v, 11, 2), _number(v, 13, 2))} "
              f"AND substr('10X98765432', ({checksum} - {48 * sum(_ID_WEIGHTS)}) % 11 + 1, 1) = "
              f"translate(substr({v}, 18, 1), 'x', 'X') ELSE false END")
        return ok, f"translate({v}, 'x', 'X')"
    if parse is k.parse_date:
        return _iso_date(v), f"CAST({v} AS date)"
    if parse is k.parse_month:
        ok = _iso_date(f"({v} || '-01')")
        return ok, f"CAST({v} || '-01' AS date)"
    if parse in (k.parse_money, k.parse_positive_money):
        point = f"strpos({v}, '.')"
        ok = (f"CASE translate({v}, '0123456789', '') WHEN '' THEN char_length({v}) <= 8 "
              f"WHEN '.' THEN {point} BETWEEN 2 AND 9 AND char_length({v}) - {point} BETWEEN 1 AND 2 ELSE false END")
        if parse is k.parse_positive_money:
            ok = f"({ok} AND translate({v}, '0.', '') <> '')"
        return ok, f"CAST({v} AS numeric(14, 2))"
    if parse is k.parse_account:
        return f"(char_length({v}) BETWEEN 10 AND 30 AND {_digits_only(v)})", v
    if parse is k.parse_household_no:
        return f"char_length({v}) <= 32", v
    if parse is k.parse_level:
        value = _choice_case(v, k._LEVELS, lower=False)
        return f"{value} IS NOT NULL", value
    if parse is k.parse_bool:
        value = _choice_case(v, {**dict.fromkeys(k._TRUE, True), **dict.fromkeys(k._FALSE, False)}, lower=True)
        return f"{value} IS NOT NULL", value
    if hasattr(parse, "options"):
        value = _choice_case(v, {spelling.lower(): value for spelling, value in parse.options.items()}, lower=True)
        return f"{value} IS NOT NULL", value
    if hasattr(parse, "lengths"):
        natural = (f"(CASE WHEN char_length({v}) <> 12 THEN {v} WHEN substr({v}, 3) = '0000000000' THEN substr({v}, 1, 2) "
                   f"WHEN substr({v}, 5) = '00000000' THEN substr({v}, 1, 4) WHEN substr({v}, 7) = '000000' "
                   f"THEN substr({v}, 1, 6) WHEN substr({v}, 10) = '000' THEN substr({v}, 1, 9) ELSE {v} END)")
        lengths = ", ".join(str(n) for n in parse.lengths)
        ok = (f"CASE WHEN char_length({v}) IN (2, 4, 6, 9, 12) AND {_digits_only(v)} "
              f"THEN char_length({natural}) IN ({lengths}) ELSE false END")
        return ok, natural
    if getattr(parse, "max_length", None) is not None:
        return f"char_length({v}) <= {parse.max_length}", v
    return None


# Parsers whose columns hold few distinct values in a real file (a pay month, a day, an amount):
# their checks run once per distinct value rather than once per row.
_FEW_VALUES = (k.parse_date, k.parse_month, k.parse_money, k.parse_positive_money, k.parse_level, k.parse_bool)


def applies(kind: k.Kind, source: Source) -> bool:
    return (connection.vendor == "postgresql" and source.utf8_csv is not None and kind.row_check is None
            and all(_form(col, "v") is not None for col in kind.columns))


class _Guarded(io.RawIOBase):
    """The file as COPY reads it, refusing a line `\\.`, which COPY takes for the end of the data."""

    def __init__(self, fh):
        self.fh = fh
        self.tail = b"\n"

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.fh.readinto(buffer)
        if n:
            window = self.tail + bytes(buffer[:n])
            if b"\n\\.\n" in window or b"\n\\.\r" in window:
                raise ValueError("end-of-data marker inside the file")
            self.tail = window[-3:]
        elif self.tail.endswith(b"\n\\."):
            raise ValueError("end-of-data marker at the end of the file")
        return n


def _header_is_one_line(path: str, header: list) -> bool:
    with open(path, "rb") as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace")
    return next(csv.reader([first]), None) == list(header)


def _copy_raw(path: str, width: int) -> bool:
    """The file into imp_raw (row_no = the Excel row number); False when PostgreSQL cannot read it."""
    import psycopg2  # copy_expert's errors are not wrapped in Django's

    cells = [f"c{i}" for i in range(width)]
    try:
        with transaction.atomic(), connection.cursor() as cursor, open(path, "rb", buffering=0) as fh:
            cursor.execute(f'DROP TABLE IF EXISTS "{RAW}"')
            cursor.execute(f'CREATE TEMPORARY TABLE "{RAW}" (row_no integer GENERATED ALWAYS AS IDENTITY (START 2), '
                           f"{', '.join(c + ' text' for c in cells)})")
            cursor.copy_expert(f'COPY "{RAW}" ({", ".join(cells)}) FROM STDIN WITH (FORMAT csv, HEADER true, '
                               f"ENCODING 'UTF8')", io.BufferedReader(_Guarded(fh), 1 << 20))
    except (DatabaseError, psycopg2.Error, ValueError):
        return False
    return True


def stage(kind: k.Kind, source: Source, plan, stage_table: str, prefix: str | None, report,
          parse_rows: Callable, on_progress: Callable | None) -> int | None:
    """Stage the file into `stage_table` (row_no, ok, py, columns…); the number of data rows, or None
    when the file needs the Python path."""
    width = len(source.header)
    if not _header_is_one_line(source.utf8_csv, source.header) or not _copy_raw(source.utf8_csv, width):
        return None
    source.rows.close()
    q = '"{}"'.format
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {q(RAW)}")
        if cursor.fetchone()[0] > _max_rows():
            raise too_many_rows()
        raw = [f"COALESCE(c{i}, '')" for i in range(width)]
        used = sorted({idx for _, idx in plan if idx is not None})
        cursor.execute(f"ANALYZE {q(RAW)}")  # the lookups below are hash joins only if the planner knows the sizes
        # Three levels, each computed once a row: the cleaned cells, whether each is in its plain
        # form, the values. OFFSET 0 keeps the planner from folding them into one repeated expression.
        cleaned = [f"btrim({raw[i]}, ' ') AS v{i}" for i in used]
        special = f"concat({', '.join(f'c{i}' for i in used)}) ~ '{_SPECIAL}'"
        verdicts, values, plain, lookups = [], [], ["NOT special"], []
        for col, idx in plan:
            if idx is None:
                values.append(_lit(col.default))
                continue
            v = f"v{idx}"
            empty = 'false' if col.required else 'true'
            if col.parse in _FEW_VALUES or hasattr(col.parse, "options") or hasattr(col.parse, "lengths"):
                # Dates, months, amounts, enumerations: each distinct cell checked once, joined back by value.
                ok, value = _form(col, "v")
                lookups.append(f"LEFT JOIN (SELECT v, {ok} AS ok, CASE WHEN {ok} THEN {value} END AS val FROM (SELECT DISTINCT "
                               f"btrim({raw[idx]}, ' ') AS v FROM {q(RAW)}) d WHERE v <> '') l_{col.key} "
                               f"ON l_{col.key}.v = r.{v}")
                verdicts.append(f"CASE WHEN {v} = '' THEN {empty} ELSE COALESCE(l_{col.key}.ok, false) END "
                                f"AS o_{col.key}, l_{col.key}.val AS l_{col.key}")
                value = f"l_{col.key}"
            else:
                ok, value = _form(col, v)
                verdicts.append(f"CASE WHEN {v} = '' THEN {empty} ELSE {ok} END AS o_{col.key}")
            values.append(f"CASE WHEN {v} = '' THEN {_lit(col.default)} WHEN o_{col.key} THEN {value} END")
            plain.append(f"o_{col.key}")
        columns = ", ".join(q(c.key) for c in kind.columns)
        cursor.execute(
            f"INSERT INTO {q(stage_table)} (row_no, ok, py, {columns}) "
            f"SELECT row_no, true, NOT ({' AND '.join(plain)}), {', '.join(values)} FROM ("
            f"SELECT r.*, {', '.join(verdicts)} FROM ("
            f"SELECT row_no, {special} AS special, {', '.join(cleaned)} FROM {q(RAW)} "
            f"WHERE NOT ({' AND '.join(f'{c} = {chr(39) * 2}' for c in raw)}) OFFSET 0) r {' '.join(lookups)} "
            f"OFFSET 0) m")
        rows = cursor.rowcount
        cursor.execute(f"ANALYZE {q(stage_table)} (row_no, py)")
        cursor.execute(f"SELECT * FROM {q(RAW)} WHERE row_no IN (SELECT row_no FROM {q(stage_table)} WHERE py) "
                       f"ORDER BY row_no")
        odd = [(row[0], tuple("" if c is None else c for c in row[1:])) for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {q(RAW)}")
        if odd:
            cursor.execute(f"DELETE FROM {q(stage_table)} WHERE py")
            parse_rows(Source(source.header, iter(odd), lambda: 1.0, all_text=True))
    if prefix is not None and "region_code" in kind.by_key and kind.registry:
        _jurisdiction(kind, stage_table, prefix, report, [col.key for col, _ in plan].index("region_code"))
    if on_progress is not None:
        on_progress(rows, 1.0)
    return rows


def _jurisdiction(kind: k.Kind, stage_table: str, prefix: str, report, order: int) -> None:
    """What imports.pipeline._parsed_rows checks row by row on the Python path."""
    from imports.pipeline import _check

    _check(report, stage=stage_table, column=kind.column("region_code"), value="s.region_code", joins="",
           where="s.ok AND s.region_code <> '' AND s.region_code NOT LIKE %s", params=[prefix + "%"],
           zh=f"区划 {{value}} 不在您的管辖范围（{prefix}）内",
           en=f"region {{value}} is outside your jurisdiction ({prefix})", order=order)


def _max_rows() -> int:
    from django.conf import settings

    return settings.IMPORT_MAX_ROWS
