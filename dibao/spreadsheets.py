"""Every CSV and .xlsx file the system writes goes through this module.

Two things are decided here once:

* **Formula injection.** A value typed by a user (a head of household named
  `=HYPERLINK(...)`) must never become a live formula in the office's spreadsheet program.
  In .xlsx every string is written with XlsxWriter's `write_string`, so it is stored as text
  and never as a formula, whatever it begins with. In CSV, where the program decides, a
  string beginning with `=`, `+`, `-`, `@`, tab or carriage return gets a leading single
  quote, the OWASP rule. Numbers are left alone, negative ones too. (defusedcsv applies the
  same idea but does not cover tab and carriage return, and rewrites `|` inside values.)

* **The layout.** Statistics forms and ledgers (`form_sheet`): a title row, a
  填报单位/填报日期 line, one header row (frozen, and rows 1–3 repeat on every printed page),
  the data rows, and a bold 合计 row; A4 landscape fitted to the width. Files read back by a
  machine — import templates, registry exports, findings (`table_sheet`): the header in row 1,
  frozen, nothing else. In both, ID numbers are text cells ('@', else Excel shows
  2.20102E+17), money has two decimals, dates are date cells shown YYYY-MM-DD.

XlsxWriter in constant_memory mode writes each row to a temporary file as soon as the next
row starts, so memory stays flat whatever the row count; it is about three times faster than
openpyxl's write-only mode, which decides whether a 100,000-row form meets its time target
(docs/reports.md).
"""
from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
FORM_HEADER_ROWS = 3  # title, 填报单位/填报日期, header
FONT = "宋体"
HEADER_FILL = "#DDEBF7"
REQUIRED_FILL = "#FFF2CC"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- CSV ---------------------------------------------------------------------------------

def csv_cell(value):
    """A CSV field that no spreadsheet program will run as a formula (OWASP: prefix `'`)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def cell_text(value: str) -> str:
    """A string as XlsxWriter (constant_memory) must be given it to store exactly that text.

    XlsxWriter writes a string that starts with `<r>` and ends with `</r>` into the sheet XML
    unescaped, as a ready-made rich string: a cell value such as `<r>…</r></is></c><c><f>HYPERLINK(…)`
    would become a live formula. Such a value is handed over as a rich string we built ourselves,
    its text escaped, so it still reads back as the text the user typed."""
    if value.startswith("<r>") and value.endswith("</r>"):
        return f'<r><t xml:space="preserve">{xml_escape(value)}</t></r>'
    return value


class CsvWriter:
    """`csv.writer` whose every row passes through `csv_cell`."""

    def __init__(self, stream, **fmtparams):
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


# --- xlsx --------------------------------------------------------------------------------

def display_width(text: str) -> int:
    """Columns a string takes in Excel: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


@dataclass
class Column:
    header: str
    kind: str = "text"  # text | id | int | money | date
    width: int | None = None  # expected content width; the header's width when larger
    required: bool = False  # header highlighted: a column an import cannot do without

    def fitted_width(self) -> float:
        content = self.width or {"id": 20, "money": 12, "date": 11, "int": 8}.get(self.kind, 10)
        return min(max(content, display_width(self.header)) + 2, 60)


