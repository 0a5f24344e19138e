"""Word 97-2003 documents (``.doc``: a ``WordDocument`` stream in an OLE compound file) as
text, retrieved as [MS-DOC] 2.4.1 says: the File Information Block at the stream's start gives
each story's length in characters and where the piece table is (in the ``0Table`` or
``1Table`` stream); the piece table maps the document's characters, a run at a time, to
places in the WordDocument stream, each run in Windows-1252 or UTF-16. No library on PyPI
reads them (the tools that do are programs: antiword, LibreOffice); this is the part of the
format that holds the text, and only it is read (with two paragraph properties, below).

The main text comes first, then footnotes, headers and footers (a case caption or a Bates
number is often there), comments, endnotes and text boxes, each under a label. Fields show
their results, not their codes (a hyperlink's text, not ``HYPERLINK "..."``). A table is a
Markdown table, as a DOCX's: which paragraphs are in a table and which mark ends a row is read
from the paragraphs' properties (two of them; nothing else of the formatting is read). Where
those cannot be read, a row's cells are joined on a line with " | ", its end told by two marks
in a row. An object the document embeds (its storage in the ObjectPool, its EMBED field's
separator its anchor, as two of the characters' properties say) is read after its paragraph
as the file it is (docproc.extract.included).

Read through olefile from the file as it is (on S3, by ranged reads): the WordDocument and
table streams are held while the text is made (the pictures, in the Data stream, are not
read). Word 6.0/95 files (another layout) are refused as unsupported; encrypted or obfuscated
ones as encrypted.
"""

from __future__ import annotations

import bisect
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from docproc.errors import EncryptedDocument, InvalidDocument, UnsupportedDocument
from docproc.extract.pages import distinct_lines, markdown_grid
from docproc.extract.sniff import OLE_ERRORS

if TYPE_CHECKING:
    import olefile

    from docproc.extract.included import IncludedFiles

EXTRACTION_METHOD = "doc"
# Peak memory of reading a document per byte of its WordDocument and table streams, with a
# margin: the streams, then their text as str (up to 2 bytes a character for text beyond
# Latin-1) through the steps that make it readable. Measured: 449 MB over the interpreter for
# 70 MB of streams, 46 million characters, most in UTF-16 with a character beyond Latin-1.
MEMORY_FACTOR = 10

