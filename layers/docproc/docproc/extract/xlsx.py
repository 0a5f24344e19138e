"""Spreadsheets (XLSX, XLSM) through openpyxl's read-only mode, their sheets written as
docproc.extract.sheets says.

Read-only mode streams a sheet's rows from its XML (through ranged reads of the upload, as a
DOCX is read) instead of building the workbook, and rows are written out as the chunker asks
for them: openpyxl read the 90 MB of sheet XML of a 10 MB workbook of 200,000 rows at a 62 MB
peak, and `docproc ingest` of it peaked where that of a CSV of the same rows does.
What it holds whole is the table of shared strings. Where the segment has a memory budget, a
workbook whose XML would not fit is refused before it is read. Values are what the sheet last showed
(a formula's cached result; none if no spreadsheet program ever computed it).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from docproc.errors import InvalidDocument
from docproc.extract.packages import PACKAGE_ERRORS, xml_megabytes
from docproc.extract.sheets import SheetTable, sheet_table

EXTRACTION_METHOD = "openpyxl"
# Peak memory of reading a workbook per byte of its XML, with a margin: rows are streamed,
# but a sheet's text and its chunks are held (measured: 62 MB reading 90 MB of sheet XML;
# the sheet's Markdown is about a third of its XML).
XML_MEMORY_FACTOR = 2
# What openpyxl raises on a damaged workbook, beside what any package's reader may.
_OPENPYXL_ERRORS = (
    InvalidFileException,
    TypeError,
    IndexError,
    AttributeError,
    OSError,
    *PACKAGE_ERRORS,
)


def sheet_tables(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None
) -> Iterator[SheetTable]:
    """Each sheet of the workbook ``source`` (a path or a seekable file) that holds a value,
    in the workbook's order (hidden sheets too: what a reader may not see is still in the
    file). ``reserve(mb, reading)`` (the segment's budget) is asked for the memory its XML
    needs before any sheet is read."""
    try:
        if reserve is not None:
            with zipfile.ZipFile(source) as package:
                xml_mb = xml_megabytes(package)
            reserve(xml_mb * XML_MEMORY_FACTOR, f"a workbook of {xml_mb:.0f} MB of XML")
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True, keep_links=False)
    except _OPENPYXL_ERRORS as exc:
        raise InvalidDocument(f"not a readable workbook: {type(exc).__name__}") from exc
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            try:
                table = _sheet_table(number, sheet)
            except _OPENPYXL_ERRORS as exc:
                raise InvalidDocument(
                    f"sheet {number} cannot be read: {type(exc).__name__}"
                ) from exc
            if table is not None:
                yield table
    finally:
        workbook.close()


def _sheet_table(number: int, sheet: Any) -> SheetTable | None:
    # The dimension a sheet states may be wrong (files written by other programs): its rows
    # are read as its XML has them.
    sheet.reset_dimensions()
    return sheet_table(number, sheet.title, sheet.iter_rows(values_only=True))
