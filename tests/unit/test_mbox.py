"""Mailboxes: told apart by their content, cut into ranges that each own the messages that begin
in them, so every message is read once, whole, whatever the ranges."""

from __future__ import annotations

import itertools
import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from docproc.extract.mbox import owned_messages
from docproc.extract.sniff import MBOX, TEXT, sniff
from tests.documents import email_message, mailbox_file
from tests.fakes import InMemoryObjectStore

KEY = "uploads/acme/case/box/inbox.mbox"


def _messages() -> list:
    out = []
    for number in range(40):
        # Every fifth message is larger than the smallest ranges below; one body has a line
        # beginning "From " (the writer escapes it as ">From ")
        body = f"Body of message {number}.\n" + ("Filler line of the body.\n" * 200) * (
            number % 5 == 0
        )
        if number == 7:
            body += "\nFrom here on the tenant pays.\n"
        out.append(email_message(f"Message {number}", body))
    return out


def test_a_mailbox_is_told_from_text_by_its_content(tmp_path: Path):
    data = mailbox_file(tmp_path / "inbox", _messages()[:2]).read_bytes()
    assert sniff(data[:8192], "inbox").media_type == MBOX
    assert sniff(data[:8192], "inbox.txt").media_type == MBOX
    assert sniff(b"From the desk of Ana:\nplease sign.\n", "memo.txt").media_type == TEXT


@pytest.mark.parametrize("segment_bytes", [1000, 4096, 50_000, 10**7])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_each_message_is_read_once_whole_by_the_range_it_begins_in(
    tmp_path: Path, segment_bytes: int, line_end: str
):
    # Given a mailbox of 40 messages (LF or CRLF lines), cut into ranges of a given size
    path = mailbox_file(tmp_path / "inbox", _messages())
    data = path.read_bytes().replace(b"\n", line_end.encode())
    store = InMemoryObjectStore({KEY: data})
    # When each range's messages are read
    read = []
    for start in range(0, len(data), segment_bytes):
        end = min(start + segment_bytes, len(data))
        read += list(owned_messages(store, KEY, None, start, end, len(data)))
    # Then together they are the mailbox's messages, each once, in order, whole
    assert b"".join(message.data or b"" for message in read) == data
    assert [message.offset for message in read] == [
        index
        for index in range(len(data))
        if data.startswith(b"From ", index)
        and (index == 0 or data[:index].endswith((b"\n\n", b"\r\n\r\n")))
    ]
    subjects = [message_from_bytes(m.data or b"", policy=policy.default)["Subject"] for m in read]
    assert subjects == [f"Message {n}" for n in range(40)]
    # And as the standard library's reader reads them
    assert subjects == [message["Subject"] for message in mailbox.mbox(str(path))]


@pytest.mark.parametrize("shift", [-3, -2, -1, 0, 1])
def test_a_range_that_ends_at_a_message_s_start_leaves_it_to_the_next(tmp_path: Path, shift: int):
    # Given ranges that end exactly at (or by the separator's bytes around) each message's start
    data = mailbox_file(tmp_path / "inbox", _messages()[:6]).read_bytes()
    store = InMemoryObjectStore({KEY: data})
    starts = [
        message.offset for message in owned_messages(store, KEY, None, 0, len(data), len(data))
    ]
    cuts = [0, *(start + shift for start in starts[1:]), len(data)]
    # When each range's messages are read, then each message is read once
    read = [
        offset
        for start, end in itertools.pairwise(cuts)
        for offset, _, _ in owned_messages(store, KEY, None, start, end, len(data))
    ]
    assert read == starts


def _raw_message(subject: str, body: bytes) -> bytes:
    return (
        b"From ana@firm.example Tue Mar  3 10:15:00 2026\nFrom: ana@firm.example\n"
        b"Message-ID: <%s@firm.example>\nSubject: %s\n\n%s\n\n"
        % (subject.encode(), subject.encode(), body)
    )


def test_lines_longer_than_a_read_are_read_in_pieces_and_split_nothing(
    monkeypatch: pytest.MonkeyPatch,
):
    # Given lines read 64 bytes at a time, and a message with a line of 64 bytes and its
    # newline, then an unescaped "From " line (not after a blank line: not a separator), and
    # a line of 700 bytes
    monkeypatch.setattr("docproc.extract.mbox._BLOCK", 64)
    body = b"x" * 64 + b"\nFrom the tenant, no reply.\n" + b"y" * 700
    data = b"".join(_raw_message(f"m{n}", body) for n in range(4))
    store = InMemoryObjectStore({KEY: data})
    # When the mailbox is read in ranges of 300 bytes
    read = []
    for start in range(0, len(data), 300):
        end = min(start + 300, len(data))
        read += [m.data for m in owned_messages(store, KEY, None, start, end, len(data))]
    # Then each message is read once, whole (a newline read alone is not a blank line)
    assert read == [_raw_message(f"m{n}", body) for n in range(4)]


def test_a_message_of_one_long_line_is_measured_not_held_past_the_largest():
    # Given a message whose body is one 3 MB line (base64 without line breaks, say)
    big = _raw_message("big", b"A" * 3_000_000)
    small = _raw_message("small", b"hello")
    store = InMemoryObjectStore({KEY: big + small})
    # When it is read with a limit of 100 kB a message
    read = list(owned_messages(store, KEY, None, 0, len(big + small), len(big + small), 100_000))
    # Then the large one is given by its size only, and the next whole
    assert read == [(0, len(big), None), (len(big), len(small), small)]


def test_only_a_message_over_the_largest_is_let_go(tmp_path: Path):
    data = mailbox_file(tmp_path / "inbox", _messages()[:3]).read_bytes()
    store = InMemoryObjectStore({KEY: data})
    whole = list(owned_messages(store, KEY, None, 0, len(data), len(data)))
    # When read with a limit a byte under the first message's size, then at its size
    limit = whole[0].size - 1
    limited = list(owned_messages(store, KEY, None, 0, len(data), len(data), limit))
    exact = list(owned_messages(store, KEY, None, 0, len(data), len(data), whole[0].size))
    # Then the first is measured and let go; at its size it is held; the others are whole
    assert whole[0].size > 5000 and limited[0] == (0, whole[0].size, None)
    assert limited[1:] == whole[1:] and exact == whole
