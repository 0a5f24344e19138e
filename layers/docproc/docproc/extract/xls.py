"""Legacy Excel workbooks (.xls, BIFF 5-8, Excel 97-2003) through xlrd, their sheets written
as docproc.extract.sheets says.

xlrd maps the file (given its path) and builds one sheet's cells at a time (``on_demand``),
released before the next: memory follows the largest sheet, ~4x the file's bytes at most (a
12 MB workbook of one 480,000-cell sheet: 48 MB). Where the segment has a memory budget, a
workbook that would not fit is refused before it is read.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import xlrd

from docproc.errors import InvalidDocument
from docproc.extract.sheets import SheetTable, sheet_table

EXTRACTION_METHOD = "xlrd"
# Peak memory of reading a workbook per byte of the file, with a margin (see above).
MEMORY_FACTOR = 6
# What xlrd raises on a damaged workbook (XLRDError for what it recognises as wrong; the rest
# from its parsing of records and of the compound file around them).
_XLRD_ERRORS = (
    xlrd.XLRDError,
    xlrd.compdoc.CompDocError,
    struct.error,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AssertionError,
    UnicodeDecodeError,
    LookupError,
    OverflowError,
    ZeroDivisionError,
    OSError,
    EOFError,
)


def sheet_tables(
    path: Path, reserve: Callable[[float, str], None] | None = None
) -> Iterator[SheetTable]:
    """Each sheet of the workbook at ``path`` that holds a value, in the workbook's order
    (hidden ones too). ``reserve(mb, reading)`` (the segment's budget) is asked for the
    memory it needs before any of it is read."""
    if reserve is not None:
        size_mb = path.stat().st_size / 2**20
        reserve(size_mb * MEMORY_FACTOR, f"an XLS workbook of {size_mb:.0f} MB")
    try:
        book = xlrd.open_workbook(str(path), on_demand=True, logfile=_Silent())
    except _XLRD_ERRORS as exc:
        raise InvalidDocument(f"not a readable XLS workbook: {type(exc).__name__}") from exc
    try:
        for index in range(book.nsheets):
            try:
                sheet = book.sheet_by_index(index)
                table = sheet_table(index + 1, sheet.name, list(_values(sheet, book.datemode)))
            except _XLRD_ERRORS as exc:
                raise InvalidDocument(
                    f"sheet {index + 1} cannot be read: {type(exc).__name__}"
                ) from exc
            finally:
                book.unload_sheet(index)
            if table is not None:
                yield table
    finally:
        book.release_resources()


def _values(sheet: Any, datemode: int) -> Iterator[list[object]]:
    for row in range(sheet.nrows):
        yield [_value(cell, datemode) for cell in sheet.row(row)]


def _value(cell: Any, datemode: int) -> object:
    """A cell as the values openpyxl gives (dates as dates, booleans as booleans, an error as
    Excel shows it)."""
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment: datetime.datetime = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return cell.value  # not a date a calendar has: the number stored
        return moment.time() if moment.date() == datetime.date(1899, 12, 31) else moment
    return cell.value


class _Silent:
    """xlrd writes its warnings about a file's oddities to a log file: nowhere here (the
    content is not logged)."""

    def write(self, text: str) -> int:
        return len(text)