_STREAMS = ("WordDocument", "0Table", "1Table")
_WORD_IDENT = 0xA5EC
_FIRST_WORD_97_FIB = 0x00C0  # nFib of Word 97 and later; Word 6.0/95 wrote 0x0065-0x0069
_ENCRYPTED, _WHICH_TABLE, _OBFUSCATED = 0x0100, 0x0200, 0x8000
# Stories after the main text, in the order their lengths follow ccpText in FibRgLw97, with
# the label each is given (None: not read; macro text is unused).
_HEADERS = "Headers and footers"
_STORIES = [
    "Footnotes",
    _HEADERS,
    None,
    "Comments",
    "Endnotes",
    "Text boxes",
    "Header text boxes",
]
_CLX_PAIR = 33  # fcClx/lcbClx: the 34th pair of FibRgFcLcb97
_CHPX_PAIR = 12  # fcPlcfBteChpx/lcbPlcfBteChpx: where the characters' properties are
_PAPX_PAIR = 13  # fcPlcfBtePapx/lcbPlcfBtePapx: where the paragraphs' properties are
_FKP_SIZE = 512
# Paragraphs by what their properties say of tables, and the properties (sprms) that say it.
_NORMAL, _IN_TABLE, _ROW_END = 0, 1, 2
_SPRM_IN_TABLE = 0x2416  # sprmPFInTable
# sprmPFTtp; a table within a cell (its rows' ends: sprmPFInnerTtp) is read into that cell
_SPRM_ROW_END = 0x2417
_SPRM_DEFINE_TABLE = 0xD608  # sprmTDefTable: its operand's size in two bytes
# An sprm's operand size by its spra (the opcode's top 3 bits); None: given in the operand.
_SPRM_OPERAND_SIZES = (1, 1, 2, 4, 2, 2, None, 3)
_PIECE_COMPRESSED = 0x40000000
# Characters with a meaning in the text: paragraph and line ends, breaks, marks of objects and
# notes (dropped), and the field characters (begin, separator, end).
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
_CELL_MARK = "\x07"
# An embedded object's place in the text: the separator of its EMBED field, whose properties
# say it is an object's (sprmCFObj), kept in the ObjectPool storage that sprmCPicLocation
# names ("_" and the number).
_OBJECT_ANCHOR = _FIELD_SEPARATOR
_SPRM_OBJECT, _SPRM_PICTURE_LOCATION = 0x0856, 0x6A03
_OBJECT_POOL = "ObjectPool"
# Where an object stands in the text being made: private-use characters around its number,
# which nothing before the objects are read changes.
_OBJECT_MARK = re.compile("\ue000(\\d+)\ue001")
# Marks given to characters by their paragraphs' properties (characters Word never stores in
# text): the end of a paragraph within a cell, and the mark that ends a table's row.
_CELL_BREAK, _ROW_MARK = "\x1c", "\x1d"
_PARAGRAPH_ENDS = re.compile("[\r\x07]")
_REPLACED = str.maketrans(
    {
        "\r": "\n",
        "\x0b": "\n",  # a line break within a paragraph
        "\x0c": "\n\n",  # a page or section break
        "\x0e": "\n",  # a column break
        "\x1e": "-",  # a non-breaking hyphen
        "\xa0": " ",
        "\x07": " | ",  # a cell's end where its row is not known
        "\x1c": " ",  # _CELL_BREAK outside a row
        **{
            chr(code): None for code in range(0x20) if chr(code) not in "\t\n\r\x07\x0b\x0c\x0e\x1c"
        },
    }
)


def doc_text(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None = None,
    depth: int = 0,
) -> str:
    """The text of the Word 97-2003 document ``source`` (a path or a seekable file), the
    objects it embeds read after their paragraphs. ``reserve(mb, reading)`` (the segment's
    budget) is asked for what its streams need before they are read; ``depth``: how deep in
    other files the document lies."""
    import olefile  # only for compound files

    try:
        with olefile.OleFileIO(source) as ole:
            if reserve is not None:
                # (olefile reads a stream whole when it opens it: the sizes come first)
                sizes = [ole.get_size(name) for name in _STREAMS if ole.exists(name)]
                streams_mb = (sizes[0] + max(sizes[1:], default=0)) / 2**20
                reserve(streams_mb * MEMORY_FACTOR, f"a Word document of {streams_mb:.0f} MB")
            document = ole.openstream("WordDocument").read()
            fib = _Fib.read(document[:1024])
            table = ole.openstream("1Table" if fib.flags & _WHICH_TABLE else "0Table").read()
            # (an object's anchor is looked for only where the file keeps objects)
            pooled = ole.exists(_OBJECT_POOL)
            texts, objects = _piece_texts(document, table, fib, pooled)
            del document, table  # (before the text is made: the most it needs)
            text = _stories_text(texts, fib, objects)
            if _OBJECT_MARK.search(text) is None:
                return text
            from docproc.extract.included import Allowance, IncludedFiles  # (objects: rare)

            embedded = _EmbeddedObjects(ole, IncludedFiles(reserve, depth, Allowance.whole()))
            return _with_objects(text, embedded.text)
    except OLE_ERRORS as exc:
        raise InvalidDocument(f"not a readable Word document: {type(exc).__name__}") from exc


