"""Streaming readers: yield (Excel row number, cells) without holding the file in memory.

.xlsx: the first sheet through openpyxl's read-only mode (cells keep their types, so a
numeric ID cell can be told apart from a text one). .csv: UTF-8 (with or without BOM)
when the whole file decodes as UTF-8, otherwise GB18030 (what Excel on a Chinese Windows
writes; a superset of GBK).

Limits (settings IMPORT_MAX_*): the file's size, its data rows, and for .xlsx the sizes its
zip directory declares — checked before openpyxl inflates anything, since a few megabytes of
zip can declare gigabytes of XML (Python's zipfile never yields more than a member declares).
"""
from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass
from typing import Iterator
from zipfile import BadZipFile, ZipFile

from django.conf import settings


class FileError(Exception):
    """The file as a whole cannot be read (zh, en)."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh = zh
        self.en = en


@dataclass
class Source:
    header: list
    rows: Iterator[tuple[int, tuple]]
    progress: callable  # () -> fraction of the file read, 0..1
    all_text: bool = False  # every cell is a str (CSV), which allows the parser's fast paths
    utf8_csv: str | None = None  # the path of a UTF-8 CSV file, which PostgreSQL may COPY as it is


class _CountingReader(io.RawIOBase):
    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def check_file_size(size: int) -> None:
    limit = settings.IMPORT_MAX_FILE_BYTES
    if size > limit:
        raise FileError(f"文件过大：{_mb(size)}，超过上限 {_mb(limit)}；请按乡镇拆分成几个文件分别导入",
                        f"file too large: {_mb(size)}, the limit is {_mb(limit)}; split it by township")


def check_xlsx_expansion(path: str) -> None:
    """Refuse an .xlsx whose members would inflate past the limit or at a bomb's ratio."""
    try:
        with ZipFile(path) as archive:
            members = archive.infolist()
    except (BadZipFile, OSError):
        raise FileError("无法打开 Excel 文件（需要 .xlsx 格式）", "cannot open the Excel file (.xlsx needed)")
    total = sum(m.file_size for m in members)
    limit = settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES
    if total > limit:
        raise FileError(f"Excel 文件解压后达 {_mb(total)}，超过上限 {_mb(limit)}；请拆分后分别导入",
                        f"the workbook expands to {_mb(total)}, above the limit of {_mb(limit)}; split it")
    ratio = settings.IMPORT_MAX_XLSX_RATIO
    for m in members:
        # Small parts compress extremely well (empty styles); only a big one can be a bomb.
        if m.file_size > 1024 * 1024 and m.file_size > ratio * max(m.compress_size, 1):
            raise FileError(f"Excel 文件中的 {m.filename} 压缩比异常（{m.file_size // max(m.compress_size, 1)} 倍），"
                            f"不像正常的表格文件，已拒绝；请在 Excel 中重新另存为 .xlsx",
                            f"{m.filename} is compressed {m.file_size // max(m.compress_size, 1)} times, "
                            f"not a normal workbook; save it again from Excel")


def too_many_rows() -> FileError:
    limit = settings.IMPORT_MAX_ROWS
    return FileError(f"文件超过 {limit:,} 行数据的上限；请按乡镇拆分成几个文件分别导入",
                     f"the file has more than {limit:,} data rows; split it by township")


def _limited(rows: Iterator[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    limit = settings.IMPORT_MAX_ROWS
    for count, item in enumerate(rows, start=1):
        if count > limit:
            raise too_many_rows()
        yield item


def detect_encoding(path: str) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileError("无法识别文件编码；请另存为 UTF-8 或 GBK 编码的 CSV",
                            "unknown file encoding; save the CSV as UTF-8 or GBK")
    return "gb18030"


def _open_csv(path: str) -> Source:
    size = os.path.getsize(path) or 1
    encoding = detect_encoding(path)
    counter = _CountingReader(open(path, "rb", buffering=0))
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 20), encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise FileError("文件是空的", "the file is empty")
    except csv.Error as exc:
        text.close()
        raise FileError(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")

    def rows():
        try:
            # Excel's row number: a quoted cell spanning lines is still one row.
            yield from enumerate(reader, start=2)
        except csv.Error as exc:
            raise FileError(f"第 {reader.line_num} 行 CSV 格式错误：{exc}", f"row {reader.line_num}: malformed CSV: {exc}")
        finally:
            text.close()

    return Source(header, _limited(rows()), lambda: min(counter.count / size, 1.0), all_text=True,
                  utf8_csv=path if encoding == "utf-8-sig" else None)


def _open_xlsx(path: str) -> Source:
    from openpyxl import load_workbook

    check_xlsx_expansion(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError("无法打开 Excel 文件（需要 .xlsx 格式）", f"cannot open the Excel file (.xlsx needed): {exc}")
    ws = wb.worksheets[0]
    total = ws.max_row or 0
    if total - 1 > settings.IMPORT_MAX_ROWS:  # the sheet's declared dimension, when it has one
        wb.close()
        raise FileError(f"工作表有 {total - 1:,} 行数据，超过 {settings.IMPORT_MAX_ROWS:,} 行的上限；请按乡镇拆分后分别导入",
                        f"the sheet has {total - 1:,} data rows, above the limit of {settings.IMPORT_MAX_ROWS:,}")
    it = ws.iter_rows(values_only=True)
    state = {"row": 1}
    try:
        header = list(next(it))
    except StopIteration:
        wb.close()
        raise FileError("工作表是空的", "the first sheet is empty")

    def rows():
        try:
            for number, row in enumerate(it, start=2):
                state["row"] = number
                yield number, row
        finally:
            wb.close()

    return Source(header, _limited(rows()), lambda: min(state["row"] / total, 1.0) if total else 0.0)


def open_source(path: str, file_name: str) -> Source:
    ext = os.path.splitext(file_name.lower())[1]
    check_file_size(os.path.getsize(path))
    if ext == ".csv":
        return _open_csv(path)
    if ext in (".xlsx", ".xlsm"):
        return _open_xlsx(path)
    if ext == ".xls":
        raise FileError("不支持旧版 .xls 文件；请在 Excel 中另存为 .xlsx", "old .xls files are not supported; save as .xlsx")
    raise FileError("只支持 .xlsx 和 .csv 文件", "only .xlsx and .csv files are accepted")


