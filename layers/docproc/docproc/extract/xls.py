"""Legacy Excel workbooks (.xls, BIFF 5-8, Excel 97-2003) through xlrd, their sheets written
as docproc.extract.sheets says.

xlrd maps the file (given its path) and builds one sheet's cells at a time (``on_demand``),
released before the next: memory follows the largest sheet, ~4x the file's bytes at most (a
12 MB workbook of one 480,000-cell sheet: 48 MB). Where the segment has a memory budget, a
workbook that would not fit is refused before it is read. The objects a sheet embeds are read
after its table, each as its kind of file (docproc.extract.included).
"""

from __future__ import annotations

import datetime
import functools
import struct
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlrd

from docproc.errors import InvalidDocument
from docproc.extract.sheets import SheetTable, sheet_table
from docproc.extract.sniff import OLE_ERRORS

if TYPE_CHECKING:
    import olefile

    from docproc.extract.included import IncludedFiles

EXTRACTION_METHOD = "xlrd"
# Peak memory of reading a workbook per byte of the file, with a margin (see above).
MEMORY_FACTOR = 6
# BIFF8 records (BOUNDSHEET: a sheet's name and place; OBJ: a drawn object; EOF) and the OBJ's
# subrecords ([MS-XLS] 2.4.181: ftPictFmla, then the end); where an embedded object is kept.
_BOUNDSHEET, _OBJ, _EOF = 0x0085, 0x005D, 0x000A
_FT_END, _FT_PICTURE_FORMULA = 0x0000, 0x0009
_OBJECT_STORAGE = "MBD"
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
    RecursionError,  # its compound file's directory walked around a loop (olefile stops)
)


def sheet_tables(
    path: Path, reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> Iterator[SheetTable]:
    """Each sheet of the workbook at ``path`` that holds a value, in the workbook's order
    (hidden ones too), then the text of each object it embeds (under the sheet's name, on its
    number). ``reserve(mb, reading)`` (the segment's budget) is asked for the memory it needs
    before any of it is read; ``depth``: how deep in other files the workbook lies."""
    if reserve is not None:
        size_mb = path.stat().st_size / 2**20
        reserve(size_mb * MEMORY_FACTOR, f"an XLS workbook of {size_mb:.0f} MB")
    try:
        book = xlrd.open_workbook(str(path), on_demand=True, logfile=_Silent())
    except _XLRD_ERRORS as exc:
        raise InvalidDocument(f"not a readable XLS workbook: {type(exc).__name__}") from exc
    with ExitStack() as stack:
        stack.callback(book.release_resources)
        objects = stack.enter_context(_EmbeddedObjects.opened(path, reserve, depth))
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
            for text in objects.texts(sheet.name):
                yield SheetTable(index + 1, f"Sheet: {sheet.name}", iter(text.splitlines()))


class _EmbeddedObjects:
    """The objects a workbook's sheets embed: each in a storage of the file named "MBD" and 8
    hexadecimal digits, which an OBJ record among the sheet's records names (its ftPictFmla's
    lPosInCtlStm, as Excel writes it), read as the files they are (docproc.extract.included).
    Where the records cannot be walked, none is read."""

    def __init__(
        self,
        ole: olefile.OleFileIO | None,
        by_sheet: dict[str, list[str]],
        files: IncludedFiles | None,
    ) -> None:
        self._ole, self._by_sheet, self._files = ole, by_sheet, files

    @classmethod
    @contextmanager
    def opened(
        cls, path: Path, reserve: Callable[[float, str], None] | None, depth: int
    ) -> Iterator[_EmbeddedObjects]:
        import olefile  # only for compound files

        try:
            ole = olefile.OleFileIO(str(path))
        except OLE_ERRORS:
            yield cls(None, {}, None)
            return
        with ole:
            try:
                storages = {
                    entry[0]
                    for entry in ole.listdir(streams=False, storages=True)
                    if len(entry) == 1 and entry[0].startswith(_OBJECT_STORAGE)
                }
                by_sheet = _objects_by_sheet(ole, storages) if storages else {}
            except OLE_ERRORS:
                by_sheet = {}
            files = None
            if by_sheet:  # (imported only for a workbook with objects)
                from docproc.extract.included import Allowance, IncludedFiles

                files = IncludedFiles(reserve, depth, Allowance.whole())
            yield cls(ole, by_sheet, files)

    def texts(self, sheet: str) -> Iterator[str]:
        """The text of each object the sheet named ``sheet`` embeds that has any."""
        from docproc.extract.compound import storage_file, storage_size

        ole = self._ole
        for storage in self._by_sheet.get(sheet, []):
            assert ole is not None and self._files is not None  # (only one it opened has any)
            read = functools.partial(storage_file, ole, storage)
            text = self._files.text(storage, storage_size(ole, storage), read)
            if text:
                yield text


def _objects_by_sheet(ole: olefile.OleFileIO, storages: set[str]) -> dict[str, list[str]]:
    """The object storages (of ``storages``) each sheet's OBJ records name, by the sheet's
    name: the workbook's records walked from its BOUNDSHEET records to each sheet's."""
    stream = "Workbook" if ole.exists("Workbook") else "Book"
    records = ole.openstream(stream).read()
    sheets: list[tuple[str, int]] = []
    at = 0
    while at + 4 <= len(records):
        kind, size = struct.unpack_from("<HH", records, at)
        if kind == _BOUNDSHEET and size >= 8:
            (position,) = struct.unpack_from("<I", records, at + 4)
            sheets.append((_sheet_name(records[at + 10 : at + 4 + size]), position))
        elif kind == _EOF:
            break  # the workbook's globals end where the sheets begin
        at += 4 + size
    found: dict[str, list[str]] = {}
    for name, position in sheets:
        at = position
        while at + 4 <= len(records):
            kind, size = struct.unpack_from("<HH", records, at)
            if kind == _OBJ:
                storage = _object_storage(records[at + 4 : at + 4 + size])
                if storage in storages:
                    found.setdefault(name, []).append(storage)
            elif kind == _EOF:
                break
            at += 4 + size
    return found


def _sheet_name(data: bytes) -> str:
    """A BOUNDSHEET's name: a ShortXLUnicodeString (its length, a flag, the characters)."""
    if len(data) < 2:
        return ""
    length, wide = data[0], data[1] & 1
    raw = data[2 : 2 + length * (2 if wide else 1)]
    return raw.decode("utf-16-le" if wide else "latin-1", errors="replace")


def _object_storage(data: bytes) -> str | None:
    """The storage an OBJ record's object is kept in: its subrecords walked to ftPictFmla,
    whose formula is followed by lPosInCtlStm."""
    at = 0
    while at + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, at)
        if kind == _FT_END:
            return None
        if kind == _FT_PICTURE_FORMULA and size >= 2:
            (formula,) = struct.unpack_from("<H", data, at + 4)
            key_at = at + 6 + formula
            if key_at + 4 > len(data):
                return None
            return f"{_OBJECT_STORAGE}{struct.unpack_from('<I', data, key_at)[0]:08X}"
        at += 4 + size
    return None


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
