"""A ZIP of files on the laptop, through the real command line: each file found by what it
says, a hit naming the file (and a PDF's page) it came from."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.generators import page_marker, text_pdf
from docproc.extract.sniff import SEVEN_ZIP
from tests.documents import OutlookMessage, deflate64_zip, docx_file, outlook_message
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


def _seven_zipped(files: dict[str, bytes]) -> bytes:
    import py7zr

    packed = io.BytesIO()
    fast = [{"id": py7zr.FILTER_LZMA2, "preset": 1}]  # (solid: 7-Zip's default, one stream)
    with py7zr.SevenZipFile(packed, "w", filters=fast) as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        # (red before: UnsupportedDocument, "a 7z archive")
        ("production.7z", _seven_zipped),
        # As Windows' compressed folders write large files (red before: the PDF left to its
        # byte range, and named "not read: InvalidDocument")
        ("production.zip", deflate64_zip),
    ],
)
def test_an_archive_zipfile_cannot_unpack_is_searchable_file_by_file(
    tmp_path: Path, name: str, pack: Callable[[dict[str, bytes]], bytes]
):
    # Given a 40-page PDF and a DOCX in folders, in a solid 7z, or in a ZIP compressed with
    # Deflate64
    record = text_pdf(tmp_path / "record.pdf", pages=40).read_bytes()
    draft = docx_file(tmp_path / "draft.docx", ["Clause 9: the landlord insures the building."])
    production = tmp_path / name
    production.write_bytes(
        pack({"vol-1/exhibits/record.pdf": record, "vol-1/drafts/draft.docx": draft.read_bytes()})
    )
    home = tmp_path / "home"
    # When it is ingested in segments of 16 KiB and 10 pages, and searched
    settings = {"SEGMENT_BYTES": "16384", "SEGMENT_PAGES": "10"}
    report = json.loads(run(home, "ingest", str(production), "--json", **settings).stdout)
    # Then the PDF was read in page ranges, and its page is found under its path and number
    assert report["status"] == "complete" and report["segments_total"] == 5
    exact = ("--mode", "bm25", "--top-k", "1")
    hits = json.loads(run(home, "search", page_marker(23), "--json", *exact).stdout)
    assert hits[0]["path"] == "vol-1/exhibits/record.pdf"
    assert hits[0]["page_start"] <= 23 <= hits[0]["page_end"]
    clause = json.loads(run(home, "search", "landlord insures building", "--json").stdout)[0]
    assert clause["path"] == "vol-1/drafts/draft.docx" and "Clause 9" in clause["text"]
    # And the ZIP a 7z was repacked into, and the PDF unpacked, are not kept once the
    # document is complete (the laptop's default): its chunk files are
    work = [p.name for p in (home / "objects" / "work").rglob("*") if p.is_file()]
    assert "archive.zip" not in work and not any(name.endswith(".pdf") for name in work)
    assert sum(name.endswith(".chunks.jsonl") for name in work) == 5


# The archive's decoder is imported before the baseline: Plan's process has it after its
# first archive of that kind.
_REPACK_IN_A_FRESH_PROCESS = """
import importlib, json, os, sys
path, out, media_type, decoder = sys.argv[1:5]
importlib.import_module(decoder)
from docproc.extract import archive
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
reset_peak_rss()
before = current_rss_mb()
with open(path, "rb") as source, open(out, "wb") as target:
    repacked = archive.repack(media_type, source, target, os.path.getsize(path), "upload")
print(json.dumps({"grew": peak_rss_mb() - before, "size": repacked.size}))
"""


def repacked_in_a_fresh_process(packed: Path, media_type: str, decoder: str) -> dict[str, float]:
    """Repack ``packed`` in a process of its own (a clean peak): how much the process grew
    (MB) and the ZIP's size."""
    target = packed.with_suffix(".repacked.zip")
    args = [str(packed), str(target), media_type, decoder]
    out = subprocess.run(
        [sys.executable, "-c", _REPACK_IN_A_FRESH_PROCESS, *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_a_7z_is_repacked_a_block_at_a_time_not_a_file_at_a_time(tmp_path: Path):
    # Given a 7z of a 96 MB file (stored: made in a moment; compressed with LZMA2, a 48 MB
    # file added 6 MB by hand)
    import py7zr

    packed = tmp_path / "volume.7z"
    with py7zr.SevenZipFile(packed, "w", filters=[{"id": py7zr.FILTER_COPY}]) as archive:
        archive.writestr(random.Random(7).randbytes(96 << 20), "scans/volume.pdf")
    # When it is repacked, in a process of its own (a clean peak)
    result = repacked_in_a_fresh_process(packed, SEVEN_ZIP, "py7zr")
    # Then the ZIP holds it, and the process grew by a fraction of it (measured: 4 MB; red if
    # a file were held whole, as py7zr's own read() does)
    assert result["size"] > 96 << 20
    assert result["grew"] < 24, result
