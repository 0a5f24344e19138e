"""Presentations: each slide a page, its text in reading order, tables and charts' figures as
Markdown tables, SmartArt's and the notes' text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract.pptx import XML_MEMORY_FACTOR, slide_texts
from docproc.extract.sniff import PPTX, sniff, sniff_zip
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    Slide,
    presentation,
    with_content_type,
    with_member_marked,
    with_smartart,
)
from tests.fakes import RefusingBudget

_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
_SLIDE_SHOW_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml"


def _texts(source: Path | io.BytesIO) -> list[tuple[int, str]]:
    return [(page.number, page.text) for page in slide_texts(source)]


def test_a_presentation_is_sniffed_by_its_members(tmp_path: Path):
    path = presentation(tmp_path / "deck", [Slide(title="Agenda")])
    assert sniff(path.read_bytes()[:8192]).media_type == "application/zip"
    assert sniff_zip(path) == PPTX


def test_each_slide_s_text_is_in_reading_order_with_its_tables_charts_and_notes(tmp_path: Path):
    # Given a deck: boxes drawn in another order than they read, a table with a pipe and an
    # empty row, a chart, a group, speaker notes, a slide without text, a hidden slide, and
    # SmartArt
    path = presentation(
        tmp_path / "deck.pptx",
        [
            Slide(
                title="Settlement overview",
                boxes=[("Right\vcolumn", 2, 5), ("Bottom", 4, 0.5), ("Top left", 1.5, 0.5)],
                notes="Say the figure slowly.",
            ),
            Slide(
                title="Payments",
                table=[["Date", "Amount"], ["2024-01-01", "1|000"], ["", ""], ["2024-02-01", "2"]],
            ),
            Slide(),
            Slide(
                title="Damages by year",
                chart=(
                    "Damages",
                    ["2021", "2022"],
                    {"Claimed": [100.0, 250.5], "Awarded": [80, 0]},
                ),
            ),
            Slide(
                title="Draft", boxes=[("Privileged", 2, 1)], group=["Left", "Right"], hidden=True
            ),
        ],
    )
    deck = with_smartart(path.read_bytes(), 2, ["Filing", "Discovery", "Trial"])
    # When its slides are read
    # Then each slide with text is a page of its number: the title, then the shapes top to
    # bottom and left to right, tables and figures as Markdown, SmartArt's nodes, the notes
    assert _texts(io.BytesIO(deck)) == [
        (
            1,
            "Settlement overview\n\nTop left\n\nRight\ncolumn\n\nBottom\n\n"
            "Notes:\nSay the figure slowly.",
        ),
        (
            2,
            "Payments\n\n"
            "| Date | Amount |\n| --- | --- |\n| 2024-01-01 | 1\\|000 |\n| 2024-02-01 | 2 |\n\n"
            "Filing\nDiscovery\nTrial",
        ),
        (
            4,
            "Damages by year\n\n"
            "| Chart: Damages | Claimed | Awarded |\n| --- | --- | --- |\n"
            "| 2021 | 100 | 80 |\n| 2022 | 250.5 | 0 |",
        ),
        (5, "Draft\n\nPrivileged\n\nLeft\n\nRight"),
    ]


def test_a_picture_reads_as_its_description_where_it_has_one(tmp_path: Path):
    # Given a slide with a described picture (its alt text) above a box, and one without
    path = presentation(
        tmp_path / "deck.pptx",
        [
            Slide(
                title="Site",
                boxes=[("Taken on 3 May.", 4, 1)],
                pictures=[("Water damage on the north wall", 2, 1), ("", 5, 1)],
            )
        ],
    )
    # When it is read, Then the description is read in its place, the other picture not at all
    assert _texts(path) == [
        (1, "Site\n\nPicture: Water damage on the north wall\n\nTaken on 3 May.")
    ]


@pytest.mark.parametrize(
    "main",
    [
        _SLIDE_SHOW_MAIN,
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
        "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
    ],
    ids=["ppsx", "potx", "pptm", "ppsm", "potm"],
)
def test_a_slide_show_and_a_template_are_read_as_presentations(tmp_path: Path, main: str):
    # Given a deck saved as a slide show (PPSX), a template (POTX), or either macro-enabled
    # (PPSM, POTM: what PowerPoint saves them as with macros): the same parts under another
    # content type, which python-pptx's Presentation() refuses (and its package the last two)
    deck = presentation(tmp_path / "deck.pptx", [Slide(title="Closing argument")]).read_bytes()
    show = with_content_type(deck, _MAIN, main)
    # When it is read, Then its slide is there (red before for the last two: InvalidDocument)
    assert _texts(io.BytesIO(show)) == [(1, "Closing argument")]


def test_a_package_whose_main_part_is_no_presentation_is_invalid(tmp_path: Path):
    deck = presentation(tmp_path / "deck.pptx", [Slide(title="Agenda")]).read_bytes()
    other = with_content_type(deck, _MAIN, "application/vnd.example.other+xml")
    with pytest.raises(InvalidDocument, match="not a presentation"):
        _texts(io.BytesIO(other))


def test_the_segment_s_memory_is_reserved_for_the_presentation_s_xml(tmp_path: Path):
    path = presentation(tmp_path / "deck.pptx", [Slide(title=f"Slide {n}") for n in range(40)])
    with zipfile.ZipFile(path) as package:
        xml_mb = sum(
            i.file_size for i in package.infolist() if i.filename.endswith((".xml", ".rels"))
        )
    budget = RefusingBudget()
    with pytest.raises(SegmentBudgetExceeded, match="presentation of 0 MB of XML"):
        list(slide_texts(path, budget))
    ((megabytes, _),) = budget.asked
    assert megabytes == pytest.approx(xml_mb / 2**20 * XML_MEMORY_FACTOR, rel=0.01)


@pytest.mark.parametrize("mark", ["compression", "encryption"])
def test_a_slide_zipfile_cannot_decompress_is_a_typed_error(tmp_path: Path, mark: str):
    path = presentation(tmp_path / "deck.pptx", [Slide(title="Agenda")])
    damaged = with_member_marked(path.read_bytes(), "ppt/slides/slide1.xml", mark)
    with pytest.raises(InvalidDocument):
        _texts(io.BytesIO(damaged))


def test_damaged_presentations_give_text_or_a_typed_error(tmp_path: Path):
    # Given a small deck with a table, a chart, notes and SmartArt, and random damage to it
    path = presentation(
        tmp_path / "deck.pptx",
        [
            Slide(title="Terms", table=[["Term", "Value"], ["Cap", "40,000"]], notes="Draft."),
            Slide(title="Trend", chart=("Fees", ["Q1", "Q2"], {"Fees": [1.0, 2.0]})),
        ],
    )
    deck = with_smartart(path.read_bytes(), 1, ["Offer", "Counter"])
    copies = damaged_copies([deck], 300, seed=11)
    # When each is read
    counts = outcomes(lambda data: _texts(io.BytesIO(data)), copies, (InvalidDocument,))
    # Then each gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts


def _deck_embedding(title: str, objects: list[tuple[bytes, str]]) -> bytes:
    """A deck of one slide titled ``title`` embedding each of ``objects`` (its bytes, its
    program's id) as PowerPoint embeds an OLE object."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = title
    for number, (data, program) in enumerate(objects):
        slide.shapes.add_ole_object(
            io.BytesIO(data), program, Inches(1), Inches(2 + 2 * number), Inches(4), Inches(1)
        )
    saved = io.BytesIO()
    deck.save(saved)
    return saved.getvalue()


def test_objects_a_slide_embeds_are_read_where_they_stand(tmp_path: Path):
    # Given a slide embedding a workbook, a DOCX and a PDF packaged as an icon, top to bottom
    from pptx.enum.shapes import PROG_ID

    from tests.documents import packaged_object, pdf_of_lines, word_package, workbook

    sheet = workbook(tmp_path / "c.xlsx", {"Costs": [["Item", "Amount"], ["Survey", 1200]]})
    letter = word_package("<w:p><w:r><w:t>Dear Ann, the deed is signed.</w:t></w:r></w:p>")
    exhibit = packaged_object("survey.pdf", pdf_of_lines(["Exhibit 7: damp in the north wall."]))
    deck = _deck_embedding(
        "Costs",
        [(sheet.read_bytes(), PROG_ID.XLSX), (letter, PROG_ID.DOCX), (exhibit, "Package")],
    )
    # When it is read, Then each object's text stands in the slide's reading order (red
    # before: none was read)
    (slide,) = slide_texts(io.BytesIO(deck))
    assert slide.text.split("\n\n") == [
        "Costs",
        "Sheet: Costs\n| Item | Amount |\n| --- | --- |\n| Survey | 1200 |",
        "Dear Ann, the deed is signed.",
        "Exhibit 7: damp in the north wall.",
    ]


def test_decks_within_decks_are_read_as_deep_as_messages_are_and_no_deeper():
    # Given a deck embedding a deck embedding a deck..., eight deep
    from pptx.enum.shapes import PROG_ID

    from docproc.extract.mail import MAX_NESTING

    deck = _deck_embedding("Level 8", [])
    for level in range(7, 0, -1):
        deck = _deck_embedding(f"Level {level}", [(deck, PROG_ID.PPTX)])
    # When it is read, Then the decks down to the nesting bound are, and no deeper
    (slide,) = slide_texts(io.BytesIO(deck))
    assert f"Level {MAX_NESTING + 1}" in slide.text
    assert f"Level {MAX_NESTING + 2}" not in slide.text


def test_an_object_missing_from_the_package_is_left_out_and_the_rest_read(tmp_path: Path):
    # Given a deck whose embedded workbook's member is renamed in the ZIP after its
    # relationship was written (a damaged package)
    from pptx.enum.shapes import PROG_ID

    from tests.documents import workbook

    sheet = workbook(tmp_path / "c.xlsx", {"Costs": [["Item", "Amount"], ["Survey", 1200]]})
    deck = _deck_embedding("Costs", [(sheet.read_bytes(), PROG_ID.XLSX)])
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(deck)) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename.replace("embeddings/", "Embeddings/"), data)
    # When it is read, Then the slide is, without the workbook (not the whole deck refused)
    (slide,) = slide_texts(io.BytesIO(damaged.getvalue()))
    assert slide.text == "Costs"
