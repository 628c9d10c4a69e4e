"""The neutralisation rule and the xlsx layout of dibao.spreadsheets, without any app."""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dibao.spreadsheets import Column, CsvWriter, Workbook, csv_cell


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_prefixes_every_formula_trigger(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "2.5", "a=b", " =1", "", None, -2, Decimal("-2.50"), 3.5])
def test_csv_leaves_other_values_alone(value):
    assert csv_cell(value) == value


def test_csv_writer_neutralises_whole_rows():
    out = io.StringIO()
    CsvWriter(out, lineterminator="\n").writerows([["=1+1", -2, "张三"], ["\t@x", Decimal("-1.50"), ""]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "-2", "张三"], ["'\t@x", "-1.50", ""]]


def _book(build) -> object:
    target = io.BytesIO()
    book = Workbook(target)
    build(book)
    book.save()
    return load_workbook(io.BytesIO(target.getvalue()))


def test_form_sheet_layout_and_cell_types():
    columns = [Column("区划代码", "id"), Column("名称"), Column("户数", "int"), Column("金额", "money"),
               Column("日期", "date")]

    def build(book):
        sheet = book.form_sheet("表", title="标题", unit="南关区", filled_on=dt.date(2026, 4, 1), columns=columns,
                                exported_by="rev")
        sheet.row(["220102", "=1+1", -3, Decimal("-2.50"), dt.date(2026, 3, 5)])
        sheet.total(["合计", "", -3, Decimal("-2.50"), ""])

    ws = _book(build).worksheets[0]
    assert ws["A1"].value == "标题" and ws.freeze_panes == "A4"
    assert ws["A2"].value == "填报单位：南关区" and "导出人：rev" in ws["C2"].value
    assert [c.value for c in ws[3]] == ["区划代码", "名称", "户数", "金额", "日期"]
    a, b, c, d, e = ws[4]
    assert (a.value, a.data_type, a.number_format) == ("220102", "s", "@")
    assert (b.value, b.data_type) == ("=1+1", "s")
    assert (c.value, c.data_type) == (-3, "n") and (d.value, d.number_format) == (-2.5, "#,##0.00")
    assert e.value == dt.datetime(2026, 3, 5) and e.number_format == "yyyy-mm-dd"
    assert ws["A5"].value == "合计" and ws["A5"].font.b
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$3"


def test_table_sheet_has_the_header_in_row_one_and_text_id_columns():
    def build(book):
        sheet = book.table_sheet("名册", columns=[Column("身份证号", "id", required=True), Column("姓名")])
        sheet.blank_rows(2)

    ws = _book(build).worksheets[0]
    assert [c.value for c in ws[1]] == ["身份证号", "姓名"] and ws.freeze_panes == "A2"
    assert ws["A1"].fill.fgColor.rgb.endswith("FFF2CC") and ws["A2"].number_format == "@"
