"""Mailboxes (mbox: Thunderbird's folders, Google Takeout's exports): many messages in one file,
each beginning with a "From " line. Read in byte ranges like text, but a range owns the
messages whose "From " line lies in it, each read whole (docproc.extract.mail), so every
message is read once, by one segment, whatever the ranges cut.

A "From " line separates messages at the start of the file or after a blank line (mboxrd
and mboxo writers escape a body's own "From " lines as ">From "; one after a blank line they
left unescaped would split its message in two, as other mbox readers do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from docproc.storage.port import ObjectStore
from docproc.storage.ranged import open_ranged

# A separator: a blank line (LF or CRLF), then "From ".
_SEPARATOR = re.compile(rb"\n\r?\nFrom ")
_FROM = b"From "
# Scanning for a separator reads this much at a time; a segment is read with this read-ahead.
_BLOCK = 1 << 20
_READ_AHEAD = 8 << 20


class MailboxMessage(NamedTuple):
    offset: int  # where its "From " line begins in the mailbox
    size: int  # its bytes, through to the next message's "From " line or the file's end
    data: bytes | None  # None: larger than the caller's limit, and not held


def next_message_start(
    store: ObjectStore, key: str, version_id: str | None, position: int, size: int
) -> int:
    """Where the first message at or after ``position`` begins (``size`` if none does)."""
    if position <= 0:
        return 0
    # From three bytes before: a separator whose "From " begins at ``position`` is found.
    offset = max(0, position - 3)
    carry = b""
    while offset < size:
        block = store.read_range(key, offset, min(offset + _BLOCK, size), version_id)
        data, base = carry + block, offset - len(carry)
        for match in _SEPARATOR.finditer(data):
            start = base + match.end() - len(_FROM)
            if start >= position:
                return start
        # A separator may straddle two blocks: keep the tail that could begin one.
        carry = data[-(len(_FROM) + 3) :]
        offset += len(block)
    return size


def owned_messages(
    store: ObjectStore,
    key: str,
    version_id: str | None,
    start: int,
    end: int,
    size: int,
    max_message_bytes: int | None = None,
) -> Iterator[MailboxMessage]:
    """Each message that begins in ``[start, end)``, read through to its end (past ``end`` if
    it runs on). ``max_message_bytes``: the most one message may hold; a larger one is read
    through and measured, but its bytes are let go as soon as it passes the limit (the caller
    refuses it, and must not hold it first to find out)."""
    begin = next_message_start(store, key, version_id, start, size)
    if begin >= min(end, size):
        return
    with open_ranged(store, key, size, version_id, _READ_AHEAD) as reader:
        reader.seek(begin)
        position, message_start = begin, begin
        message: bytearray | None = bytearray()
        # Lines are read a bounded piece at a time (a line may be a whole base64 attachment,
        # or the whole file): what matters is whether a piece begins a line, and whether the
        # line before it was blank.
        line_start, previous_blank = True, True
        for piece in iter(lambda: reader.readline(_BLOCK), b""):
            separator = line_start and previous_blank and piece.startswith(_FROM)
            if separator and position > message_start:
                yield _message(message_start, position, message)
                if position >= end:
                    return
                message, message_start = bytearray(), position
            if message is not None:
                message += piece
                if max_message_bytes is not None and len(message) > max_message_bytes:
                    message = None
            ends_line = piece.endswith(b"\n")
            previous_blank = ends_line and line_start and piece in (b"\n", b"\r\n")
            line_start = ends_line
            position += len(piece)
        if position > message_start:
            yield _message(message_start, position, message)


def _message(start: int, end: int, held: bytearray | None) -> MailboxMessage:
    return MailboxMessage(start, end - start, None if held is None else bytes(held))
