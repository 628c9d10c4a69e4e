"""Blank templates (标准模板) for every kind and exports of the registry kinds.

Both use the headers of imports.kinds, so an export is a valid import file: exporting and
importing it again changes nothing. The layout is dibao.spreadsheets' table sheet: the header
in row 1 (required columns highlighted), ID and code columns text ('@') so Excel never turns
an ID number into 2.20102E+17, and every value a text cell, never a formula.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from dibao.idnumber import mask_id
from dibao.spreadsheets import Column, Workbook
from imports.kinds import Kind, get_kind

TEMPLATE_ROWS = 200


def _write(kind: Kind, fill, *, author: str = "") -> bytes:
    buf = io.BytesIO()
    book = Workbook(buf, author=author)
    fill(book.table_sheet(str(kind.label), columns=[
        Column(col.header, "id" if col.is_id else "text", required=col.required) for col in kind.columns]))
    book.save()
    return buf.getvalue()


def template_workbook(kind_key: str) -> bytes:
    # A block of empty text-formatted cells, so what is typed or pasted into the ID columns stays text.
    return _write(get_kind(kind_key), lambda sheet: sheet.blank_rows(TEMPLATE_ROWS))


def _format(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


# kind → (model lookup path of each column, in kind column order); labels are exported
# in Chinese (what users read), which the import accepts like the English keys.
_EXPORT_PATHS = {
    "households": {"region_code": "region_id"},
    "members": {"household_no": "household__household_no"},
    "staff": {"region_code": "region_id"},
    "relatives": {"staff_id_number": "staff__id_number", "household_no": "household__household_no"},
}


def _export_annotations(kind_key: str) -> dict:
    """Columns that are not fields: 保障人数 is written only for 单人保 (1); empty means all members,
    which is what the import reads back."""
    if kind_key != "households":
        return {}
    from django.db.models import Case, IntegerField, Value, When

    return {"covered_persons": Case(When(single_coverage_id_number="", then=Value(None)), default=Value(1),
                                    output_field=IntegerField())}


def _labels(kind: Kind) -> dict[str, dict]:
    out = {}
    for col in kind.columns:
        options = getattr(col.parse, "options", None)
        if options:
            # options map spelling → stored value; the first spelling of each value is its label
            labels: dict = {}
            for spelling, stored in options.items():
                labels.setdefault(stored, spelling)
            out[col.key] = labels
    return out


def export_rows(kind_key: str, queryset, *, full_ids: bool) -> Iterator[list]:
    kind = get_kind(kind_key)
    paths = [_EXPORT_PATHS[kind_key].get(c.key, c.key) for c in kind.columns]
    labels = _labels(kind)
    ids = [c.is_id and c.key != "region_code" for c in kind.columns]
    queryset = queryset.annotate(**_export_annotations(kind_key))
    for values in queryset.values_list(*paths).iterator(chunk_size=2000):
        row = []
        for col, value, is_id in zip(kind.columns, values, ids):
            if col.key in labels and value not in (None, ""):
                value = labels[col.key].get(value, value)
            if is_id and value and not full_ids:
                value = mask_id(value)
            row.append(_format(value))
        yield row


def export_workbook(kind_key: str, rows: Iterable[list], *, creator: str = "") -> bytes:
    return _write(get_kind(kind_key), lambda sheet: sheet.rows(rows), author=creator)
