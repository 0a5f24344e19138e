"""Byte-range segments of text-like objects, read with ranged GETs.

Every segment computes its cut points with the same function, so neighbouring segments
agree on where one ends and the next begins: each byte belongs to exactly one segment.
A cut point at position ``p`` is the first of, searching forward from ``p``:
  1. the start of a line (just after a newline),
  2. just after a whitespace byte, when no newline is near (very long lines),
  3. the start of a UTF-8 character, when there is no whitespace either,
so no line is read twice and no UTF-8 sequence is split.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass

from docproc.storage.port import ObjectStore

EXTRACTION_METHOD = "utf8-text"
# How far past a nominal boundary to look for a newline before falling back.
BOUNDARY_WINDOW = 64 * 1024
_WHITESPACE = b" \t\r\f\v"
# A segment's text is read and chunked a block at a time, each cut as segments are: an 8 MiB
# segment as one str is 16 MB once a character past U+00FF (a euro sign) is in it, the largest
# thing a text segment held at its peak.
BLOCK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class TextSlice:
    text: str
    byte_start: int
    byte_end: int


def cut_point(
    store: ObjectStore, key: str, version_id: str | None, position: int, size: int
) -> int:
    """The boundary at or after ``position`` (see the module docstring)."""
    if position <= 0:
        return 0
    if position >= size:
        return size
    window = store.read_range(key, position - 1, min(position + BOUNDARY_WINDOW, size), version_id)
    if window[:1] == b"\n":
        return position
    newline = window.find(b"\n", 1)
    if newline != -1:
        return position - 1 + newline + 1
    for index in range(1, len(window) - 1):
        if window[index] in _WHITESPACE:
            return position - 1 + index + 1
    for index in range(1, len(window)):
        if window[index] & 0xC0 != 0x80:  # not a continuation byte
            return position - 1 + index
    return min(position - 1 + len(window), size)


def read_slice(
    store: ObjectStore, key: str, version_id: str | None, start: int, end: int, size: int
) -> TextSlice:
    """The text this segment owns: from the cut point at ``start`` to the one at ``end``."""
    begin = cut_point(store, key, version_id, start, size)
    finish = cut_point(store, key, version_id, end, size)
    return _read(store, key, version_id, begin, finish)


def read_blocks(
    store: ObjectStore,
    key: str,
    version_id: str | None,
    start: int,
    end: int,
    size: int,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[TextSlice]:
    """The text this segment owns (as ``read_slice``), in consecutive slices of about
    ``block_bytes``, each ending at a cut point: a chunk ends where a block does, as at a
    segment's end."""
    begin = cut_point(store, key, version_id, start, size)
    finish = cut_point(store, key, version_id, end, size)
    while begin < finish:
        stop = (
            finish
            if finish - begin <= block_bytes
            else min(finish, cut_point(store, key, version_id, begin + block_bytes, size))
        )
        yield _read(store, key, version_id, begin, stop)
        begin = stop


def _read(
    store: ObjectStore, key: str, version_id: str | None, begin: int, finish: int
) -> TextSlice:
    if finish <= begin:
        return TextSlice(text="", byte_start=begin, byte_end=begin)
    data = store.read_range(key, begin, finish, version_id)
    if begin == 0 and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        begin += len(codecs.BOM_UTF8)
    return TextSlice(text=data.decode("utf-8", errors="replace"), byte_start=begin, byte_end=finish)
