"""OpenDocument files (ISO/IEC 26300: LibreOffice's, and what public bodies publish in): text
documents (ODT), spreadsheets (ODS) and presentations (ODP), read as their Office counterparts
are. Each is a ZIP of XML parts; the text is in ``content.xml`` (and the headers and footers
of a text document in ``styles.xml``), read with lxml, which parses no entities and reaches for
no network.

- A text document reads as a DOCX does (docproc.extract.docx): paragraphs, headings, lists and
  tables (Markdown) in order; changes tracked read as accepted (a deletion is kept apart, in
  the document's list of changes, which is not read); then footnotes, headers and footers,
  comments, endnotes and text boxes, each under its label. Its XML is parsed whole.
- A spreadsheet's sheets are written as an XLSX's are (docproc.extract.sheets), each cell as
  the sheet displays it, its rows streamed: parsed a row at a time and let go.
- A presentation's slides are pages, as a PPTX's are: the title, then the shapes from top to
  bottom and left to right, then the speaker notes. Parsed a slide at a time.

A flat OpenDocument file (``.fodt``, ``.fods``, ``.fodp``: one XML document holding what a
package's ``content.xml`` and ``styles.xml`` hold) is read the same way, its pictures (base64 in
``office:binary-data``) left out of its bytes before they are parsed.

An OLE object a document shows (a frame's ``draw:object-ole``: a compound file in the package,
as LibreOffice keeps Office's objects) is read as the file it is (docproc.extract.included):
after its paragraph, after its sheet's table, where its frame stands on its slide. A chart of
ODF's own (``draw:object``: a folder with its content.xml) is a table of its figures there.

Where a format repeats a row or a cell (a spreadsheet's last row, empty, repeated to the
sheet's millionth), empty ones are counted, not made, and the repeats of one with text add no
more than the table's own text (as a DOCX's merged cells). A file encrypted with a password
is EncryptedDocument.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from lxml import etree

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.included import Allowance, IncludedParts
from docproc.extract.packages import PACKAGE_ERRORS
from docproc.extract.pages import PageText, Repeats, Stories, distinct_lines, markdown_grid
from docproc.extract.sheets import SheetTable, sheet_table
from docproc.extract.xml_streams import PARSER_OPTIONS, WithoutBinaryData, let_go
from docproc.observability import logger

EXTRACTION_METHOD = "opendocument"
# Peak memory per byte of XML: a text document's is parsed whole (as a DOCX's), a
# spreadsheet's and a presentation's a row or a slide at a time (as an XLSX's rows).
TEXT_MEMORY_FACTOR = 10
STREAMED_MEMORY_FACTOR = 2

_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
_MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
_XLINK = "{http://www.w3.org/1999/xlink}"
# An OLE object a frame shows (a workbook, a document, a file packaged as an icon): its
# compound file is the package's member its href names. An object of ODF's own (a chart):
# its href names a folder of the package holding its content.xml.
_OLE_OBJECT, _OBJECT = _DRAW + "object-ole", _DRAW + "object"
_OBJECTS = {_OLE_OBJECT, _OBJECT}
_CHART = "{urn:oasis:names:tc:opendocument:xmlns:chart:1.0}"

_PARAGRAPHS = {_TEXT + "p", _TEXT + "h"}
_TABLE_ELEMENT = _TABLE + "table"
_ROW = _TABLE + "table-row"
_CELLS = {_TABLE + "table-cell", _TABLE + "covered-table-cell"}
_COVERED = _TABLE + "covered-table-cell"
# What holds a table's rows: its header rows, row groups, rows.
_ROW_GROUPS = {_TABLE + "table-header-rows", _TABLE + "table-rows", _TABLE + "table-row-group"}
# Blocks left out: the list of changes tracked (where deleted text is kept), declarations,
# forms, and the templates an index is made from (an index's own text, its body, is read).
_LEFT_OUT_BLOCKS = {
    _TEXT + "tracked-changes",
    _TEXT + "sequence-decls",
    _TEXT + "variable-decls",
    _TEXT + "user-field-decls",
    _TEXT + "dde-connection-decls",
    _OFFICE + "forms",
    _TABLE + "table-columns",
    _TABLE + "table-column",
    _TABLE + "table-header-columns",
}
# Within a paragraph: a note's mark, an annotation's end, a ruby's reading, and the marks of
# changes, bookmarks and references (no text of their own) are left out.
_LEFT_OUT_INLINE = {
    _TEXT + "note-citation",
    _OFFICE + "annotation-end",
    _TEXT + "ruby-text",
    _TEXT + "change",
    _TEXT + "change-start",
    _TEXT + "change-end",
    _TEXT + "soft-page-break",
}
# ODF collapses white space in text as XML does not: runs of it are one space (§6.1.2);
# spaces it keeps are elements (text:s, text:tab, text:line-break).
_WHITE_SPACE = re.compile(r"[ \t\r\n]+")
_MOST_SPACES = 1000  # what text:s's count is taken as at most
# The most columns a row is taken to have (ODF spreadsheets' own limit, 16,384), and the most
# copies of a row or cell with text (its repeats also bounded by the table's own text).
_MAX_COLUMNS = 16_384
_MAX_COPIES = 1_000_000
# Lengths of shapes' places on a slide, in millimetres a unit.
_UNITS_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "pc": 25.4 / 6, "px": 25.4 / 96}
_LENGTH = re.compile(r"\s*(-?[0-9.]+)\s*([a-z]*)")


def text_document_text(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> str:
    """The text of the OpenDocument text document ``source`` (a path or a seekable file), an
    OLE object it embeds read after its paragraph. ``reserve(mb, reading)`` (the segment's
    budget) is asked for what its XML needs first; ``depth``: how deep in other files the
    document lies."""
    kind = "text document"
    with _opened(source, reserve, TEXT_MEMORY_FACTOR, kind) as package:
        with _typed(kind):
            content = package.parsed("content.xml")
            styles = package.parsed("styles.xml") if package.has("styles.xml") else None
        reader = _TextReader(_EmbeddedObjects.of(package, reserve, depth))
        body = content.find(f"{_OFFICE}body/{_OFFICE}text")
        if body is None:
            raise InvalidDocument(f"not a readable ODF {kind}: it has no text")
        blocks = reader.blocks(body)
    on_pages = _TextReader()  # the page styles' headers and footers
    headers = _headers_and_footers(on_pages, styles) if styles is not None else []
    return Stories(
        footnotes=reader.footnotes,
        headers_and_footers=headers,
        comments=reader.comments,
        endnotes=reader.endnotes,
        text_boxes=reader.boxes,
        header_text_boxes=on_pages.boxes,
    ).after(blocks)


def sheet_tables(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> Iterator[SheetTable]:
    """Each sheet of the spreadsheet ``source`` that holds a value, in order (hidden ones
    too), its rows read as they are taken: from one stream of the XML, so a sheet's rows not
    taken when the next sheet is are passed over; then the text of each OLE object in its
    cells, under its name. ``reserve``, ``depth``: as text_document_text's."""
    with (
        _opened(source, reserve, STREAMED_MEMORY_FACTOR, "spreadsheet") as package,
        _typed("spreadsheet"),
        package.stream("content.xml") as content,
    ):
        objects = _EmbeddedObjects.of(package, reserve, depth)
        events = etree.iterparse(
            content, events=("start", "end"), tag=(_TABLE_ELEMENT, _ROW), **PARSER_OPTIONS
        )
        number = 0
        for event, element in events:
            if event != "start" or element.tag != _TABLE_ELEMENT:
                continue
            number += 1
            name = element.get(_TABLE + "name") or str(number)
            reader = _TextReader(objects)  # (a cell's comments are not read)
            rows = _sheet_rows(events, element, reader)
            table = sheet_table(number, name, rows)
            if table is not None:
                yield table
            for _ in rows:  # what the reader of the sheet left
                pass
            for text in reader.objects_read():
                yield SheetTable(number, f"Sheet: {name}", iter(text.splitlines()))


