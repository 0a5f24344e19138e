"""Word 2003 XML (WordprocessingML 2003: what Word 2003 to 2019 save as "Word 2003 XML
Document", and what document-generation systems of that time still write with XSLT): one XML
document, its root ``w:wordDocument``. Read as a DOCX is (docproc.extract.docx): the body's
paragraphs and tables (as Markdown) in document order, changes tracked read as accepted
(inserted text in, deleted text out), fields as their results; then footnotes, headers and
footers (each line once), comments, endnotes and text boxes, each under its label. Where a DOCX
keeps footnotes, comments and headers in parts of their own, this format has them where they
stand: they are read from there.

Read a block of the body (a paragraph or a table) at a time, each let go once read: memory
follows the text, not the file. Its pictures (``w:binData``: base64 inside the document) are left
out of the bytes before they are parsed (docproc.extract.xml_streams).
"""

from __future__ import annotations

import binascii
import io
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from lxml import etree

from docproc.errors import InvalidDocument
from docproc.extract.ole_objects import inflated, stated_size
from docproc.extract.pages import (
    GridCell,
    Stories,
    distinct_lines,
    grid_columns,
    grid_rows,
    markdown_grid,
)
from docproc.extract.sniff import OLE_ERRORS
from docproc.extract.xml_streams import (
    PARSER_OPTIONS,
    WithoutBinaryData,
    let_go,
    opened_within,
)
from docproc.observability import logger

if TYPE_CHECKING:
    from docproc.extract.included import IncludedFiles

EXTRACTION_METHOD = "wordml"
# Peak memory of reading one per byte of the file, with a margin: the text found, as blocks
# and joined (a block's tree at a time beside them), each character of it two bytes or more
# where one is beyond Latin-1. Measured: 3.9x a file of paragraphs of such text, 2.4x one of
# short clauses, each with a footnote. Its pictures count too: nothing tells them apart before
# the file is read.
MEMORY_FACTOR = 5

_W = "{http://schemas.microsoft.com/office/word/2003/wordml}"
_AML = "{http://schemas.microsoft.com/aml/2001/core}"
_P, _TBL, _TR, _TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_HEADERS = {_W + "hdr", _W + "ftr"}
_CHARACTERS = {
    _W + "tab": "\t",
    _W + "br": "\n",  # a line, column or page break: words either side stay apart
    _W + "cr": "\n",
    _W + "noBreakHyphen": "-",
}
# Left out: properties, the text changes tracked deleted, fields' codes (their results are
# read), pictures (emptied before parsing) and the section's properties (its headers and
# footers are read where they end, see _Reader.read).
_LEFT_OUT = {
    _W + "pPr",
    _W + "rPr",
    _W + "tblPr",
    _W + "tblGrid",
    _W + "trPr",
    _W + "tcPr",
    _W + "sectPr",
    _W + "delText",
    _W + "instrText",
    _W + "binData",
}
_NOTES = {_W + "footnote": "footnotes", _W + "endnote": "endnotes"}
_TEXT_BOX = _W + "txbxContent"
# Word's annotations (aml): what changes tracked inserted is read, what they deleted is not; a
# comment's content is a comment; the rest (bookmarks, changes of formatting) holds no text.
_ANNOTATION, _ANNOTATION_CONTENT = _AML + "annotation", _AML + "content"
_ANNOTATION_TYPE = _W + "type"
_DELETION, _COMMENT = "Word.Deletion", "Word.Comment"
# An object the document embeds: ``o:OLEObject`` names it in the document's pool of objects
# (``w:docOleData``: a compound file in base64 before the body, which the picture filter drops:
# read from the file itself once the body is, where an object was named), a stream each: its
# compound file's size, then the file compressed with zlib.
_OLE_OBJECT = "{urn:schemas-microsoft-com:office:office}OLEObject"
_POOL_START, _POOL_DATA, _POOL_END = b"<w:docOleData", b"<w:binData", b"</w:binData>"
_SCAN = 1 << 20


