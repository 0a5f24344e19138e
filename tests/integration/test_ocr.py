"""Scanned pages read by OCR (Tesseract in PyMuPDF, offline), through the laptop runner."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jiwer
import pymupdf
import pytest

from benchmarks.generators import DEGRADATIONS, mixed_pdf, scanned_page_image, scanned_pdf
from docproc.config import LocalSettings
from docproc.errors import NoExtractableText
from docproc.extract import pdf
from docproc.extract.ocr import OCR_AUTO
from docproc.local.runner import LocalEnvironment, ingest
from tests.conftest import REPORT_TABLES

# Character error rate bounds (issue 13): a clean scan, and one degraded as scans are.
CLEAN_CER = 0.02
DEGRADED_CER = 0.06


def _env(tmp_path: Path, **settings: object) -> LocalEnvironment:
    return LocalEnvironment(
        LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, **settings)
    )


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_ocr_reads_scans_within_the_error_bounds_whatever_the_degradation(tmp_path: Path):
    # Given image-only pages of known text: fonts and sizes, one and two columns, 150-300 dpi,
    # clean or degraded (grayscale, noise, rotation, JPEG, black and white)
    path = tmp_path / "scans.pdf"
    truth = scanned_pdf(path, pages_each=2)
    # When they are extracted with OCR on its default (auto)
    pages = list(pdf.extract_pages(path, 1, len(truth), ocr=OCR_AUTO))
    # Then every page was read by OCR, and the text is right to the bound of its kind
    assert [page.method for page in pages] == ["ocr"] * len(truth)
    worst: dict[str, float] = {}
    for expected, page in zip(truth, pages, strict=True):
        error = jiwer.cer(_normalised(expected.text), _normalised(page.text))
        worst[expected.degradation] = max(worst.get(expected.degradation, 0.0), error)
    REPORT_TABLES["OCR: degradation -> worst character error rate of its pages"] = [
        (name, f"{worst[name]:.2%}") for name in DEGRADATIONS
    ]
    assert worst["clean"] <= CLEAN_CER, worst
    assert all(worst[name] <= DEGRADED_CER for name in DEGRADATIONS), worst


def test_only_the_scanned_pages_of_a_mixed_document_are_ocrd_and_found(tmp_path: Path):
    # Given 100 pages, 10 of them scans at known places
    scanned_at = {3, 9, 17, 33, 48, 51, 64, 77, 90, 100}
    path = tmp_path / "mixed.pdf"
    phrases = mixed_pdf(path, 100, scanned_at)
    env = _env(tmp_path)
    try:
        # When it is ingested on the defaults
        report = ingest(env, path, document_id="mixed")
        # Then exactly those pages were read by OCR, and the document says how many
        assert report.pages == 100 and report.pages_ocr == 10
        record = env.ledger.get_document("local", "mixed")
        chunks = [
            json.loads(line)
            for segment in env.ledger.list_segments("local", "mixed", record.version)
            for line in env.store.get_bytes(segment.output_key).decode().splitlines()
        ]
        ocr_pages = {
            number
            for chunk in chunks
            if "ocr" in chunk["extraction"]
            for number in range(chunk["page_start"], chunk["page_end"] + 1)
        }
        # (a chunk across a scanned and a text page says both and covers both)
        text_only = {
            number
            for chunk in chunks
            if chunk["extraction"] == "text"
            for number in range(chunk["page_start"], chunk["page_end"] + 1)
        }
        assert scanned_at <= ocr_pages and not (scanned_at & text_only)
        assert {chunk["extraction"] for chunk in chunks} <= {"text", "ocr", "text+ocr"}
        assert all(
            chunk["extraction"] == "ocr" or number not in scanned_at
            for chunk in chunks
            if chunk["page_start"] == chunk["page_end"]
            for number in [chunk["page_start"]]
        )
        # And scanned pages made shorter segments (10 scans at most to a segment of 50 pages)
        assert report.segments_total > 2
        # And a phrase from each scan is found by keyword search, first, on its page. (The
        # ten phrases differ only in their exhibit number: an identifier, which BM25 matches
        # and the offline dense embedder barely weighs, so hybrid ranking is not what this
        # checks: tests/integration/test_retrieval.py measures that.)
        for number, phrase in phrases.items():
            hits = env.vectors.search(
                None, "local", sparse=env.sparse.encode_query(phrase), document_id="mixed", limit=1
            )
            pages = [(hit.payload["page_start"], hit.payload["page_end"]) for hit in hits]
            assert any(start <= number <= end for start, end in pages), (number, pages)
    finally:
        env.close()


def test_a_real_text_layer_is_never_ocrd(tmp_path: Path):
    # Given a "searchable PDF" scan: a text layer over a full-page image
    image = scanned_page_image("Hidden behind the text", "grayscale", 150, random.Random(1))
    document = pymupdf.open()
    page = document.new_page(width=612, height=792)
    page.insert_image(page.rect, stream=image)
    page.insert_text((72, 72), "The text layer says this.")
    path = tmp_path / "layered.pdf"
    document.save(path)
    # When it is extracted on auto
    (extracted,) = pdf.extract_pages(path, 1, 1, ocr=OCR_AUTO)
    # Then the text layer is kept as it is
    assert extracted.method == "text" and "text layer says" in extracted.text
    assert "Hidden" not in extracted.text


def test_ocr_force_reads_every_page_and_off_leaves_scans_unread(tmp_path: Path):
    # Given a two-page document: one text page, one scan
    path = tmp_path / "two.pdf"
    mixed_pdf(path, 2, {2})
    scan_only = tmp_path / "scan.pdf"
    scanned_pdf(scan_only, degradations=("jpeg",))
    forced = _env(tmp_path / "force", OCR="force")
    off = _env(tmp_path / "off", OCR="off")
    try:
        # When OCR is forced, both pages are read by OCR
        assert ingest(forced, path, document_id="two").pages_ocr == 2
        # When it is off, the text page is read and the scan is not; a scan alone is rejected
        assert ingest(off, path, document_id="two").pages_ocr == 0
        with pytest.raises(NoExtractableText):
            ingest(off, scan_only, document_id="scan")
    finally:
        forced.close()
        off.close()


def test_a_blank_scan_is_rejected_after_ocr_finds_nothing(tmp_path: Path):
    # Given a document whose only page is an image of an empty sheet
    document = pymupdf.open()
    page = document.new_page()
    white = pymupdf.Pixmap(pymupdf.csGRAY, 850, 1100, b"\xff" * 850 * 1100, False)
    page.insert_image(page.rect, pixmap=white)
    path = tmp_path / "blank-scan.pdf"
    document.save(path)
    env = _env(tmp_path)
    try:
        # Then OCR runs on it, finds no text, and the document is rejected as having none
        with pytest.raises(NoExtractableText):
            ingest(env, path, document_id="blank")
        record = env.ledger.get_document("local", "blank")
        (segment,) = env.ledger.list_segments("local", "blank", record.version)
        assert segment.status == "done" and segment.pages_ocr == 1 and segment.chunks == 0
    finally:
        env.close()