def _piece_texts(
    document: bytes, table: bytes, fib: _Fib, pooled: bool
) -> tuple[list[str], list[tuple[int, int]]]:
    """The text of each piece, in the document's order, tables' marks as its paragraphs'
    properties say; and, where the file has an ObjectPool (``pooled``), where each object it
    embeds stands (the position of its field's separator, its number), in order."""
    pieces = _piece_table(table[fib.clx_start : fib.clx_end])
    texts = [piece.text(document) for piece in pieces]
    if any(_CELL_MARK in text for text in texts):
        paragraphs = _Runs.read(document, table, fib.papx, _fkp_runs)
        if paragraphs is not None:
            texts = [
                _with_table_marks(p, t, paragraphs) for p, t in zip(pieces, texts, strict=True)
            ]
    objects: list[tuple[int, int]] = []
    if pooled and any(_OBJECT_ANCHOR in text for text in texts):
        runs = _Runs.read(document, table, fib.chpx, _object_runs)
        if runs is not None:
            for piece, text in zip(pieces, texts, strict=True):
                objects += _objects_in(piece, text, runs)
    return texts, objects


def _stories_text(texts: list[str], fib: _Fib, objects: list[tuple[int, int]]) -> str:
    """The stories ``texts`` hold (emptied as they are joined), each as a reader sees it,
    under its label; ``objects`` marked where they stand (_OBJECT_MARK)."""
    characters = "".join(texts)
    texts.clear()
    blocks = []
    start = 0
    for label, length in [("", fib.main_length), *zip(_STORIES, fib.story_lengths, strict=True)]:
        if label is not None:
            text = _visible(_with_object_marks(characters, start, start + length, objects))
            if label == _HEADERS:
                # Each section's headers and footers (first, odd and even pages) are in the
                # story: each line once.
                text = "\n".join(distinct_lines([text]))
            if text:
                blocks.append(f"{label}:\n{text}" if label else text)
        start += length
    del characters
    return "\n\n".join(blocks)


class _Fib:
    """What the File Information Block says: flags, the stories' lengths, the piece table's
    place in the table stream."""

    def __init__(
        self,
        flags: int,
        main_length: int,
        story_lengths: list[int],
        clx: tuple[int, int],
        papx: tuple[int, int],
        chpx: tuple[int, int],
    ) -> None:
        self.flags, self.main_length, self.story_lengths = flags, main_length, story_lengths
        self.clx_start, self.clx_end = clx[0], clx[0] + clx[1]
        self.papx = papx  # PlcBtePapx's place and size in the table stream
        self.chpx = chpx  # PlcBteChpx's

    @classmethod
    def read(cls, head: bytes) -> _Fib:
        try:
            ident, version = struct.unpack_from("<HH", head, 0)
            if ident != _WORD_IDENT:
                raise InvalidDocument("not a Word document: its WordDocument stream is not one")
            if version < _FIRST_WORD_97_FIB:
                raise UnsupportedDocument(
                    "content is a Word 6.0/95 document", detected_type="application/msword"
                )
            (flags,) = struct.unpack_from("<H", head, 0x0A)
            if flags & (_ENCRYPTED | _OBFUSCATED):
                raise EncryptedDocument("the Word document is encrypted")
            (shorts,) = struct.unpack_from("<H", head, 32)
            longs_at = 34 + shorts * 2 + 2
            (longs,) = struct.unpack_from("<H", head, longs_at - 2)
            lengths = struct.unpack_from("<11I", head, longs_at)  # FibRgLw97 to ccpHdrTxbx
            pairs_at = longs_at + longs * 4 + 2
            (pairs,) = struct.unpack_from("<H", head, pairs_at - 2)
            if pairs <= _CLX_PAIR:
                raise InvalidDocument("not a readable Word document: no piece table")
            clx = struct.unpack_from("<II", head, pairs_at + _CLX_PAIR * 8)
            papx = struct.unpack_from("<II", head, pairs_at + _PAPX_PAIR * 8)
            chpx = struct.unpack_from("<II", head, pairs_at + _CHPX_PAIR * 8)
        except struct.error as exc:
            raise InvalidDocument("not a readable Word document: its header is cut") from exc
        return cls(flags, lengths[3], list(lengths[4:11]), clx, papx, chpx)


