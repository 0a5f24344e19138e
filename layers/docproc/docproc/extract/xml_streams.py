"""XML documents read as streams, an element at a time, by the readers of one-file office
documents (flat OpenDocument files, Word 2003 XML, Excel 2003 XML): lxml's options for them,
letting go of what was read, and their bytes without the base64 of the pictures they carry.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

# What lxml is told for a document from an upload: no entities expanded, nothing fetched, and
# its limits kept (a text node of 10 MB, a depth of 256: lifting one lifts the other).
PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": False,
}


@contextmanager
def opened_within(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None,
    factor: float,
    what: str,
) -> Iterator[IO[bytes]]:
    """``source`` (a path or a seekable file) open at its start, once ``reserve(mb, reading)``
    (the segment's budget) has been asked for ``factor`` times its size ("``what`` of N MB")."""
    with ExitStack() as stack:
        stream = stack.enter_context(open(source, "rb")) if isinstance(source, Path) else source
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        if reserve is not None:
            megabytes = size / 2**20
            reserve(megabytes * factor, f"{what} of {megabytes:.0f} MB")
        yield stream


def let_go(element: Any) -> None:
    """Frees a parsed element and what came before it in its parent (iterparse keeps both)."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


_PIECE = 1 << 20
# What may follow an element's name in its start tag.
_AFTER_NAME = frozenset(b" \t\r\n>/")


class WithoutBinaryData(io.RawIOBase):
    """A picture in a flat document is base64 as large as the file may be, none of it text,
    and over lxml's limit on a text node: the bytes of ``source`` with the text of each element
    named ``name`` (as the file writes it, its prefix included: the prefix its program writes)
    left out as they are read; the elements themselves, their attributes, and the rest kept."""

    def __init__(self, source: IO[bytes], name: bytes) -> None:
        self._source = source
        self._open, self._close = b"<" + name, b"</" + name + b">"
        self._held = b""  # read, not yet given: it may end in part of a tag
        self._ready = bytearray()
        self._inside = False  # within an element's text

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._ready:
            piece = self._source.read(_PIECE)
            if not piece:
                if not self._inside:
                    self._ready += self._held
                self._held = b""
                break
            self._take(self._held + piece)
        count = min(len(buffer), len(self._ready))
        buffer[:count] = self._ready[:count]
        del self._ready[:count]
        return count

    def _take(self, data: bytes) -> None:
        """Moves what of ``data`` is not an element's text to what is ready, holding back its
        end where a tag may begin or go on."""
        at = 0
        while True:
            if self._inside:
                found = data.find(self._close, at)
                if found < 0:
                    self._held = data[max(at, len(data) - len(self._close) + 1) :]
                    return
                at, self._inside = found, False  # (the closing tag is kept)
                continue
            found = data.find(self._open, at)
            after = found + len(self._open)
            if found < 0 or after >= len(data):
                end = max(at, len(data) - len(self._open)) if found < 0 else found
                self._ready += data[at:end]
                self._held = data[end:]
                return
            if data[after] not in _AFTER_NAME:  # another element whose name begins so
                self._ready += data[at:after]
                at = after
                continue
            tag_end = data.find(b">", after)
            if tag_end < 0 and len(data) - found <= _PIECE:  # the start tag goes on
                self._ready += data[at:found]
                self._held = data[found:]
                return
            if tag_end < 0:  # no tag this long: not one, as lxml will say
                self._ready += data[at:after]
                at = after
                continue
            self._ready += data[at : tag_end + 1]
            at, self._inside = tag_end + 1, data[tag_end - 1] != ord("/")
