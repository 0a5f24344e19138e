"""Word 97-2003 documents (``.doc``: a ``WordDocument`` stream in an OLE compound file) as
text, retrieved as [MS-DOC] 2.4.1 says: the File Information Block at the stream's start gives
each story's length in characters and where the piece table is (in the ``0Table`` or
``1Table`` stream); the piece table maps the document's characters, a run at a time, to
places in the WordDocument stream, each run in Windows-1252 or UTF-16. No library on PyPI
reads them (the tools that do are programs: antiword, LibreOffice); this is the part of the
format that holds the text, and nothing else of it is read.

The main text comes first, then footnotes, comments, endnotes, text boxes and headers and
footers (a case caption or a Bates number is often there), each under a label. Fields show
their results, not their codes (a hyperlink's text, not ``HYPERLINK "..."``). A table's cells
are joined on their row's line with " | " (where a row ends is in paragraph properties docproc
does not read: a row's end is told by two marks in a row).

Read through olefile from the file as it is (on S3, by ranged reads): the WordDocument and
table streams are held while the text is made (the pictures, in the Data stream, are not
read). Word 6.0/95 files (another layout) are refused as unsupported; encrypted or obfuscated
ones as encrypted.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from docproc.errors import EncryptedDocument, InvalidDocument, UnsupportedDocument
from docproc.extract.sniff import OLE_ERRORS

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
_STORIES = [
    "Footnotes",
    "Headers and footers",
    None,
    "Comments",
    "Endnotes",
    "Text boxes",
    "Header text boxes",
]
_CLX_PAIR = 33  # fcClx/lcbClx: the 34th pair of FibRgFcLcb97
_PIECE_COMPRESSED = 0x40000000
# Characters with a meaning in the text: paragraph and line ends, breaks, marks of objects and
# notes (dropped), and the field characters (begin, separator, end).
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
_CELL_MARK = "\x07"
_REPLACED = str.maketrans(
    {
        "\r": "\n",
        "\x0b": "\n",  # a line break within a paragraph
        "\x0c": "\n\n",  # a page or section break
        "\x0e": "\n",  # a column break
        "\x1e": "-",  # a non-breaking hyphen
        "\xa0": " ",
        **{chr(code): None for code in range(0x20) if chr(code) not in "\t\n\r\x07\x0b\x0c\x0e"},
    }
)


def doc_text(source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None) -> str:
    """The text of the Word 97-2003 document ``source`` (a path or a seekable file).
    ``reserve(mb, reading)`` (the segment's budget) is asked for what its streams need before
    they are read."""
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
    except OLE_ERRORS as exc:
        raise InvalidDocument(f"not a readable Word document: {type(exc).__name__}") from exc
    characters = "".join(_pieces(document, table[fib.clx_start : fib.clx_end]))
    del document, table
    blocks = []
    start = 0
    for label, length in [("", fib.main_length), *zip(_STORIES, fib.story_lengths, strict=True)]:
        if label is not None:
            text = _visible(characters[start : start + length])
            if text:
                blocks.append(f"{label}:\n{text}" if label else text)
        start += length
    del characters
    return "\n\n".join(blocks)


class _Fib:
    """What the File Information Block says: flags, the stories' lengths, the piece table's
    place in the table stream."""

    def __init__(
        self, flags: int, main_length: int, story_lengths: list[int], clx: tuple[int, int]
    ) -> None:
        self.flags, self.main_length, self.story_lengths = flags, main_length, story_lengths
        self.clx_start, self.clx_end = clx[0], clx[0] + clx[1]

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
        except struct.error as exc:
            raise InvalidDocument("not a readable Word document: its header is cut") from exc
        return cls(flags, lengths[3], list(lengths[4:11]), clx)


def _pieces(document: bytes, clx: bytes) -> Iterator[str]:
    """The document's characters, a piece at a time, from the piece table in ``clx`` (after
    any property runs before it: Prc, clxt 1)."""
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
        for number in range(count):
            (described,) = struct.unpack_from("<I", table, (count + 1) * 4 + number * 8 + 2)
            length = positions[number + 1] - positions[number]
            if length <= 0:
                continue
            if described & _PIECE_COMPRESSED:
                start = (described & ~_PIECE_COMPRESSED) // 2
                yield document[start : start + length].decode("cp1252", errors="replace")
            else:
                start = described
                yield document[start : start + 2 * length].decode("utf-16-le", errors="replace")
    except (IndexError, struct.error) as exc:
        raise InvalidDocument("not a readable Word document: its piece table is cut") from exc


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
    # A row ends with its last cell's mark and its own: two marks in a row.
    text = text.replace(_CELL_MARK * 2, "\n").replace(_CELL_MARK, " | ").translate(_REPLACED)
    return "\n".join(_tidy(line) for line in text.split("\n")).strip()


def _tidy(line: str) -> str:
    return " ".join(line.split()) if "|" in line else line.rstrip()
