"""RTF: told apart by its content, read as its text, a malformed one a typed error."""

from __future__ import annotations

import random
from pathlib import Path

from docproc.errors import InvalidDocument
from docproc.extract.compound import compound_file
from docproc.extract.rtf import rtf_text
from docproc.extract.sniff import RTF, sniff
from tests.documents import (
    legacy_workbook,
    packager_data,
    pdf_of_lines,
    rtf_object,
    word_97_document,
    workbook,
)

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


def test_objects_an_rtf_embeds_are_read_where_they_stand(tmp_path: Path):
    # Given an RTF (as Word saves one) embedding, between its clauses: a workbook (Excel
    # 97-2003), an exhibit's PDF packaged as an icon, an Excel 2007 workbook (its package in
    # the object's Package stream), a Word 97-2003 document, an equation (its class's own
    # data) and a workbook linked, not embedded
    rents = legacy_workbook(tmp_path / "rent.xls", {"Rent": [["Unit 4", 1200]]}).read_bytes()
    plan = pdf_of_lines(["Exhibit A: the floor plan."])
    deposits = workbook(tmp_path / "deposit.xlsx", {"Deposit": [["Unit 4", 2400]]}).read_bytes()
    letter = word_97_document("The guarantor answers for the rent.\r")
    objects = [
        rtf_object("Excel.Sheet.8", rents),
        rtf_object("Package", packager_data("plan.pdf", plan)),
        rtf_object("Excel.Sheet.12", compound_file({"Package": deposits})),
        rtf_object("Word.Document.8", letter),
        rtf_object("Equation.3", b"\x1c\x00\x00\x00MTEF equation data"),
        rtf_object("Excel.Sheet.8", rents, linked=True),
    ]
    clauses = "".join(
        rf"\pard Clause {number}.\par {found}" for number, found in enumerate(objects, 1)
    )
    document = (r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}" + clauses + r"\pard End.\par}").encode()
    # When it is read
    text = rtf_text(document)
    # Then each object's file is read after the clause before it; the equation and the link
    # are left out (red before: no object was read)
    assert text == (
        "Clause 1.\n\nSheet: Rent\n| Unit 4 | 1200 |\n| --- | --- |\n\n"
        "Clause 2.\n\nExhibit A: the floor plan.\n\n"
        "Clause 3.\n\nSheet: Deposit\n| Unit 4 | 2400 |\n| --- | --- |\n\n"
        "Clause 4.\n\nThe guarantor answers for the rent.\n\n"
        "Clause 5.\nClause 6.\nEnd."
    )
