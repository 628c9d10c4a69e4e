"""The layout every statistics workbook shares, streamed to disk row by row.

A sheet is: a title row, a 填报单位/填报日期 line, one header row (frozen, and rows 1–3 repeat
on every printed page), the data rows, and a bold 合计 row. ID numbers are text cells, money
has two decimals, dates are date cells shown YYYY-MM-DD, pages are A4 landscape fitted to the
width.

XlsxWriter in constant_memory mode writes each row to a temporary file as soon as the next
row starts, so memory stays flat whatever the row count; it is about three times faster than
openpyxl's write-only mode, which decides whether a 100,000-row form meets its time target
(docs/reports.md).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_ROWS = 3  # title, 填报单位/填报日期, header
FONT = "宋体"


def display_width(text: str) -> int:
    """Columns a string takes in Excel: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


@dataclass
class Column:
    header: str
    kind: str = "text"  # text | id | int | money | date
    width: int | None = None  # expected content width; the header's width when larger

    def fitted_width(self) -> float:
        content = self.width or {"id": 20, "money": 12, "date": 11, "int": 8}.get(self.kind, 10)
        return min(max(content, display_width(self.header)) + 2, 60)


class FormSheet:
    def __init__(self, book: "FormWorkbook", name: str, *, title: str, unit: str, filled_on: dt.date,
                 columns: list[Column]):
        self.columns = columns
        self.book = book
        self.ws = ws = book.wb.add_worksheet(name)
        self.rows_written = 0
        self._next_row = HEADER_ROWS
        last = len(columns) - 1
        for index, column in enumerate(columns):
            ws.set_column(index, index, column.fitted_width())
        ws.freeze_panes(HEADER_ROWS, 0)
        ws.repeat_rows(0, HEADER_ROWS - 1)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_row(0, 30)
        ws.merge_range(0, 0, 0, last, title, book.fmt("title"))
        half = max(1, len(columns) // 2)
        unit_text, date_text = f"填报单位：{unit}", f"填报日期：{filled_on:%Y-%m-%d}"
        if half > 1:
            ws.merge_range(1, 0, 1, half - 1, unit_text, book.fmt("line"))
        else:
            ws.write_string(1, 0, unit_text, book.fmt("line"))
        if last > half:
            ws.merge_range(1, half, 1, last, date_text, book.fmt("line_right"))
        else:
            ws.write_string(1, half, date_text, book.fmt("line_right"))
        for index, column in enumerate(columns):
            ws.write_string(2, index, column.header, book.fmt("header"))
        self._writers = [self._writer(c.kind) for c in columns]
        self._body = [book.fmt(c.kind) for c in columns]
        self._bold = [book.fmt(c.kind, bold=True) for c in columns]

    def _writer(self, kind: str):
        """The one XlsxWriter call a column's values go through, chosen once per sheet."""
        ws = self.ws
        if kind in ("id", "text"):
            # ID numbers stay text: as a number Excel would show 2.20102E+17.
            return lambda r, c, v, f: ws.write_string(r, c, v if isinstance(v, str) else str(v), f)
        if kind == "money":
            return lambda r, c, v, f: ws.write_number(r, c, round(float(v), 2), f)
        if kind == "date":
            return lambda r, c, v, f: (ws.write_datetime(r, c, v, f) if isinstance(v, dt.date)
                                       else ws.write_string(r, c, str(v), f))
        return lambda r, c, v, f: (ws.write_number(r, c, v, f) if isinstance(v, (int, float, Decimal))
                                   else ws.write_string(r, c, str(v), f))

    def _write(self, values: list, formats: list) -> None:
        ws, r = self.ws, self._next_row
        for c, (write, fmt, value) in enumerate(zip(self._writers, formats, values)):
            if value is None or value == "":
                ws.write_blank(r, c, None, fmt)
            else:
                write(r, c, value, fmt)
        self._next_row += 1

    def row(self, values: list) -> None:
        self._write(values, self._body)
        self.rows_written += 1

    def total(self, values: list) -> None:
        """The closing 合计 row (values[0] is normally '合计')."""
        self._write(values, self._bold)


class FormWorkbook:
    def __init__(self, target):
        """`target`: a path, or a binary file object (written in memory then)."""
        options = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                   "strings_to_urls": False}
        if not isinstance(target, (str, bytes)) and not hasattr(target, "__fspath__"):
            options["in_memory"] = True
        self.wb = xlsxwriter.Workbook(target, options)
        self._formats: dict = {}

    def fmt(self, kind: str, bold: bool = False):
        key = (kind, bold)
        if key not in self._formats:
            props = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
            if kind == "title":
                props.update(font_size=16, bold=True, align="center")
            elif kind == "line":
                props.update(align="left")
            elif kind == "line_right":
                props.update(align="right")
            else:
                props.update(border=1, bold=bold or kind == "header")
                if kind == "header":
                    props.update(align="center", text_wrap=True, bg_color="#DDEBF7")
                props["num_format"] = {"id": "@", "money": MONEY_FORMAT, "date": DATE_FORMAT}.get(kind, "General")
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def sheet(self, name: str, **kwargs) -> FormSheet:
        return FormSheet(self, name, **kwargs)

    def save(self) -> None:
        self.wb.close()