@dataclass(frozen=True)
class _Piece:
    """A run of the document's characters (from ``start``, ``length`` of them) stored at byte
    ``offset`` of the WordDocument stream, a byte each (Windows-1252) or two (UTF-16)."""

    start: int
    length: int
    offset: int
    compressed: bool

    def text(self, document: bytes) -> str:
        if self.compressed:
            return document[self.offset : self.offset + self.length].decode("cp1252", "replace")
        end = self.offset + 2 * self.length
        return document[self.offset : end].decode("utf-16-le", errors="replace")

    def byte_at(self, position: int) -> int:
        """Where character ``position`` (of this piece) is stored."""
        return self.offset + (position - self.start) * (1 if self.compressed else 2)


def _piece_table(clx: bytes) -> list[_Piece]:
    """The pieces the piece table in ``clx`` lists (after any property runs before it: Prc,
    clxt 1), in the document's order."""
    position = 0
    try:
        while clx[position] == 1:
            (size,) = struct.unpack_from("<h", clx, position + 1)
            position += 3 + max(size, 0)
        if clx[position] != 2:
            raise InvalidDocument("not a readable Word document: its piece table is damaged")
        (size,) = struct.unpack_from("<I", clx, position + 1)
        table = clx[position + 5 : position + 5 + size]
        count = (len(table) - 4) // 12
        positions = struct.unpack_from(f"<{count + 1}I", table, 0)
        pieces = []
        for number in range(count):
            (described,) = struct.unpack_from("<I", table, (count + 1) * 4 + number * 8 + 2)
            length = positions[number + 1] - positions[number]
            if length <= 0:
                continue
            compressed = bool(described & _PIECE_COMPRESSED)
            offset = (described & ~_PIECE_COMPRESSED) // 2 if compressed else described
            pieces.append(_Piece(positions[number], length, offset, compressed))
    except (IndexError, struct.error) as exc:
        raise InvalidDocument("not a readable Word document: its piece table is cut") from exc
    return pieces


class _Runs:
    """Runs of the stored text (where it is in the WordDocument stream) and a value each, from
    the pages of properties (FKP) a PlcBte lists: which paragraphs are in a table
    (PlcBtePapx's pages, _fkp_runs), which characters anchor an embedded object (PlcBteChpx's,
    _object_runs). Only what says so is read of the properties."""

    def __init__(self, runs: list[tuple[int, int, int]]) -> None:
        runs.sort()
        self._starts = [start for start, _, _ in runs]
        self._runs = runs

    @classmethod
    def read(
        cls,
        document: bytes,
        table: bytes,
        place: tuple[int, int],
        page_runs: Callable[[bytes], list[tuple[int, int, int]]],
    ) -> _Runs | None:
        """The runs ``page_runs`` finds on each page the PlcBte at ``place`` in the table
        stream lists; None where there are no pages, or they cannot be read (the text is then
        read without what they would say: tables told by their marks alone, objects left
        out)."""
        start, size = place
        plc = table[start : start + size]
        count = (len(plc) - 4) // 8
        if count <= 0:
            return None
        runs: list[tuple[int, int, int]] = []
        try:
            for page in struct.unpack_from(f"<{count}I", plc, (count + 1) * 4):
                at = (page & 0x3FFFFF) * _FKP_SIZE
                runs += page_runs(document[at : at + _FKP_SIZE])
        except (IndexError, struct.error):
            return None
        return cls(runs)

    def at(self, offset: int) -> int | None:
        """The value of the run that holds byte ``offset``; None outside every run."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0 or offset >= self._runs[index][1]:
            return None
        return self._runs[index][2]


def _fkp_runs(page: bytes) -> list[tuple[int, int, int]]:
    """(start, end, kind) of each paragraph a PapxFkp describes."""
    count = page[_FKP_SIZE - 1]
    bounds = struct.unpack_from(f"<{count + 1}I", page, 0)
    runs = []
    for number in range(count):
        at = page[4 * (count + 1) + 13 * number] * 2  # BxPap's bOffset, in words
        size = page[at]
        if size == 0:
            size, at = 2 * page[at + 1], at + 2
        else:
            size, at = 2 * size - 1, at + 1
        grpprl = page[at + 2 : at + size]  # after the paragraph's style (istd)
        runs.append((bounds[number], bounds[number + 1], _paragraph_kind(grpprl)))
    return runs


def _paragraph_kind(grpprl: bytes) -> int:
    """What the paragraph's properties (sprms) say of tables."""
    kind, position = _NORMAL, 0
    while position + 2 <= len(grpprl):
        (operation,) = struct.unpack_from("<H", grpprl, position)
        position += 2
        if operation == _SPRM_ROW_END and grpprl[position : position + 1] == b"\x01":
            return _ROW_END
        if operation == _SPRM_IN_TABLE and grpprl[position : position + 1] == b"\x01":
            kind = _IN_TABLE
        size = _SPRM_OPERAND_SIZES[operation >> 13]
        if size is None:  # variable: a byte says how many follow (sprmTDefTable: two bytes)
            if operation == _SPRM_DEFINE_TABLE:
                size = struct.unpack_from("<H", grpprl, position)[0] + 1
            else:
                size = grpprl[position] + 1
        position += size
    return kind


