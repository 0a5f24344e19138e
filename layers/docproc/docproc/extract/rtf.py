"""RTF to text with striprtf: control words, font tables, pictures and other destinations
dropped, escapes (``\\'e9``, ``\\u8364?``) decoded in the document's code page; and the objects
it embeds (``{\\object ...}``: a workbook or a document pasted as an object, a file packaged as
an icon) read where they stand, as those kinds of files.

RTF's groups nest from the first byte to the last, so a document is read whole; it is held
as text, and its text beside it: a document that would not fit what the segment has left is
refused before it is read.

An object's data (``{\\*\\objdata HEX}``) is an OLE 1.0 object in hexadecimal
(docproc.extract.ole_objects.ole1_object). striprtf leaves whole objects out; here each is
replaced by a word of its own before striprtf reads the document, and that word by the object's
text after (docproc.extract.included: within the document's allowance of included files and
the segment's budget, one that cannot be read left out and logged).
"""

from __future__ import annotations

import binascii
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from striprtf.striprtf import rtf_to_text

from docproc.errors import InvalidDocument

if TYPE_CHECKING:
    from docproc.extract.included import Allowance, IncludedFiles

EXTRACTION_METHOD = "striprtf"
# Peak memory of reading a document per byte of it (its bytes, the same as text and the text
# found), with a margin: measured, 1.7x for 19 MB of RTF with pictures; 3.0x for 38 MB holding
# a 19 MB PDF of scans as an object (its hexadecimal decoded, the PDF, its text).
RTF_MEMORY_FACTOR = 4

_OBJECT = re.compile(rb"\{\\object(?![a-z])")
_OBJECT_DATA = re.compile(rb"\{\\\*\\objdata(?![a-z])")
# What a group's end is found by: its braces, and the escapes that are none (\{ \} \\).
# (\binN's N as RTF writes a number: at most 10 digits)
_GROUP_TOKEN = re.compile(rb"[{}]|\\[{}\\]|\\bin(-?\d{1,10})(?!\d) ?")
# Hexadecimal as RTF writers wrap it.
_LINE_BREAKS = b" \t\r\n"


def rtf_text(
    data: bytes,
    reserve: Callable[[float, str], None] | None = None,
    depth: int = 0,
    allowance: Allowance | None = None,
) -> str:
    """The text of the RTF document ``data``, its objects read where they stand. ``reserve``
    (the segment's budget) is asked for what reading an object needs first; ``depth``: how
    deep in other files the document lies."""
    objects = list(_objects(data))
    # A word no document holds, then the object's number.
    marker = f"docprocobject{os.urandom(16).hex()}n"
    marked = _marked(data, objects, marker) if objects else data
    # RTF is 7-bit: its other characters are escapes; a stray 8-bit byte is kept as Latin-1.
    try:
        text = rtf_to_text(marked.decode("latin-1"), errors="replace")
    # What striprtf raises on a malformed control word or code page (found by fuzzing it).
    except (ValueError, TypeError, LookupError, OverflowError, IndexError) as exc:
        raise InvalidDocument(f"not a readable RTF: {type(exc).__name__}") from exc
    del marked
    if objects:
        # (imported only for a document with objects, as ole_objects: they bring the package
        # readers' errors, lxml, zipfile, olefile's)
        from docproc.extract.included import Allowance, IncludedFiles

        included = IncludedFiles(reserve, depth, allowance or Allowance.whole())

        def object_text(found: re.Match[str]) -> str:
            start, end = objects[int(found.group(1))]
            read = _object_text(data[start:end], included)
            # A block of its own, as a paragraph is; nothing where it is left out.
            return f"\n{read}\n\n" if read else ""

        text = re.sub(re.escape(marker) + r"(\d+)\n?", object_text, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _objects(data: bytes) -> Iterator[tuple[int, int]]:
    """Where each object's group is in ``data`` (from its ``{`` to after its ``}``), in order;
    one whose group does not end is left as it is (striprtf reads what it can of it)."""
    at = 0
    while found := _OBJECT.search(data, at):
        end = _group_end(data, found.start())
        if end is None:
            return
        yield found.start(), end
        at = end


def _group_end(data: bytes, start: int) -> int | None:
    """Where the group opening at ``start`` ends (after its ``}``); None if it does not."""
    depth = 0
    at = start
    while token := _GROUP_TOKEN.search(data, at):
        at = token.end()
        if token.group(1) is not None:  # \binN: N bytes of data, which may hold braces
            at = min(len(data), at + max(0, int(token.group(1))))
        elif token.group() == b"{":
            depth += 1
        elif token.group() == b"}":
            depth -= 1
            if depth == 0:
                return at
    return None


def _marked(data: bytes, objects: list[tuple[int, int]], marker: str) -> bytes:
    """``data`` with each object's group replaced by its marker, which ends a paragraph."""
    pieces, at = [], 0
    for number, (start, end) in enumerate(objects):
        pieces += [data[at:start], b"{" + f"{marker}{number}".encode() + b"\\par}"]
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


def _object_text(group: bytes, included: IncludedFiles) -> str:
    """The text of the object whose group is ``group``: its data's file, read as its kind; an
    object without data, or whose data is damaged or linked, is left out."""
    found = _OBJECT_DATA.search(group)
    end = _group_end(group, found.start()) if found else None
    if found is None or end is None:
        return ""
    try:
        ole1 = binascii.unhexlify(group[found.end() : end - 1].translate(None, _LINE_BREAKS))
    except (binascii.Error, ValueError):  # not hexadecimal (\bin data, or damaged)
        return ""
    from docproc.extract.ole_objects import ole1_object

    embedded = ole1_object(ole1)
    del ole1  # (its file is a copy)
    if embedded is None:
        return ""
    name, native = embedded
    return included.text(name, len(native), lambda: native)
