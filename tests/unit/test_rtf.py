"""RTF: told apart by its content, read as its text, a malformed one a typed error."""

from __future__ import annotations

import random

from docproc.errors import InvalidDocument
from docproc.extract.rtf import rtf_text
from docproc.extract.sniff import RTF, sniff

LEASE = (
    rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fcharset0 Times New Roman;}}"
    rb"{\colortbl;\red0\green0\blue0;}{\info{\title Lease}{\author Ana}}"
    rb"{\*\generator Writer}\pard\plain\f0\fs24 {\b Clause 4.} The tenant pays "
    rb"\u8364?1,200 on the first day of the month, caf\'e9 included.\par"
    rb"{\pict\pngblip\picw10\pich10 89504e470d0a1a0a0000000d49484452}"
    rb"\pard Signed: Jos\'e9 P\'e9rez\par}"
)


def test_an_rtf_is_told_by_its_content_whatever_its_name():
    assert sniff(LEASE, "lease.txt").media_type == RTF
    assert sniff(LEASE, "lease.rtf").media_type == RTF


def test_an_rtf_reads_as_its_text_without_control_words_or_pictures():
    assert rtf_text(LEASE) == (
        "Clause 4. The tenant pays €1,200 on the first day of the month, café included.\n"
        "Signed: José Pérez"
    )


def test_malformed_rtf_is_a_typed_error_or_text_never_an_untyped_one():
    # Given the lease mutated at random (control words cut, braces and escapes inserted: what
    # striprtf raised on such input was TypeError, ValueError, LookupError and OverflowError)
    rng = random.Random(5)
    pieces = [
        *r"\{}'0123456789abcdef?* ",
        "\\u",
        "\\'",
        "\\ansicpg",
        "\\fcharset",
        "\\u99999999999",
    ]
    outcomes = set()
    for _ in range(3000):
        text = list(LEASE.decode("latin-1"))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(text) + 1)
            choice = rng.random()
            if choice < 0.5:
                text.insert(position, rng.choice(pieces))
            elif choice < 0.8 and text:
                del text[min(position, len(text) - 1)]
            else:
                text = text[:position]
        # When it is read, then it is text or InvalidDocument
        try:
            rtf_text("".join(text).encode("latin-1"))
            outcomes.add("text")
        except InvalidDocument:
            outcomes.add("InvalidDocument")
    assert outcomes == {"text", "InvalidDocument"}
