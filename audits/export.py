"""Findings export (formats.md): `.csv` machine form with the English keys, `.xlsx` with the
Chinese headers, ID numbers as text. Rows are streamed, so memory stays flat."""
from __future__ import annotations

from dibao.idnumber import mask_id
from dibao.spreadsheets import Column, CsvWriter, Workbook

# (English key, column of the workbook); codes are 'id' columns so Excel keeps them text.
COLUMNS = [("rule", Column("规则代码", "id", 16)), ("household_no", Column("户编号", "id", 14)),
           ("id_number", Column("身份证号", "id", 20)), ("name", Column("姓名", "text", 8)),
           ("region_code", Column("区划代码", "id", 12)), ("month", Column("月份", "id", 8)),
           ("detail", Column("说明", "text", 68))]


def _rows(findings, full_ids: bool):
    # Section D names the payment's 户编号, which the registry may not know; the others the household's.
    qs = (findings.order_by("rule", "region_code", "subject_key")
          .values_list("rule", "household_no", "household__household_no", "id_number", "name", "region_code",
                       "month", "detail"))
    for rule, paid_no, household_no, id_number, name, region, month, detail in qs.iterator(chunk_size=5000):
        yield [rule, paid_no or household_no or "", id_number if full_ids else mask_id(id_number), name, region,
               month, detail]


def write_csv(findings, stream, *, full_ids: bool) -> int:
    writer = CsvWriter(stream)
    writer.writerow([key for key, _column in COLUMNS])
    n = 0
    for row in _rows(findings, full_ids):
        writer.writerow(row)
        n += 1
    return n


def write_xlsx(findings, path_or_stream, *, full_ids: bool) -> int:
    book = Workbook(path_or_stream)
    n = book.table_sheet("疑点", columns=[column for _key, column in COLUMNS]).rows(_rows(findings, full_ids))
    book.save()
    return n
