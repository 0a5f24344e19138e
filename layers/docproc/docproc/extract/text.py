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
from dataclasses import dataclass

from docproc.storage.port import ObjectStore

EXTRACTION_METHOD = "utf8-text"
# How far past a nominal boundary to look for a newline before falling back.
BOUNDARY_WINDOW = 64 * 1024
_WHITESPACE = b" \t\r\f\v"


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
    if finish <= begin:
        return TextSlice(text="", byte_start=begin, byte_end=begin)
    data = store.read_range(key, begin, finish, version_id)
    if begin == 0 and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        begin += len(codecs.BOM_UTF8)
    return TextSlice(text=data.decode("utf-8", errors="replace"), byte_start=begin, byte_end=finish)
