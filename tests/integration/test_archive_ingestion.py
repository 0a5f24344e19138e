"""A ZIP of files on the laptop, through the real command line: each file found by what it
says, a hit naming the file (and a PDF's page) it came from."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from benchmarks.generators import page_marker, text_pdf
from tests.documents import OutlookMessage, docx_file, outlook_message
from tests.integration.test_laptop_runner import run


def test_a_zip_of_a_production_is_searchable_file_by_file(tmp_path: Path):
    # Given a production zipped with folders: a 40-page PDF, a DOCX and an Outlook message,
    # in segments of 64 KiB (several)
    record = text_pdf(tmp_path / "record.pdf", pages=40)
    draft = docx_file(tmp_path / "draft.docx", ["Clause 9: the landlord insures the building."])
    message = outlook_message(OutlookMessage("Inspection", "Mould found in the north bedroom."))
    production = tmp_path / "production.zip"
    with zipfile.ZipFile(production, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(record, "vol-1/exhibits/record.pdf")
        archive.write(draft, "vol-1/drafts/draft.docx")
        archive.writestr("vol-2/inspection.msg", message)
    home = tmp_path / "home"
    # When it is ingested and searched
    report = json.loads(
        run(home, "ingest", str(production), "--json", SEGMENT_BYTES="65536").stdout
    )
    assert report["status"] == "complete" and report["segments_total"] >= 2
    # (an exact phrase: by keywords; the offline embedder's dense half ranks pages alike)
    exact = ("--mode", "bm25", "--top-k", "1")
    hits = json.loads(run(home, "search", page_marker(23), "--json", *exact).stdout)
    # Then the page of the PDF is found, under the file's path and that page's number
    assert hits[0]["path"] == "vol-1/exhibits/record.pdf"
    assert hits[0]["page_start"] <= 23 <= hits[0]["page_end"]
    assert page_marker(23) in hits[0]["text"]
    # And the DOCX's clause and the message's body, under theirs
    clause = json.loads(run(home, "search", "landlord insures building", "--json").stdout)[0]
    assert clause["path"] == "vol-1/drafts/draft.docx" and "Clause 9" in clause["text"]
    mould = json.loads(run(home, "search", "mould north bedroom", "--json").stdout)[0]
    assert mould["path"] == "vol-2/inspection.msg" and "Subject: Inspection" in mould["text"]
    assert {clause["extraction"], mould["extraction"], hits[0]["extraction"]} == {"archive"}
    # And the command's own listing names the file and the page
    listing = run(home, "search", page_marker(23), *exact).stdout
    assert "vol-1/exhibits/record.pdf, page" in listing


def test_a_large_pdf_in_a_zip_is_read_in_page_ranges_under_its_path(tmp_path: Path):
    # Given a ZIP of a note and a 40-page PDF larger than a segment's bytes
    record = text_pdf(tmp_path / "record.pdf", pages=40)
    production = tmp_path / "production.zip"
    with zipfile.ZipFile(production, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("index.txt", "Volume 1: the hearing record.")
        archive.write(record, "vol-1/record.pdf")
    home = tmp_path / "home"
    # When it is ingested in segments of 16 KiB and 10 pages (the PDF is 57 kB)
    settings = {"SEGMENT_BYTES": "16384", "SEGMENT_PAGES": "10"}
    report = json.loads(run(home, "ingest", str(production), "--json", **settings).stdout)
    # Then the note is one segment and the PDF four, each page in chunks under its path and
    # its own number, the first headed with the file's path
    assert report["status"] == "complete" and report["segments_total"] == 5
    chunks = [json.loads(line) for line in run(home, "chunks", "production").stdout.splitlines()]
    pdf_chunks = [c for c in chunks if c.get("path") == "vol-1/record.pdf"]
    pages = {p for c in pdf_chunks for p in range(c["page_start"], c["page_end"] + 1)}
    assert pages == set(range(1, 41)) and len({c["segment"] for c in pdf_chunks}) == 4
    first = min(pdf_chunks, key=lambda c: (c["page_start"], c["ordinal"]))
    assert first["text"].startswith("File: vol-1/record.pdf\n\n" + page_marker(1))
    (index,) = [c for c in chunks if c.get("path") == "index.txt"]
    assert index["segment"] not in {c["segment"] for c in pdf_chunks}
