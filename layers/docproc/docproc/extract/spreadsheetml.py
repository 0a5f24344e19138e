"""Excel 2003 XML (SpreadsheetML 2003: Excel's "XML Spreadsheet 2003", and what reporting and
export tools still write, often named ``.xls``): one XML document, its root ``Workbook``. Its
sheets as docproc writes every workbook's (docproc.extract.sheets), hidden ones too, each
cell's value as its type says (``ss:Data``: a number, a date and time, a boolean, text, rich
text as its words), its place as the file says (``ss:Index`` skips cells, ``ss:MergeAcross``
spans them).

Rows are read from one stream of the XML as they are taken and let go once read, as an ODS's
are (docproc.extract.opendocument).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from docproc.errors import InvalidDocument
from docproc.extract.sheets import SheetTable, sheet_table
from docproc.extract.xml_streams import PARSER_OPTIONS, let_go, opened_within

EXTRACTION_METHOD = "spreadsheetml"
# Peak memory of reading one per byte of the file, with a margin: rows are streamed, a sheet's
# text is held (measured: 1.45x a workbook of long cells of text beyond Latin-1, its sheets'
# text joined whole).
MEMORY_FACTOR = 2

_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_WORKBOOK, _WORKSHEET, _ROW, _CELL, _DATA = (
    _SS + "Workbook",
    _SS + "Worksheet",
    _SS + "Row",
    _SS + "Cell",
    _SS + "Data",
)
# Excel's limit on a sheet's columns: an index or a span beyond it is taken as it.
_MAX_COLUMNS = 16_384


def sheet_tables(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None
) -> Iterator[SheetTable]:
    """Each sheet of the workbook ``source`` (a path or a seekable file) that holds a value,
    in order, its rows read as they are taken: a sheet's rows not taken when the next sheet is
    are passed over. ``reserve(mb, reading)`` (the segment's budget) is asked first for
    MEMORY_FACTOR times its size."""
    with opened_within(source, reserve, MEMORY_FACTOR, "an Excel 2003 XML workbook") as stream:
        events = etree.iterparse(
            stream, events=("start", "end"), tag=(_WORKSHEET, _ROW), **PARSER_OPTIONS
        )
        number = 0
        with _typed():
            for event, element in events:
                parent = element.getparent()
                if event != "start" or element.tag != _WORKSHEET or parent is None:
                    continue
                if parent.tag != _WORKBOOK:
                    raise InvalidDocument("not an Excel 2003 XML workbook: a sheet outside one")
                number += 1
                rows = _rows(events, element)
                name = element.get(_SS + "Name") or str(number)
                table = sheet_table(number, name, rows)
                if table is not None:
                    yield table
                for _ in rows:  # what the reader of the sheet left
                    pass
            if events.root.tag != _WORKBOOK:
                raise InvalidDocument("not an Excel 2003 XML workbook: its root is another")


def _rows(events: Any, sheet: Any) -> Iterator[list[object]]:
    """The values of each row of ``sheet`` as the stream of ``events`` reaches its end."""
    with _typed():
        for event, element in events:
            if event == "end" and element is sheet:
                let_go(sheet)
                return
            if event == "end" and element.tag == _ROW:
                yield _values(element)
                let_go(element)


def _values(row: Any) -> list[object]:
    values: list[object] = []
    for cell in row.iterchildren(_CELL):
        index = _number(cell.get(_SS + "Index"))
        if index is not None and len(values) < index - 1:
            values.extend([None] * (index - 1 - len(values)))
        data = cell.find(_DATA)
        values.append(_value(data) if data is not None else None)
        across = _number(cell.get(_SS + "MergeAcross")) or 0
        values.extend([None] * min(across, _MAX_COLUMNS - len(values)))
        if len(values) >= _MAX_COLUMNS:
            break
    return values


def _value(data: Any) -> object:
    """A cell's value as its type says; its text where it is not that type."""
    text = "".join(data.itertext())  # (rich text: its words, without their markup)
    kind = data.get(_SS + "Type")
    try:
        if kind == "Number":
            return float(text)
        if kind == "DateTime":
            return datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if kind == "Boolean" and text.strip() in ("0", "1"):
        return text.strip() == "1"
    return text


def _number(value: str | None) -> int | None:
    """A positive whole number an attribute gives, at most _MAX_COLUMNS; None otherwise."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return min(int(value), _MAX_COLUMNS) or None


class _typed:
    """lxml's error on XML not well formed, as InvalidDocument."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, _: object) -> None:
        if isinstance(error, etree.XMLSyntaxError):
            raise InvalidDocument(f"not a readable Excel 2003 XML workbook: {error}") from error
