"""PowerPoint 97-2003 presentations (.ppt): each slide a page, from the records the last edit
names."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import olefile
import pytest

from docproc.errors import EncryptedDocument, InvalidDocument, SegmentBudgetExceeded
from docproc.extract.compound import compound_file, storage_streams
from docproc.extract.mail import message_text
from docproc.extract.ppt import MEMORY_FACTOR, slide_texts
from docproc.extract.sniff import OLE, PPT, sniff, sniff_ole
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    Slide,
    email_message,
    legacy_workbook,
    packaged_object,
    pdf_of_lines,
    powerpoint_97,
)
from tests.fakes import RefusingBudget


def _texts(data: bytes) -> list[tuple[int, str]]:
    return [(page.number, page.text) for page in slide_texts(io.BytesIO(data))]


def test_a_powerpoint_97_file_is_sniffed_by_its_streams_whatever_its_name():
    data = powerpoint_97([Slide(title="Agenda")])
    assert sniff(data[:8192], "deck.bin").media_type == OLE
    assert sniff_ole(io.BytesIO(data)) == PPT


def test_each_slide_reads_title_first_then_top_to_bottom_then_its_notes():
    # Given a deck: a slide whose boxes were drawn in another order than they read, with
    # notes; a slide without text; a slide whose title is beyond Latin-1 (stored in UTF-16)
    data = powerpoint_97(
        [
            Slide(
                title="Settlement overview",
                boxes=[("Right column", 2, 5), ("Bottom", 4, 0.5), ("Top left", 1.5, 0.5)],
                notes="Say the figure slowly.\nTwice.",
            ),
            Slide(),
            Slide(title="Zoë\u2019s 契約", boxes=[("Café terms", 1, 1)]),
        ]
    )
    # When its slides are read, Then each with text is a page of its number
    assert _texts(data) == [
        (
            1,
            "Settlement overview\n\nTop left\n\nRight column\n\nBottom\n\n"
            "Notes:\nSay the figure slowly.\nTwice.",
        ),
        (3, "Zoë\u2019s 契約\n\nCafé terms"),
    ]


def test_after_a_fast_save_the_last_edit_s_records_are_read():
    # Given a deck saved fast after its first slide's title changed: both versions of the
    # document and of the slide are in the file, the last edit naming the second
    data = powerpoint_97(
        [Slide(title="Draft overview", boxes=[("Terms", 2, 1)]), Slide(title="Second")],
        edited="Final overview",
    )
    # When it is read, Then the slide reads as last saved, and the first version not at all
    assert _texts(data) == [(1, "Final overview\n\nTerms"), (2, "Second")]


def test_a_presentation_encrypted_with_a_password_is_refused_as_encrypted():
    with pytest.raises(EncryptedDocument):
        _texts(powerpoint_97([Slide(title="Secret")], encrypted=True))


def test_the_segment_s_memory_is_reserved_for_the_records():
    data = powerpoint_97([Slide(title=f"Slide {n}") for n in range(50)])
    budget = RefusingBudget()
    with pytest.raises(SegmentBudgetExceeded, match="a PowerPoint file of 0 MB"):
        list(slide_texts(io.BytesIO(data), budget))
    ((megabytes, _),) = budget.asked
    assert 0 < megabytes < 0.05 * MEMORY_FACTOR


def test_an_e_mail_with_a_powerpoint_97_file_attached_reads_it():
    deck = powerpoint_97([Slide(title="Offer", notes="Floor is 40,000.")])
    message = email_message("Deck", "Attached.", attachments=[("deck.ppt", "x/y", deck)])
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith("Attachment: deck.ppt (x/y)\n\nOffer\n\nNotes:\nFloor is 40,000.")


def test_objects_a_slide_embeds_are_read_where_their_shapes_stand(tmp_path: Path):
    # Given a deck whose first slide embeds, between two text boxes, an exhibit's PDF packaged
    # as an icon, and whose second embeds a workbook and a drawing of no kind docproc reads,
    # as PowerPoint embeds them (a shape naming the object, its storage compressed)
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    rents = legacy_workbook(tmp_path / "rent.xls", {"Rent": [["Unit 4", 1200]]}).read_bytes()
    drawing = compound_file({"\x01CompObj": bytes(28), "Contents": b"a drawing"})
    deck = powerpoint_97(
        [
            Slide(title="Site", boxes=[("Below the plan.", 5, 1), ("Above the plan.", 1, 1)]),
            Slide(title="Rent"),
        ],
        objects=[(1, 3, 1, plan), (2, 2, 1, rents), (2, 4, 1, drawing)],
    )
    # When it is read
    # Then each object's file is read where its shape stands, top to bottom; the drawing is
    # left out (red before: no object was read)
    assert _texts(deck) == [
        (1, "Site\n\nAbove the plan.\n\nExhibit A: the floor plan.\n\nBelow the plan."),
        (2, "Rent\n\nSheet: Rent\n| Unit 4 | 1200 |\n| --- | --- |"),
    ]


def test_damaged_presentations_give_text_or_a_typed_error():
    # Given decks with notes, text in both encodings, a fast save and an embedded object,
    # damaged
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A."]))
    originals = [
        powerpoint_97(
            [Slide(title="A", boxes=[("b", 1, 1)], notes="n"), Slide(title="契約")],
            edited="C",
        ),
        powerpoint_97([Slide(title=f"Slide {n}", boxes=[("x" * 50, n, 1)]) for n in range(9)]),
        powerpoint_97([Slide(title="Site")], objects=[(1, 2, 1, plan)]),
    ]
    copies = damaged_copies(originals, 400, seed=4, cut_share=0.1)
    # When each is read
    typed = (InvalidDocument, EncryptedDocument)
    counts = outcomes(_texts, copies, typed)
    # Then each gave text or a typed error (anything else fails the test), both seen
    assert all(counts.values()), counts


def test_a_title_stored_both_in_the_slide_list_and_in_its_shape_is_read_once():
    # Given a slide whose title a writer stored in the slide list and again in a shape
    data = powerpoint_97([Slide(title="Offer", boxes=[("Offer", 0, 0), ("Terms", 1, 0)])])
    # When it is read, Then the title is there once
    assert _texts(data) == [(1, "Offer\n\nTerms")]


def test_a_field_s_place_on_a_page_says_nothing():
    # Given a slide with a box holding only a field's mark (where PowerPoint shows a slide
    # number or a date), and an empty box
    data = powerpoint_97([Slide(title="Offer", boxes=[("*", 6, 8), ("", 6, 1)])])
    # When it is read, Then neither is in its text
    assert _texts(data) == [(1, "Offer")]


def test_an_object_s_storage_is_inflated_no_further_than_its_stated_size():
    # Given an object's storage record: 50 MB of zeros compressed to 49 KB, stated as 1,000
    # bytes, or as none (zlib takes a limit of 0 as no limit)
    from docproc.extract.ole_objects import inflated

    bomb = zlib.compress(bytes(50_000_000))
    # When it is inflated, Then no more than its stated size comes out (red before the second:
    # the whole 50 MB)
    assert len(inflated(struct.pack("<I", 1000) + bomb)) == 1000
    assert inflated(struct.pack("<I", 0) + bomb) == b""


def test_an_object_whose_storage_record_is_cut_short_is_left_out_the_deck_read():
    # Given a deck whose object's storage record is 2 bytes long, too short to state its size
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A."]))
    deck = powerpoint_97(
        [Slide(title="Site", boxes=[("See below.", 1, 1)])], objects=[(1, 2, 1, plan)]
    )
    with olefile.OleFileIO(io.BytesIO(deck)) as ole:
        streams = storage_streams(ole, "")
    records = bytearray(streams["PowerPoint Document"])
    at = records.find(struct.pack("<HH", 0x0010, 0x1011))  # ExOleObjStg, instance 1
    struct.pack_into("<I", records, at + 4, 2)
    streams["PowerPoint Document"] = bytes(records)
    # When it is read, Then the slide is read, the object left out (red before: the deck was
    # InvalidDocument, its size read past the record's end)
    assert _texts(compound_file(streams)) == [(1, "Site\n\nSee below.")]
