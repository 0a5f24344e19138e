"""OpenDocument files on the laptop: a text document, a spreadsheet and a presentation found by
search as their kinds, read in place; a spreadsheet's rows streamed, within the memory its
budget assumes."""

from __future__ import annotations

import base64
import io
import random
import zipfile
from pathlib import Path

from docproc.extract import opendocument
from docproc.extract.packages import xml_megabytes
from docproc.local.runner import ingest
from tests.documents import flat_open_document, open_document
from tests.memory import peak_growth_mb


def _p(text: str) -> str:
    return f"<text:p>{text}</text:p>"


def _row(*cells: str) -> str:
    return (
        "<table:table-row>"
        + "".join(f"<table:table-cell>{_p(cell)}</table:table-cell>" for cell in cells)
        + "</table:table-row>"
    )


def test_each_kind_is_found_by_what_it_says_where_it_says_it(env, tmp_path: Path):
    # Given a letter (ODT), a rent roll of two sheets (ODS) and a deck of two slides (ODP),
    # named without their extensions
    letter = open_document(
        "text",
        _p("The landlord insures the building.")
        + '<text:p>See the policy.<text:note text:note-class="footnote"><text:note-body>'
        + _p("Policy 88-C, Lloyd's.")
        + "</text:note-body></text:note></text:p>",
    )
    roll = open_document(
        "spreadsheet",
        '<table:table table:name="2023">'
        + _row("Unit", "Rent")
        + _row("4", "1,100")
        + "</table:table>"
        + '<table:table table:name="2024">'
        + _row("Unit", "Rent")
        + _row("4", "1,250 escalated")
        + "</table:table>",
    )
    deck = open_document(
        "presentation",
        '<draw:page><draw:frame presentation:class="title"><draw:text-box>'
        + _p("Closing agenda")
        + "</draw:text-box></draw:frame></draw:page>"
        + "<draw:page><draw:frame><draw:text-box>"
        + _p("Escrow released on signing.")
        + "</draw:text-box></draw:frame></draw:page>",
    )
    found = {}
    for name, data in [("letter", letter), ("roll", roll), ("deck", deck)]:
        path = tmp_path / name
        path.write_bytes(data)
        # When the laptop's runner ingests it
        report = ingest(env, path, document_id=name)
        assert report.status == "complete"
    for query in ["policy lloyd", "escalated", "escrow released signing"]:
        hit = env.vectors.search(env.embedder.embed([query])[0], "local")[0]
        found[query] = hit.payload
    # Then each is read as its kind (red before: a ZIP of XML files, markup and all): the
    # letter's footnote under its label, the sheet's row on its sheet's number under the
    # sheet's name and header, the slides' text on their numbers in the show
    assert found["policy lloyd"]["text"] == (
        "The landlord insures the building.\n\nSee the policy.\n\nFootnotes:\nPolicy 88-C, Lloyd's."
    )
    assert found["policy lloyd"]["extraction"] == "opendocument"
    escalated = found["escalated"]
    assert escalated["text"].startswith("Sheet: 2024\n| Unit | Rent |\n| --- | --- |\n")
    assert escalated["page_start"] == escalated["page_end"] == 2
    escrow = found["escrow released signing"]
    assert escrow["text"] == "Closing agenda\n\nEscrow released on signing."
    assert (escrow["page_start"], escrow["page_end"]) == (1, 2)


def test_a_spreadsheet_s_rows_are_read_one_at_a_time(tmp_path: Path):
    # Given a spreadsheet of 150,000 rows (about 20 MB of XML)
    rows = "".join(_row(str(n), f"Tenant {n}", f"{n * 7 % 5000}.00") for n in range(150_000))
    path = tmp_path / "roll.ods"
    path.write_bytes(
        open_document("spreadsheet", f'<table:table table:name="S">{rows}</table:table>')
    )
    del rows
    with zipfile.ZipFile(path) as package:
        xml_mb = xml_megabytes(package)
    # When its rows are read and let go, as the chunker takes them
    count, grew = peak_growth_mb(
        lambda: sum(1 for sheet in opendocument.sheet_tables(path) for _ in sheet.rows)
    )
    # Then all were read, and the process grew by a fraction of the XML (the budget assumes
    # twice it; a parsed tree of it would take ten times)
    assert count == 150_000 - 1  # (the first is the header)
    assert grew < xml_mb * opendocument.STREAMED_MEMORY_FACTOR / 4, (grew, xml_mb)


def test_a_text_document_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given a text document of 40,000 paragraphs with footnotes, a character beyond Latin-1 in
    # each
    clause = "The tenant keeps the premises in repair, Zoë\u2019s clause {n}."
    body = "".join(
        f'<text:p>{clause.format(n=n)}<text:note text:note-class="footnote"><text:note-body>'
        f"{_p(f'Note {n}.')}</text:note-body></text:note></text:p>"
        for n in range(40_000)
    )
    data = open_document("text", body)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml_mb = xml_megabytes(package)
    # When it is read, Then the process grew by less than the budget's check assumes
    text, grew = peak_growth_mb(lambda: opendocument.text_document_text(io.BytesIO(data)))
    assert grew < xml_mb * opendocument.TEXT_MEMORY_FACTOR
    assert text.count("Zoë\u2019s clause") == 40_000 and text.endswith("Note 39999.")


def test_a_flat_text_document_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a letter saved by LibreOffice as a flat file (.fodt: one XML document)
    letter = open_document("text", _p("The landlord insures the building."))
    path = tmp_path / "letter.fodt"
    path.write_bytes(flat_open_document(letter))
    # When the laptop's runner ingests it
    report = ingest(env, path, document_id="letter")
    assert report.status == "complete"
    # Then its chunk is the letter's text, read as an ODT's (red before: plain text, markup
    # and all)
    hit = env.vectors.search(env.embedder.embed(["landlord insures"])[0], "local")[0]
    assert hit.payload["text"] == "The landlord insures the building."
    assert hit.payload["extraction"] == "opendocument"


def test_a_flat_document_s_pictures_are_left_out_before_they_are_parsed(tmp_path: Path):
    # Given a flat text document of a line of text and 48 MB of pictures in base64, as a
    # flat file holds them, one of them 12 MB (over lxml's limit on a text node: 10 MB)
    pictures = "".join(
        "<text:p><draw:frame><draw:image><office:binary-data>"
        + base64.b64encode(random.Random(size).randbytes(size)).decode()
        + "</office:binary-data></draw:image></draw:frame></text:p>"
        for size in [9_000_000] + [3_000_000] * 9
    )
    body = _p("The landlord insures the building.") + pictures
    path = tmp_path / "photos.fodt"
    path.write_bytes(flat_open_document(open_document("text", body)))
    del pictures, body
    # When it is read, Then its text is read, and the pictures were never held: the process
    # grew by a fraction of the file (red before the pictures were left out: InvalidDocument,
    # lxml's limit; under it, more than the file)
    text, grew = peak_growth_mb(lambda: opendocument.text_document_text(path))
    assert text == "The landlord insures the building."
    assert grew < path.stat().st_size / 2**20 / 4, grew
