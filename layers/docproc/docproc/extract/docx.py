"""DOCX text as a reader of the document sees it: the body's paragraphs and tables (as
Markdown) in document order, then the stories beside it, each under a label, as a Word 97-2003
document's are (docproc.extract.doc): footnotes, headers and footers, comments, endnotes, text
boxes.

python-docx opens the package and parses its parts; the text is read from their XML, not from
python-docx's paragraphs, which leave out what Word shows: text inserted with changes tracked
(a redline's new terms), text in content controls (a template's filled fields), in simple fields
and smart tags, and in text boxes. Changes tracked are read as accepted: inserted and moved text
in, deleted text and the old place of moved text out (as Apache Tika reads them by default).
Fields show their results, not their codes; footnote and comment marks are left out. A part
the document imports whole where it stands (``w:altChunk``: how document assembly merges clauses
written as HTML, RTF, text, an MHT or another DOCX) is read as docproc reads that kind of file,
in its place; Word does the same when it opens the document.

python-docx opens a copy of the package without its media (docproc.extract.packages): memory
follows the XML, not the file. The XML is parsed into a tree several times its size; where the
segment has a memory budget, a package whose XML would not fit is refused before it is read
(a zip bomb among them: the sizes are the archive directory's, and zipfile stops at them).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import IO, Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.opc.part import Part, XmlPart
from lxml import etree

from docproc.errors import (
    InvalidDocument,
)
from docproc.extract.diagrams import diagram_text
from docproc.extract.included import Allowance, IncludedParts
from docproc.extract.packages import PACKAGE_ERRORS, opened_package, without_blobs
from docproc.extract.pages import (
    GridCell,
    Stories,
    distinct_lines,
    grid_columns,
    grid_rows,
    markdown_grid,
)
from docproc.extract.xml_streams import let_go
from docproc.observability import logger

EXTRACTION_METHOD = "python-docx"
# Peak memory of reading a DOCX per byte of its XML (measured: 272 MB for a document.xml of
# 27.6 MB, 14 MB of text, the interpreter and python-docx included), with a margin.
XML_MEMORY_FACTOR = 10
# What python-docx raises on opening a damaged package, beside what any package's reader may
# (relationships of another XML: AttributeError).
_OPENING_ERRORS: tuple[type[Exception], ...] = (
    PackageNotFoundError,
    AttributeError,
    TypeError,
    IndexError,
    *PACKAGE_ERRORS,
)
# A macro-enabled document (DOCM) or a template (DOTX, DOTM) is a document's parts under
# another content type, which python-docx refuses: its copy declares the document's.
_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_AS_DOCUMENT = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": _DOCUMENT_MAIN,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        _DOCUMENT_MAIN
    ),
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": _DOCUMENT_MAIN,
}

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_MATH_TEXT = "{http://schemas.openxmlformats.org/officeDocument/2006/math}t"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_P, _TBL, _TR, _TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_TEXT = {_W + "t", _MATH_TEXT}
_CHARACTERS = {
    _W + "tab": "\t",
    _W + "ptab": "\t",
    _W + "br": "\n",  # a line, column or page break: words either side stay apart
    _W + "cr": "\n",
    _W + "noBreakHyphen": "-",
}
# Elements that wrap blocks, rows or cells: custom XML, changes tracked as inserted or moved
# here; and a content control, whose content is in its w:sdtContent. (Within a paragraph
# every element is read through but those left out below: a hyperlink, a field's result, a
# smart tag.)
_WRAPPERS = {_W + "customXml", _W + "ins", _W + "moveTo"}
_SDT, _SDT_CONTENT = _W + "sdt", _W + "sdtContent"
_ALTERNATE_CONTENT, _CHOICE, _FALLBACK = (
    _MC + "AlternateContent",
    _MC + "Choice",
    _MC + "Fallback",
)
# Left out: what changes tracked deleted or moved away, properties (which mark changes to
# themselves with the same names), a content control's properties (its placeholder's name).
_LEFT_OUT = {
    _W + "del",
    _W + "moveFrom",
    _W + "pPr",
    _W + "rPr",
    _W + "tblPr",
    _W + "tcPr",
    _W + "sdtPr",
    _W + "sdtEndPr",
}
_TEXT_BOX = _W + "txbxContent"
_IMPORTED = _W + "altChunk"
# An object embedded where it stands (OLE: a workbook, a document, a presentation, shown as its
# picture or an icon): its part is read as the file it is, after the paragraph that holds it.
_EMBEDDED = "{urn:schemas-microsoft-com:office:office}OLEObject"
# A chart shown where it stands (a drawing's graphic): its part's figures, a table after the
# paragraph that holds it (docproc.extract.charts); a SmartArt diagram: its data part's nodes,
# a line each (docproc.extract.diagrams).
_CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}chart"
_DIAGRAM = "{http://schemas.openxmlformats.org/drawingml/2006/diagram}relIds"
_DIAGRAM_DATA = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}dm"
_OBJECT, _CHARTED, _DIAGRAMMED = "object", "chart", "diagram"
_NOTE_REFERENCES = {
    _W + "footnoteReference": "footnotes",
    _W + "endnoteReference": "endnotes",
    _W + "commentReference": "comments",
}
# Notes Word writes for itself: the lines between the body and the notes.
_SEPARATOR_NOTES = {"separator", "continuationSeparator", "continuationNotice"}
_HEADER_REFERENCES = {_W + "headerReference", _W + "footerReference"}
_STORY_PARTS = {"footnotes": RT.FOOTNOTES, "endnotes": RT.ENDNOTES, "comments": RT.COMMENTS}


def docx_text(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None = None,
    depth: int = 0,
    allowance: Allowance | None = None,
) -> str:
    """The text of the DOCX ``source`` (a path, or a seekable file). ``reserve(mb, reading)``
    (the segment's budget) is asked for the memory its XML needs before any of it is read.
    ``depth``: how deep in other files (messages, documents that include it) the DOCX lies;
    what it includes is read while that is under mail.MAX_NESTING, within ``allowance`` (the
    including document's, else one of its own: docproc.extract.included)."""
    with ExitStack() as stack:
        try:
            package = stack.enter_context(opened_package(source))
            with without_blobs(package, reserve, XML_MEMORY_FACTOR, "a DOCX", _AS_DOCUMENT) as copy:
                main = docx.Document(copy).part
        except _OPENING_ERRORS as exc:
            raise InvalidDocument(f"not a readable DOCX: {type(exc).__name__}") from exc
        body = main.element.find(_W + "body")
        if body is None:
            raise InvalidDocument("not a readable DOCX: its document has no body")
        included = IncludedParts(package, reserve, depth, allowance or Allowance.whole())
        try:
            return _Reader(main, included).text(body)
        except PACKAGE_ERRORS as exc:  # a story's part: missing, or XML not well formed
            raise InvalidDocument(f"not a readable DOCX: {type(exc).__name__}") from exc


class _Reader:
    """Reads the body, noting the notes, comments and text boxes it refers to, then them."""

    def __init__(self, main: XmlPart, included: IncludedParts) -> None:
        self._main = main
        self._part: Part = main  # the part being read, whose relationships its XML names
        self._included = included
        self._referred: dict[str, list[str]] = {story: [] for story in _STORY_PARTS}
        self._boxes: list[str] = []
        # What the paragraph shows that is read after it: objects, charts and diagrams (their
        # kind, the relationship id of their part)
        self._embedded: list[tuple[str, str]] = []

    def text(self, body: Any) -> str:
        blocks = self._blocks(body)
        notes = {story: self._notes(story) for story in _STORY_PARTS}
        boxes, self._boxes = self._boxes, []
        headers = self._headers_and_footers(body)
        return Stories(
            footnotes=notes["footnotes"],
            headers_and_footers=headers,
            comments=notes["comments"],
            endnotes=notes["endnotes"],
            text_boxes=boxes,
            header_text_boxes=self._boxes,
        ).after(blocks)

    def _blocks(self, container: Any, in_cell: bool = False) -> list[str]:
        """The paragraphs and tables in ``container`` (a body, a cell, a note), as text; a
        table in a cell (``in_cell``) as lines of its rows' cells, which a Markdown cell can
        hold."""
        blocks: list[str] = []
        for element in _content(container):
            embedded: list[tuple[str, str]] = []
            if element.tag == _P:
                outer, self._embedded = self._embedded, []
                text = self._inline_text(element).strip()
                embedded, self._embedded = self._embedded, outer
            elif element.tag == _TBL:
                rows = self._table_rows(element)
                if in_cell:
                    text = "\n".join(" ".join(filter(None, row)) for row in rows)
                else:
                    text = markdown_grid(rows)
            elif element.tag == _IMPORTED:
                text = self._included_text(element.get(_R_ID, ""))
            else:
                continue
            if text.strip():
                blocks.append(text)
            for kind, rid in embedded:
                if kind == _OBJECT:
                    text = self._included_text(rid)
                else:
                    text = self._drawing_text(kind, rid, in_cell)
                if text.strip():
                    blocks.append(text)
        return blocks

    def _drawing_text(self, kind: str, rid: str, in_cell: bool) -> str:
        """The text of the chart or diagram whose part the part being read relates as ``rid``:
        a chart's figures as a Markdown table, or in a cell (``in_cell``) lines of its rows'
        cells, as a table in a cell is; a diagram's nodes, a line each. One whose part cannot
        be read is left out, logged."""
        # (python-pptx's chart reader, and the errors it raises, imported only for a document
        # that shows a chart or a diagram)
        from docproc.extract.charts import CHART_ERRORS, chart_part_rows

        relationship = self._part.rels.get(rid)
        if relationship is None or relationship.is_external:
            return ""
        blob = relationship.target_part.blob
        try:
            if kind == _DIAGRAMMED:
                return diagram_text(blob)
            rows = chart_part_rows(blob)
        except CHART_ERRORS as exc:
            logger.warning(f"a {kind} is not read", extra={"reason": type(exc).__name__})
            return ""
        if in_cell:
            return "\n".join(" ".join(filter(None, row)) for row in rows)
        return markdown_grid(rows) if rows else ""

    def _included_text(self, rid: str) -> str:
        """The text of the part the part being read relates as ``rid``, imported or embedded."""
        relationship = self._part.rels.get(rid)
        if relationship is None or relationship.is_external:
            return ""
        return self._included.text(str(relationship.target_part.partname).lstrip("/"))

    def _inline_text(self, element: Any) -> str:
        parts: list[str] = []
        self._gather(element, parts)
        return "".join(parts)

    def _gather(self, element: Any, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if tag in _TEXT:
                parts.append(child.text or "")
            elif tag in _CHARACTERS:
                parts.append(_CHARACTERS[tag])
            elif tag in _NOTE_REFERENCES:
                self._referred[_NOTE_REFERENCES[tag]].append(child.get(_W + "id", ""))
            elif tag == _TEXT_BOX:
                self._boxes.extend(self._blocks(child))
            elif tag == _EMBEDDED:
                self._embedded.append((_OBJECT, child.get(_R_ID, "")))
            elif tag == _CHART:
                self._embedded.append((_CHARTED, child.get(_R_ID, "")))
            elif tag == _DIAGRAM:
                self._embedded.append((_DIAGRAMMED, child.get(_DIAGRAM_DATA, "")))
            elif tag == _ALTERNATE_CONTENT:
                chosen = _chosen(child)
                if chosen is not None:
                    self._gather(chosen, parts)
            elif tag not in _LEFT_OUT and isinstance(tag, str):  # (not a comment's)
                self._gather(child, parts)

    def _table_rows(self, table: Any) -> list[list[str]]:
        """A table's rows of cells' text; a merged cell's text is in each column and row it
        spans (as python-docx's cells have it)."""
        return grid_rows(
            (_grid_value(row.find(_W + "trPr"), "gridBefore"), self._row_cells(row))
            for row in _content(table)
            if row.tag == _TR and not _deleted(row)
        )

    def _row_cells(self, row: Any) -> Iterator[GridCell]:
        for cell in _content(row):
            if cell.tag != _TC:
                continue
            properties = cell.find(_W + "tcPr")
            merge = properties.find(_W + "vMerge") if properties is not None else None
            continues = merge is not None and merge.get(_W + "val", "continue") == "continue"
            yield GridCell(
                span=max(1, _grid_value(properties, "gridSpan")),
                continues="above" if continues else "",
                text=partial(self._cell_text, cell),
            )

    def _cell_text(self, cell: Any) -> str:
        return "\n".join(self._blocks(cell, in_cell=True))

    def _headers_and_footers(self, body: Any) -> list[str]:
        """The lines of each section's headers and footers (first, odd and even pages), each
        once (distinct_lines)."""
        read: set[str] = set()
        blocks: list[str] = []
        for reference in body.iter(*_HEADER_REFERENCES):
            part = self._main.related_parts.get(reference.get(_R_ID, ""))
            if part is None or str(part.partname) in read:
                continue
            read.add(str(part.partname))
            blocks += self._blocks_of(part, _children(part))
        return distinct_lines(blocks)

    def _blocks_of(self, part: Part, container: Any) -> list[str]:
        """_blocks of ``container`` in ``part`` (a header, the notes): what its XML refers to
        is among that part's relationships."""
        self._part = part
        try:
            return self._blocks(container)
        finally:
            self._part = self._main

    def _notes(self, story: str) -> list[str]:
        """The notes (or comments) of ``story`` the text referred to, in the order it did."""
        part = _related(self._main, _STORY_PARTS[story])
        if part is None or not self._referred[story]:
            return []
        notes = {
            note.get(_W + "id"): self._blocks_of(part, note)
            for note in _children(part)
            if note.get(_W + "type") not in _SEPARATOR_NOTES
        }
        return [
            text
            for note_id in dict.fromkeys(self._referred[story])
            for text in notes.get(note_id, [])
        ]


def _content(element: Any) -> Iterator[Any]:
    """The children of ``element`` (a body, table, row or cell), with what wraps them opened
    (content controls, custom XML, changes tracked as inserted or moved here) and what changes
    tracked deleted or moved away left out."""
    for child in element:
        tag = child.tag
        if tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _content(content)
        elif tag == _ALTERNATE_CONTENT:
            chosen = _chosen(child)
            if chosen is not None:
                yield from _content(chosen)
        elif tag in _WRAPPERS:
            yield from _content(child)
        elif tag not in _LEFT_OUT:
            yield child


def _chosen(alternatives: Any) -> Any:
    """What a reader shows of markup-compatible alternatives: the first choice (a text box as
    DrawingML), else the fallback (the same as VML); never both."""
    chosen = alternatives.find(_CHOICE)
    return chosen if chosen is not None else alternatives.find(_FALLBACK)


def _deleted(row: Any) -> bool:
    """Whether a table row was deleted with changes tracked."""
    properties = row.find(_W + "trPr")
    return properties is not None and properties.find(_W + "del") is not None


def _grid_value(properties: Any, name: str) -> int:
    """A row's or cell's count of grid columns (gridBefore, gridSpan); 0 where unset."""
    return grid_columns(properties, _W + name, _W + "val")


def _related(part: Part, relationship: str) -> Part | None:
    for rel in part.rels.values():
        if rel.reltype == relationship and not rel.is_external:
            target: Part = rel.target_part
            return target
    return None


def _children(part: Part) -> Iterator[Any]:
    """The elements under a part's root (a header's paragraphs, the notes or comments), each
    with what it holds. Parsed by python-docx where it knows the part (headers, footers,
    comments); from a part it keeps as bytes (footnotes, endnotes), each is parsed as it is
    read and let go after: a tree of the whole part takes ten times its XML (measured: 43 MB
    for 3.9 MB of footnotes), the text in it a fraction."""
    if isinstance(part, XmlPart):
        yield from part.element
        return
    depth = 0
    events = etree.iterparse(
        io.BytesIO(part.blob),
        events=("start", "end"),
        remove_blank_text=True,  # as python-docx parses
        resolve_entities=False,
    )
    for event, element in events:
        depth += 1 if event == "start" else -1
        if event == "end" and depth == 1:
            yield element
            let_go(element)
