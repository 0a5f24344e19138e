"""Word 97-2003 documents (.doc): the text of each story, from the piece table."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from docproc.errors import (
    EncryptedDocument,
    InvalidDocument,
    SegmentBudgetExceeded,
    UnsupportedDocument,
)
from docproc.extract.compound import compound_file
from docproc.extract.doc import MEMORY_FACTOR, doc_text
from docproc.extract.mail import message_text
from docproc.extract.sniff import DOC, OLE, sniff, sniff_ole
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    email_message,
    legacy_workbook,
    packaged_object,
    pdf_of_lines,
    word_97_document,
    workbook,
)
from tests.fakes import RefusingBudget


def _text(data: bytes) -> str:
    return doc_text(io.BytesIO(data))


def test_a_word_document_is_sniffed_by_its_streams_whatever_its_name():
    data = word_97_document("A memo.\r")
    assert sniff(data[:8192], "memo.txt").media_type == OLE
    assert sniff_ole(io.BytesIO(data)) == DOC


def test_each_story_reads_as_a_reader_sees_it():
    # Given a lease as Word stores it: paragraphs, a hyperlink field, a footnote mark, a
    # table of three rows (a cell of two paragraphs, a row whose last cell is empty), a page
    # break; and a footnote, a header, a comment and a text box
    main = (
        "Lease of Unit 4\r"
        'The tenant pays \x13 HYPERLINK "https://rent.example" \x14the rent\x15 monthly.\x02\r'
        "Term\x07Value\x07\x1dRent\x071,200\x1ca month\x07\x1dCap\x07\x07\x1d"
        "Signed.\x0cSchedule A\r"
    )
    stories = {
        "footnotes": "\x02 Net of fees.\r",
        "headers": "Case 24-cv-0117\r\r",
        "comments": "\x05Check the rate.\r",
        "text boxes": "Draft\r",
    }
    # When its text is read
    # Then the main text comes first, fields as their results, the table as Markdown (its
    # rows' ends from their paragraphs' properties), then each other story under its label
    assert _text(word_97_document(main, stories)) == (
        "Lease of Unit 4\nThe tenant pays the rent monthly.\n\n"
        "| Term | Value |\n| --- | --- |\n| Rent | 1,200 a month |\n| Cap |  |\n\n"
        "Signed.\n\nSchedule A\n\n"
        "Footnotes:\nNet of fees.\n\nHeaders and footers:\nCase 24-cv-0117\n\n"
        "Comments:\nCheck the rate.\n\nText boxes:\nDraft"
    )


def test_without_paragraph_properties_a_row_ends_at_two_marks_in_a_row():
    # Given a table whose paragraphs' properties cannot be read (none are stored)
    main = "Term\x07Value\x07\x1dRent\x071,200\x07\x1dEnd.\r"
    data = word_97_document(main, paragraph_properties=False)
    # When it is read, Then its rows are lines of cells, told by their two marks
    assert _text(data) == "Term | Value\nRent | 1,200\nEnd."


def test_tables_past_a_page_of_paragraph_properties_and_a_piece_s_end_are_whole():
    # Given 40 tables of 3 rows, their paragraphs' properties over many pages, the text over
    # two pieces (the second in UTF-16)
    table = "Term\x07Value\x07\x1dRent\x071,200\x07\x1dCap\x079,000\x07\x1dSigned.\r"
    text = _text(word_97_document("契約\r" + table * 40))
    # When it is read, Then each is a Markdown table of its 3 rows
    markdown = "| Term | Value |\n| --- | --- |\n| Rent | 1,200 |\n| Cap | 9,000 |\n\nSigned."
    assert text.count(markdown) == 40


def test_pieces_in_windows_1252_and_in_utf_16_are_both_read():
    # Given text whose first piece Word stored in Windows-1252 and the rest in UTF-16
    text = "Café résumé — naïve, 5 €\r" + "Zoë Ødegaard 契約\r"
    # When it is read, Then both are as written
    assert _text(word_97_document(text)) == "Café résumé — naïve, 5 €\nZoë Ødegaard 契約"


def test_headers_and_footers_repeated_by_sections_are_read_once():
    # Given the headers of three sections, each saying the case number, and a footer
    headers = "Case 24-cv-0117\r\rCase 24-cv-0117\rConfidential\r\rCase 24-cv-0117\r"
    data = word_97_document("Body.\r", {"headers": headers})
    # When it is read, Then each line of them is there once, in order
    assert _text(data) == "Body.\n\nHeaders and footers:\nCase 24-cv-0117\nConfidential"


def test_fields_within_fields_show_only_their_results():
    main = "See \x13 REF a \x13 PAGE \x14 3\x15 \x14clause 3\x15 and \x13 PAGE \x15 on.\r"
    assert _text(word_97_document(main)) == "See clause 3 and  on."


@pytest.mark.parametrize(
    ("flags", "version", "error"),
    [
        (0x0100, 0x00C1, EncryptedDocument),
        (0x8000, 0x00C1, EncryptedDocument),  # obfuscated (XOR)
        (0, 0x0068, UnsupportedDocument),  # Word 95
    ],
    ids=["encrypted", "obfuscated", "word-95"],
)
def test_documents_it_cannot_read_are_refused_for_what_they_are(
    flags: int, version: int, error: type[Exception]
):
    with pytest.raises(error):
        _text(word_97_document("Secret.\r", flags=flags, version=version))


def test_the_budget_is_asked_for_the_text_s_streams_not_the_pictures():
    # Given a document with 6 MB of pictures (its Data stream)
    data = word_97_document("A memo.\r", pictures=6 << 20)
    budget = RefusingBudget()
    # When it is read with a budget that has nothing left, Then it is refused, having asked
    # for what its WordDocument and table streams need (a few KB), not for the pictures
    with pytest.raises(SegmentBudgetExceeded, match="a Word document of 0 MB"):
        doc_text(io.BytesIO(data), budget)
    ((megabytes, _),) = budget.asked
    assert 0 < megabytes < 0.01 * MEMORY_FACTOR


def test_an_e_mail_with_a_word_document_attached_reads_it():
    attached = word_97_document("The board approved the lease.\r")
    message = email_message(
        "Minutes", "Attached.", attachments=[("minutes.doc", "application/msword", attached)]
    )
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "Attachment: minutes.doc (application/msword)\n\nThe board approved the lease."
    )


_EMBED = "\x13 EMBED Package \x14\x01\x15"


def test_objects_a_document_embeds_are_read_after_their_paragraphs(tmp_path: Path):
    # Given a Word 97-2003 document embedding, as Word does (each object in the ObjectPool,
    # its EMBED field's separator its anchor): an exhibit's PDF packaged as an icon, a
    # workbook (Excel 97-2003), an Excel 2007 workbook (its package in a Package stream), one in
    # a table's cell, and one of a kind docproc does not read; and a field that is no object's
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    rents = legacy_workbook(tmp_path / "rent.xls", {"Rent": [["Unit 4", 1200]]}).read_bytes()
    deposits = workbook(tmp_path / "d.xlsx", {"Deposit": [["Unit 4", 2400]]}).read_bytes()
    new_book = compound_file({"Package": deposits, "\x01CompObj": bytes(28)})
    main = (
        f"The plan:{_EMBED}\rThe rents:\r{_EMBED}\r"
        f"Cell\x07{_EMBED}\x07\x1d"
        f"After the table.\r{_EMBED}Page \x13 PAGE \x142\x15.\r"
    )
    missing = compound_file({"\x01CompObj": bytes(28)})
    document = word_97_document(main, objects=[plan, rents, new_book, missing])
    # When it is read
    text = doc_text(io.BytesIO(document))
    # Then each object's file is read after its paragraph, the one in a cell after its table,
    # the one of no kind docproc reads left out, the field's result kept (red before: no
    # object was read)
    assert text == (
        "The plan:\n\nExhibit A: the floor plan.\n\n"
        "The rents:\n\nSheet: Rent\n| Unit 4 | 1200 |\n| --- | --- |\n\n"
        "| Cell |  |\n| --- | --- |\n\n"
        "Sheet: Deposit\n| Unit 4 | 2400 |\n| --- | --- |\n\n"
        "After the table.\nPage 2."
    )


def test_damaged_documents_give_text_or_a_typed_error():
    # Given documents with fields, tables, stories and embedded objects, damaged
    exhibit = packaged_object("a.pdf", pdf_of_lines(["Exhibit."]))
    originals = [
        word_97_document("A \x13 PAGE \x141\x15 memo.\rA\x07B\x07\x07\r", {"footnotes": "Fn.\r"}),
        word_97_document("Café — Zoë 契約\r" * 20),
        word_97_document(f"See:{_EMBED}\rEnd.\r", objects=[exhibit]),
    ]
    copies = damaged_copies(originals, 400, seed=9, cut_share=0.1)
    # When each is read
    typed = (InvalidDocument, UnsupportedDocument, EncryptedDocument)
    counts = outcomes(_text, copies, typed)
    # Then each gave text or a typed error (anything else fails the test), both seen
    assert all(counts.values()), counts