def wordml_text(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> str:
    """The text of the Word 2003 XML document ``source`` (a path, or a seekable file), the
    objects it embeds read after their paragraphs. ``reserve(mb, reading)`` (the segment's
    budget) is asked first for MEMORY_FACTOR times its size; ``depth``: how deep in other files
    the document lies."""
    with opened_within(source, reserve, MEMORY_FACTOR, "a Word 2003 XML document") as stream:
        without_pictures = io.BufferedReader(WithoutBinaryData(stream, b"w:binData"), 1 << 20)
        pool = _ObjectPool(stream, reserve, depth)
        try:
            return _Reader().read(without_pictures, pool.text)
        except etree.XMLSyntaxError as exc:
            raise InvalidDocument(f"not a readable Word 2003 XML document: {exc}") from exc
        finally:
            pool.close()


class _ObjectPool:
    """The document's pool of objects, found in the file (``w:docOleData``'s base64) the first
    time an object is asked for, each object read as the file it is (docproc.extract.included).
    A pool that cannot be read, or an object it lacks, gives no text."""

    def __init__(
        self, stream: IO[bytes], reserve: Callable[[float, str], None] | None, depth: int
    ) -> None:
        self._stream, self._reserve, self._depth = stream, reserve, depth
        self._included: IncludedFiles | None = None  # (made for the first object)
        self._ole: Any = None
        self._read = False

    def text(self, object_id: str) -> str:
        import olefile  # only for a document that names an object

        if not self._read:
            self._read = True
            self._ole = self._opened()
        ole = self._ole
        name = object_id.strip("/")
        try:
            if ole is None or not name or "/" in name or ole.get_type(name) != olefile.STGTY_STREAM:
                return ""
            stored = bytes(ole.openstream(name).read())
        except OLE_ERRORS as exc:
            logger.warning("an object is not read", extra={"reason": type(exc).__name__})
            return ""
        if self._included is None:
            from docproc.extract.included import Allowance, IncludedFiles

            self._included = IncludedFiles(self._reserve, self._depth, Allowance.whole())
        return self._included.text(name, stated_size(stored), lambda: inflated(stored))

    def _opened(self) -> Any:
        """The pool's compound file, open; None where the file has none, or it is damaged."""
        import olefile

        data = _pool_bytes(self._stream)
        if data is None:
            return None
        try:
            return olefile.OleFileIO(io.BytesIO(data))
        except OLE_ERRORS as exc:
            logger.warning(
                "a document's objects are not read", extra={"reason": type(exc).__name__}
            )
            return None

    def close(self) -> None:
        if self._ole is not None:
            self._ole.close()


def _pool_bytes(stream: IO[bytes]) -> bytes | None:
    """The decoded base64 of the ``w:binData`` in the file's ``w:docOleData``, read from its
    start a piece at a time; None where there is none, or it does not end."""
    stream.seek(0)
    held, found = b"", -1
    while found < 0:  # (before the pool, only what could begin its tag is kept)
        piece = stream.read(_SCAN)
        if not piece:
            return None
        held = held[-len(_POOL_START) :] + piece
        found = held.find(_POOL_START)
    # (from the pool on, held whole: a bytearray grows without copying what it holds)
    pool, opening = _found(stream, bytearray(held[found:]), _POOL_DATA, 0)
    pool, start = _found(stream, pool, b">", opening)
    pool, end = _found(stream, pool, _POOL_END, start)
    if end < 0:
        return None
    try:
        return binascii.a2b_base64(pool[start + 1 : end])
    except (binascii.Error, ValueError):
        return None


def _found(stream: IO[bytes], held: bytearray, marker: bytes, after: int) -> tuple[bytearray, int]:
    """``held``, with what ``stream`` reads next until it holds ``marker`` at or after
    ``after``, and where it does (-1: the file ended first, or ``after`` is -1)."""
    if after < 0:
        return held, -1
    at = held.find(marker, after)
    while at < 0:
        piece = stream.read(_SCAN)
        if not piece:
            return held, -1
        # Only the new bytes are searched, and a marker that began in the last piece.
        searched = max(after, len(held) - len(marker) + 1)
        held += piece
        at = held.find(marker, searched)
    return held, at


class _Reader:
    """Reads the body's blocks as they end, noting the stories they hold (footnotes, comments,
    endnotes, text boxes), and the headers and footers as they end."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._stories: dict[str, list[str]] = {
            "footnotes": [],
            "endnotes": [],
            "comments": [],
            "text_boxes": [],
        }
        self._headers: list[str] = []
        self._objects: list[str] = []  # the ids of the objects the block being read names

    def read(self, stream: IO[bytes], object_text: Callable[[str], str]) -> str:
        """The document's text, the objects its body's blocks name read (``object_text``, by
        their ids) after them."""
        events = etree.iterparse(
            stream, events=("end",), tag=[_P, _TBL, *_HEADERS], **PARSER_OPTIONS
        )
        named: list[str] = []  # the ids of the objects the body names, in order
        for _, element in events:
            if element.tag in _HEADERS:
                self._headers += self._blocks_in(element)
                self._objects.clear()  # (a header's objects are not read)
                element.clear()
            elif _in_body(element):
                text = self._block(element)
                if text.strip():
                    self._blocks.append(text)
                for object_id in self._objects:
                    named.append(object_id)
                    self._blocks.append(f"\ue000{len(named) - 1}\ue001")
                self._objects.clear()
                let_go(element)
        if events.root.tag != _W + "wordDocument" or events.root.find(_W + "body") is None:
            raise InvalidDocument("not a readable Word 2003 XML document: no wordDocument's body")
        if named:
            marked = {f"\ue000{number}\ue001": object_id for number, object_id in enumerate(named)}
            blocks = (
                object_text(marked[block]) if block in marked else block for block in self._blocks
            )
            self._blocks = [block for block in blocks if block.strip()]
        return Stories(
            footnotes=self._stories["footnotes"],
            headers_and_footers=distinct_lines(self._headers),
            comments=self._stories["comments"],
            endnotes=self._stories["endnotes"],
            text_boxes=self._stories["text_boxes"],
        ).after(self._blocks)

    def _blocks_in(self, container: Any, in_cell: bool = False) -> list[str]:
        """The paragraphs and tables in ``container`` (a cell, a note, a header), as text."""
        blocks: list[str] = []
        for element in _content(container):
            text = self._block(element, in_cell)
            if text.strip():
                blocks.append(text)
        return blocks

    def _block(self, element: Any, in_cell: bool = False) -> str:
        if element.tag == _P:
            parts: list[str] = []
            self._gather(element, parts)
            return "".join(parts).strip()
        if element.tag == _TBL:
            rows = self._table_rows(element)
            if in_cell:  # a table in a cell: lines of its rows' cells, as a cell can hold
                return "\n".join(" ".join(filter(None, row)) for row in rows)
            return markdown_grid(rows)
        return ""

    def _gather(self, element: Any, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag in _CHARACTERS:
                parts.append(_CHARACTERS[tag])
            elif tag in _NOTES:
                self._stories[_NOTES[tag]] += self._blocks_in(child)
            elif tag == _TEXT_BOX:
                self._stories["text_boxes"] += self._blocks_in(child)
            elif tag == _OLE_OBJECT:
                self._objects.append(child.get("ObjectID", ""))
            elif tag == _ANNOTATION:
                kind = child.get(_ANNOTATION_TYPE, "")
                if kind == _COMMENT:
                    for content in child.findall(_ANNOTATION_CONTENT):
                        self._stories["comments"] += self._blocks_in(content)
                elif kind != _DELETION:
                    self._gather(child, parts)
            elif tag not in _LEFT_OUT and isinstance(tag, str):
                self._gather(child, parts)  # runs, hyperlinks, fields, smart tags, custom XML

    def _table_rows(self, table: Any) -> list[list[str]]:
        """A table's rows of cells' text; a merged cell's text in each column and row it
        spans, as a DOCX's (docproc.extract.docx)."""
        return grid_rows(
            (_grid_value(row.find(_W + "trPr"), "gridBefore"), self._row_cells(row))
            for row in _content(table)
            if row.tag == _TR
        )

    def _row_cells(self, row: Any) -> Iterator[GridCell]:
        for cell in _content(row):
            if cell.tag != _TC:
                continue
            properties = cell.find(_W + "tcPr")
            continues: Literal["", "above", "left"] = ""
            if _continues(properties, "vmerge"):
                continues = "above"
            elif _continues(properties, "hmerge"):
                continues = "left"
            yield GridCell(
                span=max(1, _grid_value(properties, "gridSpan")),
                continues=continues,
                text=partial(self._cell_text, cell),
            )

    def _cell_text(self, cell: Any) -> str:
        return "\n".join(self._blocks_in(cell, in_cell=True))


def _in_body(block: Any) -> bool:
    """Whether a paragraph or table is one of the body's blocks: not in a table, a
    paragraph (a note, a comment, a text box), a header or a footer."""
    for ancestor in block.iterancestors():
        if ancestor.tag in (_P, _TBL) or ancestor.tag in _HEADERS:
            return False
        if ancestor.tag == _W + "body":
            return True
    return False


def _content(element: Any) -> Any:
    """The blocks, rows or cells in ``element``, with what wraps them opened: sections and
    subsections (``wx:sect``), custom XML, a chunk of content with its own formatting
    (``w:cfChunk``); properties left out."""
    for child in element:
        tag = child.tag
        if tag in (_P, _TBL, _TR, _TC):
            yield child
        elif isinstance(tag, str) and tag not in _LEFT_OUT and tag not in _HEADERS:
            yield from _content(child)


def _continues(properties: Any, merge: str) -> bool:
    """Whether a cell continues a merge (``w:vmerge`` or ``w:hmerge`` without "restart")."""
    if properties is None:
        return False
    element = properties.find(_W + merge)
    return element is not None and element.get(_W + "val", "continue") != "restart"


def _grid_value(properties: Any, name: str) -> int:
    """A row's or cell's count of grid columns (gridBefore, gridSpan); 0 where unset."""
    return grid_columns(properties, _W + name, _W + "val")
