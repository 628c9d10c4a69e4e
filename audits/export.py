"""Findings export (formats.md): `.csv` machine form with the English keys, `.xlsx` with the
Chinese headers, ID numbers as text. Rows are streamed, so memory stays flat."""
from __future__ import annotations

import csv

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dibao.idnumber import mask_id

COLUMNS = [("rule", "规则代码"), ("household_no", "户编号"), ("id_number", "身份证号"), ("name", "姓名"),
           ("region_code", "区划代码"), ("detail", "说明")]


def _rows(findings, full_ids: bool):
    qs = (findings.order_by("rule", "region_code", "subject_key")
          .values_list("rule", "household__household_no", "id_number", "name", "region_code", "detail"))
    for rule, household_no, id_number, name, region, detail in qs.iterator(chunk_size=5000):
        yield [rule, household_no or "", id_number if full_ids else mask_id(id_number), name, region, detail]


def write_csv(findings, stream, *, full_ids: bool) -> int:
    writer = csv.writer(stream)
    writer.writerow([key for key, _ in COLUMNS])
    n = 0
    for row in _rows(findings, full_ids):
        writer.writerow(row)
        n += 1
    return n


def write_xlsx(findings, path_or_stream, *, full_ids: bool) -> int:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("疑点")
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEF", (18, 16, 22, 10, 14, 70)):
        ws.column_dimensions[col].width = width
    header = []
    for _, label in COLUMNS:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    n = 0
    for row in _rows(findings, full_ids):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = "@"  # ID numbers and codes stay text in Excel
            cells.append(cell)
        ws.append(cells)
        n += 1
    wb.save(path_or_stream)
    return n
