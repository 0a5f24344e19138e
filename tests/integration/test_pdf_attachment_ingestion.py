"""Files attached to a PDF on the laptop, through the real command line: each found under its
name as its kind, a large attached PDF in page ranges, the brief's own pages as before."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.generators import page_marker, text_pdf
from tests.documents import docx_file, pdf_with_attachments, workbook
from tests.integration.test_laptop_runner import run


def test_a_brief_s_exhibits_are_searchable_under_their_names(tmp_path: Path):
    # Given a brief of two pages carrying, as Acrobat attaches them, a DOCX and a 40-page
    # PDF in its list of attachments, and a workbook attached to its second page
    exhibit = docx_file(tmp_path / "a.docx", ["The tenant assigned the lease to Bayside LLC."])
    record = text_pdf(tmp_path / "record.pdf", pages=40)
    rents = workbook(tmp_path / "rents.xlsx", {"Rents": [["Unit", "Rent"], [4, 1275]]})
    brief = tmp_path / "brief.pdf"
    brief.write_bytes(
        pdf_with_attachments(
            ["The motion is granted in part.", "See the exhibits attached."],
            attached=[
                ("Exhibit A.docx", exhibit.read_bytes()),
                ("Record.pdf", record.read_bytes()),
            ],
            annotated=[(1, "Rent roll.xlsx", rents.read_bytes())],
        )
    )
    home = tmp_path / "home"
    # When it is ingested in segments of 16 KiB and 10 pages, and searched
    settings = {"SEGMENT_BYTES": "16384", "SEGMENT_PAGES": "10"}
    report = json.loads(run(home, "ingest", str(brief), "--json", **settings).stdout)
    assert report["status"] == "complete"
    exact = ("--json", "--mode", "bm25", "--top-k", "1")

    def found(query: str) -> dict:
        return json.loads(run(home, "search", query, *exact).stdout)[0]

    # Then each attached file is found under its name, read as its kind (red before: only
    # the brief's pages were read), the attached PDF's page by its number (read in page
    # ranges), and the brief's own pages as before
    assigned = found("assigned Bayside")
    assert assigned["path"] == "Exhibit A.docx"
    assert "The tenant assigned the lease to Bayside LLC." in assigned["text"]
    page = found(page_marker(23))
    assert page["path"] == "Record.pdf" and page["page_start"] <= 23 <= page["page_end"]
    assert "| 4 | 1275 |" in found("1275")["text"]
    assert found("1275")["path"] == "Rent roll.xlsx"
    granted = found("motion granted")
    assert granted.get("path") is None and granted["page_start"] == 1
    # And the ZIP the attached files were written to is not kept once the document is complete
    work = [p.name for p in (home / "objects" / "work").rglob("*") if p.is_file()]
    assert "archive.zip" not in work