def slide_texts(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> Iterator[PageText]:
    """Each slide with text of the presentation ``source``, its number that of the slide in
    the show; an OLE object a slide shows read where its frame stands. ``reserve``,
    ``depth``: as text_document_text's."""
    with (
        _opened(source, reserve, STREAMED_MEMORY_FACTOR, "presentation") as package,
        _typed("presentation"),
        package.stream("content.xml") as content,
    ):
        objects = _EmbeddedObjects.of(package, reserve, depth)
        events = etree.iterparse(content, events=("end",), tag=_DRAW + "page", **PARSER_OPTIONS)
        for number, (_, page) in enumerate(events, start=1):
            text = _slide_text(page, objects)
            let_go(page)
            if text:
                yield PageText(number=number, text=text)


class _TextReader:
    """Reads blocks of text, noting the notes, comments and text boxes they hold; the OLE
    objects they show (``objects``) read after their paragraph, or kept apart for the caller
    (objects_read) where they stand outside one (in a spreadsheet's cell)."""

    def __init__(self, objects: _EmbeddedObjects | None = None) -> None:
        self.footnotes: list[str] = []
        self.endnotes: list[str] = []
        self.comments: list[str] = []
        self.boxes: list[str] = []
        self._objects = objects
        self._shown: list[str] = []  # the objects' texts not yet placed, innermost last

    def objects_read(self) -> list[str]:
        """The text of the objects shown outside any paragraph, taken once."""
        shown, self._shown = [text for text in self._shown if text], []
        return shown

    def blocks(self, container: Any, in_cell: bool = False) -> list[str]:
        """The paragraphs, headings, lists' items and tables in ``container``, as text; a
        table in a cell (``in_cell``) as lines of its rows' cells."""
        blocks: list[str] = []
        for element in container:
            tag = element.tag
            if tag in _PARAGRAPHS:
                shown = len(self._shown)
                text = self.inline(element).strip()
                objects = [found for found in self._shown[shown:] if found]
                del self._shown[shown:]
                blocks += [text, *objects] if text.strip() else objects
                continue
            if tag == _DRAW + "frame":  # outside a paragraph: its object kept apart
                self._show(element)
                blocks.extend(self.blocks(element, in_cell))
                continue
            if tag == _TABLE_ELEMENT:
                rows = list(_table_rows(element, self))
                if in_cell:
                    text = "\n".join(" ".join(filter(None, row)) for row in rows)
                else:
                    text = markdown_grid(rows)
            elif tag in _LEFT_OUT_BLOCKS or not isinstance(tag, str) or tag.endswith("-source"):
                continue
            else:  # a list, its items, a section, an index's body: blocks within
                blocks.extend(self.blocks(element, in_cell))
                continue
            if text.strip():
                blocks.append(text)
        return blocks

    def inline(self, element: Any) -> str:
        """A paragraph's text (or a span's, a link's, a field's: what it shows)."""
        parts = [_collapsed(element.text)]
        for child in element:
            tag = child.tag
            if tag == _TEXT + "s":
                parts.append(" " * min(_count(child.get(_TEXT + "c")), _MOST_SPACES))
            elif tag == _TEXT + "tab":
                parts.append("\t")
            elif tag == _TEXT + "line-break":
                parts.append("\n")
            elif tag == _TEXT + "note":
                body = child.find(_TEXT + "note-body")
                notes = (
                    self.endnotes
                    if child.get(_TEXT + "note-class") == "endnote"
                    else self.footnotes
                )
                if body is not None:
                    notes.extend(self.blocks(body))
            elif tag == _OFFICE + "annotation":
                self.comments.extend(self.blocks(child))  # (its author and date are not text:p)
            elif isinstance(tag, str) and tag.startswith(_DRAW):  # a frame, a drawn shape
                self._show(child)
                self.boxes.extend(self.blocks(child))
            elif tag not in _LEFT_OUT_INLINE and isinstance(tag, str):
                parts.append(self.inline(child))
            parts.append(_collapsed(child.tail))
        return "".join(parts)

    def _show(self, shape: Any) -> None:
        """Note the text of each OLE object ``shape`` shows."""
        if self._objects is not None:
            self._shown += [self._objects.text(found) for found in shape.iter(*_OBJECTS)]

    def cell_text(self, cell: Any) -> str:
        """A table cell's text: its blocks, a table in it as lines (a Markdown cell holds
        one line)."""
        return "\n".join(self.blocks(cell, in_cell=True))


def _table_rows(table: Any, reader: _TextReader) -> Iterator[list[str]]:
    """A text document's (or a slide's) table's rows of cells' text, rows and cells repeated as
    the table says, a spanned cell's text in each cell it covers."""
    spans = _Spans()
    for row in _rows_of(table):
        yield from spans.rows(row, reader)


def _rows_of(table: Any) -> Iterator[Any]:
    for child in table:
        if child.tag == _ROW:
            yield child
        elif child.tag in _ROW_GROUPS:
            yield from _rows_of(child)


class _Spans:
    """Rows as their cells' text: repeats of rows and cells made (empty cells only where text
    follows them, empty rows not at all), a spanning cell's text in each cell it covers, all
    within the table's allowance of repeats (Repeats)."""

    def __init__(self) -> None:
        self._repeats = Repeats()
        self._above: list[str] = []  # the last row's cells: what a cell covered from above shows

    def rows(self, row: Any, reader: _TextReader) -> Iterator[list[str]]:
        cells = self._cells(row, reader)
        self._above = cells
        if not any(cells):
            return  # an empty row (a sheet's last, repeated to its millionth) is left out
        yield cells
        for _ in range(_count(row.get(_TABLE + "number-rows-repeated")) - 1):
            copy = self._repeats.of_row(cells)
            if copy is None:
                return
            yield copy

    def _cells(self, row: Any, reader: _TextReader) -> list[str]:
        cells: list[str] = []
        empty = 0  # empty cells not made yet: made only where text follows them
        spanned, span_text = 0, ""  # cells the last cell spans that are still to come
        for cell in row:
            if cell.tag not in _CELLS:
                continue
            copies = min(
                _count(cell.get(_TABLE + "number-columns-repeated")),
                _MAX_COLUMNS - len(cells) - empty,
            )
            if copies <= 0:
                break
            if cell.tag == _COVERED:
                texts: list[str] = []
                for _ in range(copies):
                    column = len(cells) + empty + len(texts)
                    if spanned > 0:
                        text, spanned = span_text, spanned - 1
                    else:
                        text = self._above[column] if column < len(self._above) else ""
                    texts.append(self._repeats.of(text, 1)[0])
            else:
                text = reader.cell_text(cell)
                self._repeats.own += len(text)
                texts = [text, *self._repeats.of(text, copies - 1)]
                spanned = _count(cell.get(_TABLE + "number-columns-spanned")) - 1
                span_text = text
            if any(texts):
                cells.extend([""] * empty)
                cells.extend(texts)
                empty = 0
            else:
                empty += copies
        return cells


def _count(value: str | None) -> int:
    """A count as the file states it (a repeat, a span, text:s's spaces), at least 1 and at
    most _MAX_COPIES."""
    if value is None or not (value.isascii() and value.isdigit()):
        return 1
    return max(1, min(int(value), _MAX_COPIES))


def _sheet_rows(events: Any, table: Any, reader: _TextReader) -> Iterator[list[str]]:
    """A sheet's rows of cells, from its table's start to its end in the parser's ``events``,
    each row let go once read."""
    spans = _Spans()
    depth = 1
    with _typed("spreadsheet"):
        for event, element in events:
            if element.tag == _TABLE_ELEMENT:
                depth += 1 if event == "start" else -1
                if depth == 0:
                    let_go(table)
                    return
            elif event == "end" and depth == 1:
                yield from spans.rows(element, reader)
                let_go(element)


def _slide_text(page: Any, objects: _EmbeddedObjects | None = None) -> str:
    shapes = [shape for shape in page if isinstance(shape.tag, str) and shape.tag.startswith(_DRAW)]
    titles = [s for s in shapes if s.get(_PRESENTATION + "class") == "title"]
    others = [s for s in shapes if s.get(_PRESENTATION + "class") != "title"]
    blocks = [_shape_text(shape, objects) for shape in titles] + _shapes_text(others, objects)
    notes = page.find(_PRESENTATION + "notes")
    if notes is not None:
        text = "\n\n".join(
            block
            for frame in notes.iter(_DRAW + "text-box")
            for block in _TextReader().blocks(frame)
        )
        if text:
            blocks.append(f"Notes:\n{text}")
    return "\n\n".join(block for block in blocks if block)


def _shapes_text(shapes: Iterable[Any], objects: _EmbeddedObjects | None = None) -> list[str]:
    """The text of ``shapes`` in reading order: top to bottom, then left to right."""
    ordered = sorted(shapes, key=_place)
    return [text for shape in ordered if (text := _shape_text(shape, objects))]


def _place(shape: Any) -> tuple[float, float]:
    """Where a shape is on its slide (a group: where its first shape is), in millimetres."""
    if shape.tag == _DRAW + "g":
        places = [_place(child) for child in shape if isinstance(child.tag, str)]
        return min(places, default=(0.0, 0.0))
    return _millimetres(shape.get(_SVG + "y")), _millimetres(shape.get(_SVG + "x"))


def _millimetres(length: str | None) -> float:
    match = _LENGTH.match(length or "")
    if match is None:
        return 0.0
    try:
        return float(match.group(1)) * _UNITS_MM.get(match.group(2), 1.0)
    except ValueError:
        return 0.0


def _shape_text(shape: Any, objects: _EmbeddedObjects | None = None) -> str:
    if shape.tag == _DRAW + "g":
        group = (child for child in shape if isinstance(child.tag, str))
        return "\n\n".join(_shapes_text(group, objects))
    reader = _TextReader()
    blocks: list[str] = []
    for child in shape:
        if child.tag == _DRAW + "text-box":
            blocks += reader.blocks(child)
        elif child.tag == _TABLE_ELEMENT:
            blocks.append(markdown_grid(list(_table_rows(child, reader))))
        elif child.tag in _OBJECTS and objects is not None and (found := objects.text(child)):
            blocks.append(found)  # (its picture, what shows it, not described too)
            break
        elif child.tag in (_DRAW + "image", _DRAW + "object"):
            described = _described(shape)
            if described:
                blocks.append(f"Picture: {described}")
            break
    if shape.tag != _DRAW + "frame":  # a drawn shape's text is its own paragraphs
        blocks += reader.blocks(shape)
    return "\n\n".join(block for block in blocks if block)


def _chart_text(chart: Any) -> str:
    """A chart's figures: the table of them it keeps (its ``local-table``: a row per category,
    a column per series), its hidden columns left out, its title in the corner."""
    table = chart.find(f".//{_TABLE_ELEMENT}")
    if table is None:
        return ""
    hidden = _hidden_columns(table)
    rows = [
        [cell for column, cell in enumerate(row) if column not in hidden]
        for row in _table_rows(table, _TextReader())
    ]
    if not rows or not rows[0]:
        return ""
    title = chart.find(f"{_CHART}title")
    named = " ".join(_TextReader().blocks(title)) if title is not None else ""
    rows[0][0] = f"Chart: {named}" if named else "Chart"
    return markdown_grid(rows)


def _hidden_columns(table: Any) -> set[int]:
    """The columns a table collapses (a chart's series without values), by index."""
    hidden: set[int] = set()
    index = 0
    for column in table.iter(_TABLE + "table-column"):
        count = min(_count(column.get(_TABLE + "number-columns-repeated")), _MAX_COLUMNS)
        if column.get(_TABLE + "visibility") == "collapse":
            hidden.update(range(index, index + count))
        index += count
        if index >= _MAX_COLUMNS:
            break
    return hidden


def _described(shape: Any) -> str:
    """A picture's description (its alt text), else its title."""
    for name in ("desc", "title"):
        element = shape.find(_SVG + name)
        if element is not None and (element.text or "").strip():
            return " ".join(element.text.split())
    return ""


def _headers_and_footers(reader: _TextReader, styles: Any) -> list[str]:
    """The lines of each page style's headers and footers (first, left and right pages),
    each once (distinct_lines)."""
    return distinct_lines(
        block
        for master in styles.iter(_STYLE + "master-page")
        for part in master
        if isinstance(part.tag, str) and part.tag.startswith((_STYLE + "header", _STYLE + "footer"))
        for block in reader.blocks(part)
    )


def _collapsed(text: str | None) -> str:
    return _WHITE_SPACE.sub(" ", text) if text else ""


class _EmbeddedObjects:
    """The objects a package holds: an OLE object, a member its frame's ``draw:object-ole``
    names, read as the file it is (docproc.extract.included); a chart of ODF's own, a folder a
    ``draw:object`` names, as a table of its figures. A flat file's (base64 in its XML, left
    out with its pictures) are not read."""

    def __init__(self, archive: zipfile.ZipFile | None, included: IncludedParts | None) -> None:
        self._archive, self._included = archive, included
        self._names = set(archive.namelist()) if archive is not None else set()

    @classmethod
    def of(
        cls,
        package: _Package | _Flat,
        reserve: Callable[[float, str], None] | None,
        depth: int,
    ) -> _EmbeddedObjects:
        if not isinstance(package, _Package):
            return cls(None, None)
        archive = package.archive
        return cls(archive, IncludedParts(archive, reserve, depth, Allowance.whole()))

    def text(self, shown: Any) -> str:
        """The text of the object ``shown`` (a ``draw:object-ole`` or a ``draw:object``)
        names: an OLE object's file as its kind, a chart's figures as a table."""
        name = (shown.get(_XLINK + "href") or "").removeprefix("./").rstrip("/")
        if self._archive is None or self._included is None or not name:
            return ""
        if shown.tag == _OLE_OBJECT:
            return self._included.text(name) if name in self._names else ""
        content = f"{name}/content.xml"
        if content not in self._names:
            return ""
        try:
            root = etree.fromstring(self._archive.read(content), etree.XMLParser(**PARSER_OPTIONS))
        except PACKAGE_ERRORS as exc:
            logger.warning("an object is not read", extra={"reason": type(exc).__name__})
            return ""
        chart = root.find(f"{_OFFICE}body/{_OFFICE}chart/{_CHART}chart")
        return _chart_text(chart) if chart is not None else ""


@contextmanager
def _opened(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None,
    factor: float,
    kind: str,
) -> Iterator[_Package | _Flat]:
    """The document ``source`` open (a package, or a flat file), ``factor`` times its XML
    asked of the budget, an encrypted one refused."""
    with ExitStack() as stack:
        with _typed(kind):
            stream = stack.enter_context(open(source, "rb")) if isinstance(source, Path) else source
            stream.seek(0)
            flat = not stream.read(4).startswith(b"PK")
            stream.seek(0)
            if flat:
                document: _Package | _Flat = _Flat(stream)
            else:
                document = _Package(stack.enter_context(zipfile.ZipFile(stream)))
                if not document.has("content.xml"):
                    raise InvalidDocument(f"not a readable ODF {kind}: it has no content.xml")
                if document.encrypted():
                    raise EncryptedDocument(f"an ODF {kind} encrypted with a password")
            xml_mb = document.xml_bytes() / 2**20
        if reserve is not None:
            reserve(xml_mb * factor, f"an ODF {kind} of {xml_mb:.0f} MB of XML")
        yield document


@contextmanager
def _typed(kind: str) -> Iterator[None]:
    """zipfile's and lxml's errors on a damaged package, as InvalidDocument."""
    try:
        yield
    except PACKAGE_ERRORS as exc:
        raise InvalidDocument(f"not a readable ODF {kind}: {type(exc).__name__}") from exc


class _Package:
    """An OpenDocument package: a ZIP of XML parts."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive

    @property
    def archive(self) -> zipfile.ZipFile:
        return self._archive

    def has(self, name: str) -> bool:
        try:
            self._archive.getinfo(name)
        except KeyError:
            return False
        return True

    def xml_bytes(self) -> int:
        """The size of the parts read (content.xml, styles.xml, the content of the objects of
        ODF's own: charts), inflated."""
        return sum(
            info.file_size
            for info in self._archive.infolist()
            if info.filename in ("content.xml", "styles.xml")
            or info.filename.endswith("/content.xml")
        )

    def parsed(self, name: str) -> Any:
        # From its bytes: lxml parsing a file object takes its name for a file's (its errors,
        # OSError, then name a file in the working directory).
        return etree.fromstring(self._archive.read(name), etree.XMLParser(**PARSER_OPTIONS))

    def stream(self, name: str) -> IO[bytes]:
        return self._archive.open(name)

    def encrypted(self) -> bool:
        """Whether the manifest says content.xml is encrypted (ODF encrypts each part, with a
        key from the password, and says how in the manifest)."""
        if not self.has("META-INF/manifest.xml"):
            return False
        manifest = self.parsed("META-INF/manifest.xml")
        for entry in manifest.iter(_MANIFEST + "file-entry"):
            if entry.get(_MANIFEST + "full-path") == "content.xml":
                return entry.find(_MANIFEST + "encryption-data") is not None
        return False


class _Flat:
    """A flat OpenDocument file: one XML document, its root ``office:document``, holding what a
    package's content.xml and styles.xml hold; each is the whole of it (parsed once), read
    without its pictures (xml_streams.WithoutBinaryData)."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._root: Any = None

    def has(self, name: str) -> bool:
        return name in ("content.xml", "styles.xml")

    def xml_bytes(self) -> int:
        """Its size: pictures and all, as nothing is read to tell them apart."""
        size = self._source.seek(0, 2)
        self._source.seek(0)
        return size

    def parsed(self, name: str) -> Any:
        if self._root is None:
            with self.stream(name) as document:
                self._root = etree.fromstring(document.read(), etree.XMLParser(**PARSER_OPTIONS))
        return self._root

    @contextmanager
    def stream(self, name: str) -> Iterator[IO[bytes]]:
        self._source.seek(0)
        # (LibreOffice's prefix: what it writes)
        without = WithoutBinaryData(self._source, b"office:binary-data")
        yield io.BufferedReader(without, 1 << 20)
