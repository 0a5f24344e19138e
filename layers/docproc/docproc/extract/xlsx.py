"""Spreadsheets (XLSX, XLSM) through openpyxl's read-only mode, their sheets written as
docproc.extract.sheets says.

Read-only mode streams a sheet's rows from its XML (through ranged reads of the upload, as a
DOCX is read) instead of building the workbook, and rows are written out as the chunker asks
for them: openpyxl read the 90 MB of sheet XML of a 10 MB workbook of 200,000 rows at a 62 MB
peak, and `docproc ingest` of it peaked where that of a CSV of the same rows does.
What it holds whole is the table of shared strings. Where the segment has a memory budget, a
workbook whose XML would not fit is refused before it is read. Values are what the sheet last showed
(a formula's cached result; none if no spreadsheet program ever computed it). The objects a
sheet embeds (OLE objects, Office packages, by the sheet's relationships) are read after its
table, each as its kind of file (docproc.extract.included).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import openpyxl
from lxml import etree
from openpyxl.utils.exceptions import InvalidFileException

from docproc.errors import InvalidDocument
from docproc.extract.included import Allowance, IncludedParts
from docproc.extract.packages import PACKAGE_ERRORS, xml_megabytes
from docproc.extract.sheets import SheetTable, sheet_table
from docproc.extract.xml_streams import PARSER_OPTIONS
from docproc.observability import logger

EXTRACTION_METHOD = "openpyxl"
# Peak memory of reading a workbook per byte of its XML, with a margin: rows are streamed,
# but a sheet's text and its chunks are held (measured: 62 MB reading 90 MB of sheet XML;
# the sheet's Markdown is about a third of its XML).
XML_MEMORY_FACTOR = 2
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
# What a sheet embeds: an OLE object (a .bin: a file packaged as an icon, a legacy document),
# an Office package (a DOCX, an XLSX).
_EMBEDDED = {
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package",
}
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
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None = None,
    depth: int = 0,
) -> Iterator[SheetTable]:
    """Each sheet of the workbook ``source`` (a path or a seekable file) that holds a value,
    in the workbook's order (hidden sheets too: what a reader may not see is still in the
    file), then the text of each object it embeds (under the sheet's name, on its number).
    ``reserve(mb, reading)`` (the segment's budget) is asked for the memory its XML needs
    before any sheet is read; ``depth``: how deep in other files the workbook lies."""
    with ExitStack() as stack:
        try:
            package = stack.enter_context(zipfile.ZipFile(source))
            if reserve is not None:
                xml_mb = xml_megabytes(package)
                reserve(xml_mb * XML_MEMORY_FACTOR, f"a workbook of {xml_mb:.0f} MB of XML")
            workbook = openpyxl.load_workbook(
                source, read_only=True, data_only=True, keep_links=False
            )
            stack.callback(workbook.close)
        except _OPENPYXL_ERRORS as exc:
            raise InvalidDocument(f"not a readable workbook: {type(exc).__name__}") from exc
        try:
            objects = _sheet_objects(package)
        except PACKAGE_ERRORS as exc:
            # What names the objects is damaged: the sheets are read, no object.
            logger.warning(
                "a workbook's objects are not read", extra={"reason": type(exc).__name__}
            )
            objects = {}
        embedded = IncludedParts(package, reserve, depth, Allowance.whole())
        for number, sheet in enumerate(workbook.worksheets, start=1):
            try:
                table = _sheet_table(number, sheet)
            except _OPENPYXL_ERRORS as exc:
                raise InvalidDocument(
                    f"sheet {number} cannot be read: {type(exc).__name__}"
                ) from exc
            if table is not None:
                yield table
            for part in objects.get(sheet.title, []):
                text = embedded.text(part)
                if text:
                    yield SheetTable(number, f"Sheet: {sheet.title}", iter(text.splitlines()))


def _sheet_objects(package: zipfile.ZipFile) -> dict[str, list[str]]:
    """The parts each worksheet embeds (the OLE objects and Office packages its relationships
    name), by the sheet's name, in their order. Raises PACKAGE_ERRORS for a damaged package
    (XML not well formed among them)."""
    names = set(package.namelist())
    books = _related(package, "", names, {_OFFICE_DOCUMENT})
    if not books:
        return {}
    sheets = _related_by_id(package, books[0], names)
    found: dict[str, list[str]] = {}
    workbook = etree.fromstring(package.read(books[0]), etree.XMLParser(**PARSER_OPTIONS))
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        part = sheets.get(sheet.get(_R_ID, ""))
        if part is not None and part[1] in names:
            found[sheet.get("name", "")] = _related(package, part[1], names, _EMBEDDED)
    return found


def _related(package: zipfile.ZipFile, part: str, names: set[str], kinds: set[str]) -> list[str]:
    """The members of the package that ``part`` ("" for the package itself) relates to by
    relationships of ``kinds``, in their order."""
    return [
        target
        for kind, target in _related_by_id(package, part, names).values()
        if kind in kinds and target in names
    ]


def _related_by_id(
    package: zipfile.ZipFile, part: str, names: set[str]
) -> dict[str, tuple[str, str]]:
    """The relationships of ``part`` (in its ``_rels`` part): id -> (type, the member it
    names, resolved from the part's folder, or the package's root where it begins with /)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in names:
        return {}
    found = {}
    parsed = etree.fromstring(package.read(rels), etree.XMLParser(**PARSER_OPTIONS))
    for relationship in parsed.iter(f"{_RELATIONSHIPS}Relationship"):
        target = relationship.get("Target", "")
        if relationship.get("TargetMode") == "External" or not target:
            continue
        member = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        found[relationship.get("Id", "")] = (
            relationship.get("Type", ""),
            posixpath.normpath(member),
        )
    return found


def _sheet_table(number: int, sheet: Any) -> SheetTable | None:
    # The dimension a sheet states may be wrong (files written by other programs): its rows
    # are read as its XML has them.
    sheet.reset_dimensions()
    return sheet_table(number, sheet.title, sheet.iter_rows(values_only=True))