def _object_runs(page: bytes) -> list[tuple[int, int, int]]:
    """(start, end, object number) of each run of characters a ChpxFkp describes as an
    embedded object."""
    count = page[_FKP_SIZE - 1]
    bounds = struct.unpack_from(f"<{count + 1}I", page, 0)
    runs = []
    for number in range(count):
        at = page[4 * (count + 1) + number] * 2  # its Chpx's offset, in words (0: none)
        if at == 0:
            continue
        grpprl = page[at + 1 : at + 1 + page[at]]
        found = _object_number(grpprl)
        if found is not None:
            runs.append((bounds[number], bounds[number + 1], found))
    return runs


def _object_number(grpprl: bytes) -> int | None:
    """The ObjectPool number the characters' properties (sprms) give, if they are an
    object's (a picture's location, without sprmCFObj, is in the Data stream)."""
    ole, location, position = False, None, 0
    while position + 2 <= len(grpprl):
        (operation,) = struct.unpack_from("<H", grpprl, position)
        position += 2
        if operation == _SPRM_OBJECT:
            ole = grpprl[position : position + 1] == b"\x01"
        elif operation == _SPRM_PICTURE_LOCATION:
            (location,) = struct.unpack_from("<I", grpprl, position)
        size = _SPRM_OPERAND_SIZES[operation >> 13]
        position += grpprl[position] + 1 if size is None else size
    return location if ole else None


def _objects_in(piece: _Piece, text: str, runs: _Runs) -> Iterator[tuple[int, int]]:
    """(position, number) of each object ``text`` (``piece``'s) anchors: a field separator
    whose properties say it is an object's."""
    position = text.find(_OBJECT_ANCHOR)
    while position >= 0:
        number = runs.at(piece.byte_at(piece.start + position))
        if number is not None:
            yield piece.start + position, number
        position = text.find(_OBJECT_ANCHOR, position + 1)


def _with_object_marks(
    characters: str, start: int, end: int, objects: list[tuple[int, int]]
) -> str:
    """``characters[start:end]`` with the mark of each object there (_OBJECT_MARK) after the
    field separator that anchors it: in the field's result, which the text keeps."""
    parts: list[str] = []
    done = start
    for position, number in objects[bisect.bisect_left(objects, (start, -1)) :]:
        if position >= end:
            break
        parts += [characters[done : position + 1], f"\ue000{number}\ue001"]
        done = position + 1
    parts.append(characters[done:end])
    return "".join(parts)


class _EmbeddedObjects:
    """The objects a document embeds, each in its ObjectPool storage ("_" and its number),
    read as the files they are (docproc.extract.included)."""

    def __init__(self, ole: olefile.OleFileIO, included: IncludedFiles) -> None:
        self._ole, self._included = ole, included

    def text(self, number: int) -> str:
        from docproc.extract.compound import storage_file, storage_size

        storage = f"{_OBJECT_POOL}/_{number}"
        if not self._ole.exists(storage):
            return ""
        size = storage_size(self._ole, storage)
        return self._included.text(storage, size, partial(storage_file, self._ole, storage))


