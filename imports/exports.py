"""Blank templates (标准模板) for every kind and exports of the registry kinds.

Both use the headers of imports.kinds, so an export is a valid import file: exporting and
importing it again changes nothing. Workbooks are written in openpyxl's write-only mode
so memory stays flat however many rows are exported; ID and code columns are text ('@')
so Excel never turns an ID number into 2.20102E+17.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from dibao.idnumber import mask_id
from imports.kinds import Kind, get_kind

TEXT = "@"
_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def _header_cells(ws, kind: Kind):
    cells = []
    for col in kind.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = _HEADER_FONT
        if col.required:
            cell.fill = _REQUIRED_FILL
        cells.append(cell)
    return cells


def _new_sheet(kind: Kind, *, creator: str = ""):
    wb = Workbook(write_only=True)
    wb.properties.creator = creator or "dibao"
    ws = wb.create_sheet(title=str(kind.label)[:31])
    for i, col in enumerate(kind.columns, start=1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = 22 if col.is_id else max(12, len(col.header) * 2 + 4)
        if col.is_id:
            dim.number_format = TEXT
    ws.freeze_panes = "A2"
    ws.append(_header_cells(ws, kind))
    return wb, ws


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_workbook(kind_key: str) -> bytes:
    kind = get_kind(kind_key)
    wb, ws = _new_sheet(kind)
    # A block of empty text-formatted cells, so what is typed or pasted into the ID columns stays text.
    for _ in range(200):
        row = []
        for col in kind.columns:
            cell = WriteOnlyCell(ws, value=None)
            if col.is_id:
                cell.number_format = TEXT
            row.append(cell)
        ws.append(row)
    return _save(wb)


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
    kind = get_kind(kind_key)
    wb, ws = _new_sheet(kind, creator=creator)
    text_cols = [c.is_id for c in kind.columns]
    for values in rows:
        row = []
        for value, is_text in zip(values, text_cols):
            if is_text:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = TEXT
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)
    return _save(wb)