class Sheet:
    def __init__(self, book: Workbook, name: str, columns: list[Column], *, header_row: int):
        self.book = book
        self.columns = columns
        self.ws = ws = book.wb.add_worksheet(name[:31])
        self.rows_written = 0
        self._next_row = header_row + 1
        for index, column in enumerate(columns):
            # The column's format also covers what is typed below the data later (ID columns stay text).
            ws.set_column(index, index, column.fitted_width(), book.fmt(column.kind) if column.kind == "id" else None)
        ws.freeze_panes(header_row + 1, 0)
        self._writers = [self._writer(c.kind) for c in columns]
        self._body = [book.fmt(c.kind) for c in columns]
        self._bold = [book.fmt(c.kind, bold=True) for c in columns]

    def write_header(self, row: int) -> None:
        for index, column in enumerate(self.columns):
            self.ws.write_string(row, index, cell_text(column.header),
                                 self.book.fmt("required_header" if column.required else "header"))

    def _writer(self, kind: str):
        """The one XlsxWriter call a column's values go through, chosen once per sheet.

        Strings only ever reach `write_string`: stored as text, never as a formula."""
        ws = self.ws

        def text(r, c, v, f):
            return ws.write_string(r, c, cell_text(v if isinstance(v, str) else str(v)), f)

        if kind in ("id", "text"):
            return text
        if kind == "money":
            return lambda r, c, v, f: (ws.write_number(r, c, round(float(v), 2), f)
                                       if isinstance(v, (int, float, Decimal)) else text(r, c, v, f))
        if kind == "date":
            return lambda r, c, v, f: (ws.write_datetime(r, c, v, f) if isinstance(v, dt.date) else text(r, c, v, f))
        return lambda r, c, v, f: (ws.write_number(r, c, v, f) if isinstance(v, (int, float, Decimal))
                                   and not isinstance(v, bool) else text(r, c, v, f))

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

    def rows(self, rows: Iterable[list]) -> int:
        for values in rows:
            self.row(values)
        return self.rows_written

    def blank_rows(self, n: int) -> None:
        """Empty cells carrying their column's format, so what is pasted into an ID column stays text."""
        for _ in range(n):
            self._write([None] * len(self.columns), self._body)

    def total(self, values: list) -> None:
        """The closing 合计 row (values[0] is normally '合计')."""
        self._write(values, self._bold)


class Workbook:
    def __init__(self, target, *, author: str = ""):
        """`target`: a path or a binary file object."""
        self.wb = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
        self.wb.set_properties({"author": author or "dibao"})
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
            elif kind in ("header", "required_header"):
                props.update(border=1, bold=True, align="center", text_wrap=True,
                             bg_color=REQUIRED_FILL if kind == "required_header" else HEADER_FILL)
            else:
                props.update(border=1, bold=bold, text_wrap=kind == "text")
                props["num_format"] = {"id": "@", "money": MONEY_FORMAT, "date": DATE_FORMAT}.get(kind, "General")
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def form_sheet(self, name: str, *, title: str, unit: str, filled_on: dt.date, columns: list[Column],
                   exported_by: str = "") -> Sheet:
        """A statistics form or ledger: title, 填报单位/填报日期 line, header, rows; `total()` closes it."""
        sheet = Sheet(self, name, columns, header_row=FORM_HEADER_ROWS - 1)
        ws, last = sheet.ws, len(columns) - 1
        ws.repeat_rows(0, FORM_HEADER_ROWS - 1)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_row(0, 30)
        if last > 0:
            ws.merge_range(0, 0, 0, last, title, self.fmt("title"))
        else:
            ws.write_string(0, 0, cell_text(title), self.fmt("title"))
        half = max(1, len(columns) // 2)
        unit_text, date_text = f"填报单位：{unit}", f"填报日期：{filled_on:%Y-%m-%d}"
        if exported_by:
            date_text += f"　导出人：{exported_by}"
        if half > 1:
            ws.merge_range(1, 0, 1, half - 1, unit_text, self.fmt("line"))
        else:
            ws.write_string(1, 0, cell_text(unit_text), self.fmt("line"))
        if last > half:
            ws.merge_range(1, half, 1, last, date_text, self.fmt("line_right"))
        else:
            ws.write_string(1, half, cell_text(date_text), self.fmt("line_right"))
        sheet.write_header(FORM_HEADER_ROWS - 1)
        return sheet

    def table_sheet(self, name: str, *, columns: list[Column]) -> Sheet:
        """A file read back by a machine (an import template, an export that can be imported again):
        the header in row 1 and the data below it, nothing else."""
        sheet = Sheet(self, name, columns, header_row=0)
        sheet.write_header(0)
        return sheet

    def save(self) -> None:
        self.wb.close()