def _with_objects(text: str, object_text: Callable[[int], str]) -> str:
    """``text`` without its objects' marks, each object's text after the paragraph that holds
    it (a table's after the table), a block of its own."""
    lines = text.split("\n")
    kept: list[str] = []
    pending: list[str] = []
    for index, line in enumerate(lines):
        pending += [object_text(int(number)) for number in _OBJECT_MARK.findall(line)]
        kept.append(_OBJECT_MARK.sub("", line).rstrip())
        in_table = line.startswith("|") and lines[index + 1 : index + 2] != [""]
        if pending and not (in_table and index + 1 < len(lines)):
            kept += [f"\n{found}\n" for found in pending if found]
            pending = []
    return re.sub("\n{3,}", "\n\n", "\n".join(kept)).strip()


def _visible(story: str) -> str:
    """A story's text as a reader sees it: fields' results without their codes, table rows as
    lines of cells, marks of objects and notes left out."""
    kept: list[str] = []
    fields: list[bool] = []  # open fields, innermost last: True once past the code
    start = 0
    for position, character in enumerate(story):
        if character not in (_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END):
            continue
        if all(fields):
            kept.append(story[start:position])
        if character == _FIELD_BEGIN:
            fields.append(False)
        elif character == _FIELD_SEPARATOR and fields:
            fields[-1] = True
        elif fields:
            fields.pop()
        start = position + 1
    if all(fields):
        kept.append(story[start:])
    text = "".join(kept)
    del kept
    if _ROW_MARK in text:
        return _with_tables(text)
    # Where rows end is unknown (no paragraph properties): a row ends with its last cell's
    # mark and its own, two marks in a row (a row whose last cell is empty runs on).
    text = text.replace(_CELL_MARK * 2, "\n").replace(_CELL_MARK, " | ")
    return _readable(text)


def _readable(text: str) -> str:
    text = text.translate(_REPLACED)
    return "\n".join(_tidy(line) for line in text.split("\n")).strip()


def _tidy(line: str) -> str:
    return " ".join(line.split()) if "|" in line else line.rstrip()


def _with_table_marks(piece: _Piece, text: str, paragraphs: _Runs) -> str:
    """``text`` (``piece``'s) with the end of each paragraph within a table's cell as
    _CELL_BREAK and each mark that ends a row as _ROW_MARK, by their paragraphs' properties."""
    parts: list[str] = []
    done = 0
    for match in _PARAGRAPH_ENDS.finditer(text):
        position = match.start()
        kind = paragraphs.at(piece.byte_at(piece.start + position)) or _NORMAL
        if kind == _ROW_END and text[position] == _CELL_MARK:
            parts += [text[done:position], _ROW_MARK]
        elif kind != _NORMAL and text[position] == "\r":
            parts += [text[done:position], _CELL_BREAK]
        else:
            continue
        done = position + 1
    parts.append(text[done:])
    return "".join(parts)


def _with_tables(text: str) -> str:
    """Text whose rows' ends are marked (_ROW_MARK): each run of rows a Markdown table (its
    first row the header, as a DOCX's), the paragraphs between them as they are."""
    blocks: list[str] = []
    rows: list[list[str]] = []
    *row_texts, after = text.split(_ROW_MARK)
    for row_text in row_texts:
        before, paragraph_end, row = row_text.rpartition("\r")
        if paragraph_end:  # a paragraph outside the table: the rows so far are one
            blocks += [markdown_grid(rows), _readable(before)]
            rows = []
        cells = row.split(_CELL_MARK)
        rows.append([_readable(cell.replace(_CELL_BREAK, " ")) for cell in cells[:-1] or cells])
    blocks += [markdown_grid(rows), _readable(after)]
    return "\n\n".join(block for block in blocks if block)
