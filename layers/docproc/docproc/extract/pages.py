"""What page-based extractors share (the page ranges Plan cuts, the pages they hand to the
chunker, tables written as Markdown, which the chunker cuts between rows): light enough to
import without MuPDF or Pillow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How a page's text was obtained: its text layer, or OCR of its rendering.
PageMethod = Literal["text", "ocr"]
# auto: tables found on a page are written into its text as Markdown tables.
TablesMode = Literal["auto", "off"]


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
    method: PageMethod = "text"


@dataclass(frozen=True)
class PageRange:
    """Pages ``start..end``, 1-based and inclusive."""

    start: int
    end: int


def page_ranges(page_count: int, pages_per_segment: int) -> list[PageRange]:
    """Consecutive ranges of ``pages_per_segment`` pages; the last one may be shorter."""
    return [
        PageRange(start, min(start + pages_per_segment - 1, page_count))
        for start in range(1, page_count + 1, pages_per_segment)
    ]


def weighted_ranges(
    scanned: list[bool], pages_per_segment: int, scanned_per_segment: int
) -> list[PageRange]:
    """Consecutive ranges as long as they fit: a text page costs 1/``pages_per_segment`` of a
    segment, a scanned one (OCR, ~100x slower) 1/``scanned_per_segment``."""
    capacity = pages_per_segment * scanned_per_segment
    ranges: list[PageRange] = []
    start, load = 1, 0
    for number, is_scanned in enumerate(scanned, start=1):
        cost = pages_per_segment if is_scanned else scanned_per_segment
        if load + cost > capacity and number > start:
            ranges.append(PageRange(start, number - 1))
            start, load = number, 0
        load += cost
    if scanned:
        ranges.append(PageRange(start, len(scanned)))
    return ranges


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells (the header first, every row as wide) as a Markdown table."""
    lines = [markdown_row(rows[0]), markdown_rule(len(rows[0]))]
    lines.extend(markdown_row(row) for row in rows[1:])
    return "\n".join(lines)


def markdown_grid(rows: Sequence[Sequence[str]]) -> str:
    """A document's table (rows of cells, perhaps of unequal width) as Markdown, its first row
    the header, as PDF pages' tables and sheets are written: the chunker cuts it between rows,
    the header on every chunk. Empty rows are left out; "" if all are."""
    kept = [list(row) for row in rows if any(text.strip() for text in row)]
    if not kept:
        return ""
    width = max(len(row) for row in kept)
    return markdown_table([row + [""] * (width - len(row)) for row in kept])


def markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(markdown_cell(cell) for cell in cells) + " |"


def markdown_rule(columns: int) -> str:
    """The line under a Markdown table's header."""
    return "|" + " --- |" * columns


def markdown_cell(text: str) -> str:
    """A cell's text on one line, its pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


class Repeats:
    """A table's text repeated where its format spans or repeats a cell or a row (a DOCX's
    merged cells, an OpenDocument table's repeated rows), while the repeats add no more than
    the table's own text (and a little): a few bytes of XML can span or repeat a cell over
    thousands, which would be a bomb were its text made in each."""

    ALLOWED = 4096  # characters beyond the table's own

    def __init__(self) -> None:
        self.own = 0  # characters of the table's cells so far
        self._repeated = 0

    def of(self, text: str, copies: int) -> list[str]:
        """``copies`` of ``text``, or as many empty cells once the allowance is spent."""
        if self._repeated + len(text) * copies > self.own + self.ALLOWED:
            return [""] * copies
        self._repeated += len(text) * copies
        return [text] * copies

    def of_row(self, cells: list[str]) -> list[str] | None:
        """A copy of a row of ``cells``; None once the allowance is spent."""
        size = sum(map(len, cells))
        if self._repeated + size > self.own + self.ALLOWED:
            return None
        self._repeated += size
        return cells


@dataclass(frozen=True)
class GridCell:
    """A table cell as a Word table's grid has it: the columns it spans, whether it continues
    a merge begun above it or on its left (then its own text is not read), and its text, read
    only for a cell that begins one."""

    span: int
    continues: Literal["", "above", "left"]
    text: Callable[[], str]


# Word's own limit on a table's columns: a cell's span or a row's skipped columns beyond it
# are taken as it.
_WORD_MAX_COLUMNS = 63


def grid_columns(properties: Any, element: str, value: str) -> int:
    """The count of grid columns a Word table's row or cell properties give (``element``, a
    gridBefore or gridSpan in the format's namespace, its ``value`` attribute); 0 where unset,
    at most Word's limit."""
    if properties is None:
        return 0
    found = properties.find(element)
    count = found.get(value, "") if found is not None else ""
    return min(int(count), _WORD_MAX_COLUMNS) if count.isascii() and count.isdigit() else 0


def grid_rows(rows: Iterable[tuple[int, Iterable[GridCell]]]) -> list[list[str]]:
    """Rows of cells' text from rows of (grid columns skipped before the first cell, its
    cells): a merged cell's text in each column and row it spans, as Word shows it, while the
    repeats add no more than the table's own text (Repeats)."""
    table: list[list[str]] = []
    above: list[str] = []  # each column's text in the row above
    repeats = Repeats()
    for skipped, row in rows:
        cells = [""] * skipped
        for cell in row:
            if cell.continues == "above":
                text = above[len(cells)] if len(cells) < len(above) else ""
                cells.extend(repeats.of(text, cell.span))
            elif cell.continues == "left":
                cells.extend(repeats.of(cells[-1] if cells else "", cell.span))
            else:
                text = cell.text()
                repeats.own += len(text)
                cells.append(text)
                cells.extend(repeats.of(text, cell.span - 1))
        above = cells
        table.append(cells)
    return table


@dataclass
class Stories:
    """A word-processing document's text beside its body (DOCX, ODT): written after the body,
    each under its label, in the order a Word 97-2003 document stores them
    (docproc.extract.doc), so that every such document reads alike."""

    footnotes: list[str] = field(default_factory=list)
    headers_and_footers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    endnotes: list[str] = field(default_factory=list)
    text_boxes: list[str] = field(default_factory=list)
    header_text_boxes: list[str] = field(default_factory=list)

    def after(self, body: list[str]) -> str:
        """``body``'s blocks, then each story with text under its label (`Footnotes:`)."""
        labelled = [
            ("Footnotes", self.footnotes),
            ("Headers and footers", self.headers_and_footers),
            ("Comments", self.comments),
            ("Endnotes", self.endnotes),
            ("Text boxes", self.text_boxes),
            ("Header text boxes", self.header_text_boxes),
        ]
        stories = [f"{label}:\n" + "\n".join(texts) for label, texts in labelled if texts]
        return "\n\n".join([*body, *stories])


def distinct_lines(blocks: Iterable[str]) -> list[str]:
    """Each line of ``blocks`` with text, once, in order: a document's headers and footers
    (sections and first, odd and even pages repeat "Confidential", a case number)."""
    return list(
        dict.fromkeys(line for block in blocks for line in block.split("\n") if line.strip())
    )
