"""Tables on a PDF page, kept as tables: found, and written into the page's text as Markdown
(header row first) where the table stands.

Ruled tables (cells drawn with lines) come from PyMuPDF's ``find_tables``; borderless ones
(columns aligned by whitespace alone) from the positions of the page's words, which
``find_tables``' text strategy reads poorly (it cuts words and merges columns). Detection costs
tens of milliseconds a page, so it runs only on pages whose plain text looks like what a table
extracts as: a run of short lines (MuPDF gives each cell a line of its own).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pymupdf

from docproc.extract.pages import markdown_table

# The cheap look first: this many consecutive lines of at most this many characters.
_SHORT_LINE = 40
_SHORT_RUN = 6
# A borderless table: at least this many rows of at least two columns, and cells this short
# (in words, median): prose set in two columns has lines, not cells.
_MIN_ROWS = 3
_MAX_CELL_WORDS = 5

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Table:
    bbox: Box
    # The header first; every row as wide as the widest (missing cells are empty).
    rows: tuple[tuple[str, ...], ...]

    @property
    def columns(self) -> int:
        return len(self.rows[0])

    def markdown(self, header: tuple[str, ...] | None = None) -> str:
        """The table as Markdown; ``header`` heads it instead of its first row (a table
        continued from the previous page, whose rows are all body)."""
        return markdown_table([header, *self.rows] if header else list(self.rows))


def _grid(rows: Sequence[Sequence[str | None]]) -> tuple[tuple[str, ...], ...]:
    """Cells on one line each, every row as wide (escaped once, when written as Markdown:
    escaped here too, a pipe in a cell came out as a backslash and a column's end)."""
    width = max(len(row) for row in rows)
    return tuple(
        tuple(" ".join((cell or "").split()) for cell in row) + ("",) * (width - len(row))
        for row in rows
    )


def may_hold_table(text: str) -> bool:
    """The cheap look: a run of short lines."""
    run = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and len(stripped) <= _SHORT_LINE:
            run += 1
            if run >= _SHORT_RUN:
                return True
        else:
            run = 0
    return False


def find_tables(page: pymupdf.Page) -> list[Table]:
    """The page's tables, top to bottom."""
    ruled = list(_ruled(page))
    borderless = list(_borderless(page, [table.bbox for table in ruled]))
    return sorted([*ruled, *borderless], key=lambda table: (table.bbox[1], table.bbox[0]))


def _ruled(page: pymupdf.Page) -> Iterator[Table]:
    if not page.get_cdrawings():
        return
    for found in page.find_tables(strategy="lines").tables:
        rows = found.extract()
        if found.header.external:
            rows = [found.header.names, *rows]
        rows = [row for row in rows if any(cell for cell in row)]
        if len(rows) >= 2 and max(len(row) for row in rows) >= 2:
            yield Table(tuple(found.bbox), _grid(rows))


@dataclass
class _Line:
    """Words on one visual line, split into cells at gaps wider than the line is tall."""

    box: list[float]
    words: list[tuple[float, float, str]]

    def cells(self) -> list[tuple[float, float, str]]:
        height = self.box[3] - self.box[1]
        cells: list[tuple[float, float, str]] = []
        for x0, x1, word in sorted(self.words):
            if cells and x0 - cells[-1][1] <= height:
                start, _, text = cells[-1]
                cells[-1] = (start, x1, f"{text} {word}")
            else:
                cells.append((x0, x1, word))
        return cells


def _visual_lines(words: list[tuple[float, float, float, float, str]]) -> list[_Line]:
    lines: list[_Line] = []
    for x0, y0, x1, y1, word in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        middle = (y0 + y1) / 2
        if lines and abs(middle - (lines[-1].box[1] + lines[-1].box[3]) / 2) <= (y1 - y0) / 2:
            line = lines[-1]
            line.box = [
                min(line.box[0], x0),
                min(line.box[1], y0),
                max(line.box[2], x1),
                max(line.box[3], y1),
            ]
            line.words.append((x0, x1, word))
        else:
            lines.append(_Line([x0, y0, x1, y1], [(x0, x1, word)]))
    return lines


def _borderless(page: pymupdf.Page, ruled: list[Box]) -> Iterator[Table]:
    words = [
        (x0, y0, x1, y1, word)
        for x0, y0, x1, y1, word, *_ in page.get_text("words")
        if not any(_inside((x0, y0, x1, y1), box) for box in ruled)
    ]
    run: list[_Line] = []
    for line in [*_visual_lines(words), None]:
        if line is not None and len(line.cells()) >= 2 and _follows(run, line):
            run.append(line)
            continue
        if line is not None and len(line.cells()) >= 2:
            # A multi-cell line after a gap or prose: it may head the next table.
            table, run = _table(run), [line]
        else:
            table, run = _table(run), []
        if table is not None:
            yield table


def _follows(run: list[_Line], line: _Line) -> bool:
    if not run:
        return True
    previous = run[-1]
    return line.box[1] - previous.box[3] <= 1.5 * (line.box[3] - line.box[1])


def _table(run: list[_Line]) -> Table | None:
    if len(run) < _MIN_ROWS:
        return None
    cells = [line.cells() for line in run]
    words = [len(text.split()) for row in cells for _, _, text in row]
    if statistics.median(words) > _MAX_CELL_WORDS:
        return None
    # Columns from the body (the header may have cells spanning several): the union of the
    # body cells' horizontal extents.
    spans = sorted((x0, x1) for row in cells[1:] for x0, x1, _ in row)
    columns: list[list[float]] = []
    for x0, x1 in spans:
        if columns and x0 <= columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    if len(columns) < 2:
        return None
    rows = []
    for row in cells:
        grid = [""] * len(columns)
        for x0, x1, text in row:
            # A cell goes to the first column it overlaps (a spanning header cell: its first).
            index = next(
                (i for i, (c0, c1) in enumerate(columns) if x0 < c1 and x1 > c0),
                min(range(len(columns)), key=lambda i: abs(columns[i][0] - x0)),
            )
            grid[index] = f"{grid[index]} {text}".strip()
        rows.append(grid)
    box = (
        min(line.box[0] for line in run),
        min(line.box[1] for line in run),
        max(line.box[2] for line in run),
        max(line.box[3] for line in run),
    )
    return Table(box, _grid(rows))


def _inside(word: Box, box: Box) -> bool:
    middle_x, middle_y = (word[0] + word[2]) / 2, (word[1] + word[3]) / 2
    return box[0] <= middle_x <= box[2] and box[1] <= middle_y <= box[3]


def text_with_tables(
    page: pymupdf.Page, tables: list[Table], continued: Table | None
) -> tuple[str, Table | None]:
    """The page's text with each table's blocks replaced by the table in Markdown, set apart
    by blank lines; and the table the page ends with, if it does.

    ``continued``: the table the previous page ended with. A table that opens this page with
    as many columns continues it: the previous part's header heads it too (once, if the page
    repeats it)."""
    parts: list[str] = []
    placed: set[int] = set()
    ends_with: Table | None = None
    for x0, y0, x1, y1, text, _number, kind in page.get_text("blocks"):
        if kind != 0:
            continue  # an image block
        owner = next(
            (i for i, table in enumerate(tables) if _inside((x0, y0, x1, y1), table.bbox)), None
        )
        if owner is None:
            parts.append(text.rstrip("\n"))
            ends_with = None
        elif owner not in placed:
            placed.add(owner)
            opening = continued if not parts else None
            parts.append(_markdown(tables[owner], opening))
            ends_with = _continuing(tables[owner], opening)
    for index, table in enumerate(tables):
        if index not in placed:
            parts.append(_markdown(table, None))
            ends_with = table
    return "\n".join(parts), ends_with


def _continues(table: Table, previous: Table | None) -> bool:
    return previous is not None and previous.columns == table.columns


def _continuing(table: Table, previous: Table | None) -> Table:
    """What a table on the next page would continue: this one, under its first part's header."""
    if _continues(table, previous) and previous is not None and table.rows[0] != previous.rows[0]:
        return Table(table.bbox, (previous.rows[0], *table.rows))
    return table


def _markdown(table: Table, previous: Table | None) -> str:
    if _continues(table, previous) and previous is not None and table.rows[0] != previous.rows[0]:
        return "\n" + table.markdown(previous.rows[0]) + "\n"
    return "\n" + table.markdown() + "\n"
