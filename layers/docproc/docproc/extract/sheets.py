"""A workbook's sheets as docproc writes them, whichever reader took them from the file
(docproc.extract.xlsx, docproc.extract.xls): a sheet with values is its name over a Markdown
table of its rows (its first row with a value as the header), which the chunker groups rows
of whole, the name and the header on every chunk, as it does a CSV's. Light to import.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from docproc.extract.pages import markdown_row, markdown_rule


@dataclass(frozen=True)
class SheetTable:
    """A sheet with values: its number in the workbook (from 1), the lines that head each of
    its chunks (its name, its first row and the rule under it), and its other rows, a
    Markdown line each, read from the file as they are taken (once)."""

    number: int
    header: str
    rows: Iterator[str]

    def text(self) -> str:
        """All of it (taking the rows)."""
        return "\n".join([self.header, *self.rows])


def sheet_table(number: int, title: str, rows: Iterable[Iterable[object]]) -> SheetTable | None:
    """Sheet ``number`` named ``title`` from its rows of values (None, str, numbers, booleans,
    dates and times), read as they are taken; None for a sheet without a value."""
    texts = (cells for cells in map(_cells, rows) if cells)
    first = next(texts, None)
    if first is None:
        return None
    name = f"Sheet: {title}"
    header = [markdown_row(first), markdown_rule(len(first))]
    body = (markdown_row(cells) for cells in texts)
    second = next(body, None)
    if second is None:
        # One row: it is the sheet's text, under its name.
        return SheetTable(number, name, iter(header))
    # Rows keep their own width (a sheet's is known only once it is all read): a row
    # shorter than the header lacks its empty last cells.
    return SheetTable(number, "\n".join([name, *header]), itertools.chain([second], body))


def _cells(values: Iterable[object]) -> list[str]:
    """A row's cells as text, without its empty last ones."""
    cells = [cell_text(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def cell_text(value: object) -> str:
    """A value as the sheet shows it, near enough: whole numbers without a decimal point,
    dates without a midnight, booleans as spreadsheets write them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
