"""Which pages OCR reads, how scanned documents are segmented, and the OCR settings."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pymupdf
import pytest

from docproc.config import LocalSettings, SegmentSettings, load_settings
from docproc.errors import ConfigurationError
from docproc.extract.ocr import (
    MAX_OCR_PIXELS,
    mostly_images,
    ocr_dpi,
    readable,
    tessdata_folder,
)
from docproc.extract.pages import PageRange, weighted_ranges
from docproc.extract.pdf import scanned_pages
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import SegmentTask
from docproc.pipeline.plan import PlanOptions, plan_document
from tests.documents import comic_book
from tests.fakes import InMemoryObjectStore


def test_a_text_layer_is_readable_unless_it_is_mostly_replacement_characters():
    assert readable("Lease agreement, clause 4.")
    assert not readable("   \n ")
    assert not readable("\ufffd\ufffd\ufffd \ufffd\ufffd a")
    # A few unmapped glyphs in real text do not make it garbage
    assert readable("Lease \ufffd agreement \ufffd clause")


def test_a_page_is_a_scan_when_images_cover_most_of_it():
    assert mostly_images(100.0, [60.0])
    assert mostly_images(100.0, [30.0, 30.0])  # a scan stored as strips
    assert not mostly_images(100.0, [10.0])  # a logo
    assert not mostly_images(100.0, [])


def test_ocr_resolution_is_capped_for_large_pages():
    assert ocr_dpi(200, 612, 792) == 200  # a letter page
    poster = ocr_dpi(300, 2384, 3370)  # A0
    assert poster < 300
    assert (2384 / 72 * poster) * (3370 / 72 * poster) <= MAX_OCR_PIXELS


def test_scanned_pages_make_shorter_segments():
    # Given 50 text pages per segment, or 10 scanned ones
    scanned = [False] * 30 + [True] * 15 + [False] * 60
    # When the pages are cut into segments
    ranges = weighted_ranges(scanned, 50, 10)
    # Then each page is in exactly one range, in order
    assert ranges[0].start == 1 and ranges[-1].end == len(scanned)
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(ranges))
    # And no range holds more than one segment's worth of work
    for pages in ranges:
        part = scanned[pages.start - 1 : pages.end]
        assert part.count(True) * 50 + part.count(False) * 10 <= 500
    assert weighted_ranges([True] * 25, 50, 10) == [
        PageRange(1, 10),
        PageRange(11, 20),
        PageRange(21, 25),
    ]
    assert weighted_ranges([False] * 120, 50, 10) == [
        PageRange(1, 50),
        PageRange(51, 100),
        PageRange(101, 120),
    ]


def test_a_scan_is_told_from_a_text_page_by_its_resources(tmp_path: Path):
    # Given a text page, a page that is one image, and a text page with a logo
    document = pymupdf.open()
    document.new_page().insert_text((50, 50), "text")
    image = pymupdf.Pixmap(pymupdf.csGRAY, 8, 8, bytes(64), False)
    document.new_page().insert_image(pymupdf.Rect(0, 0, 595, 842), pixmap=image)
    logo = document.new_page()
    logo.insert_text((50, 50), "letterhead")
    logo.insert_image(pymupdf.Rect(0, 0, 50, 50), pixmap=image)
    path = tmp_path / "mixed.pdf"
    document.save(path)
    # Then only the image page counts as scanned (for sizing; extraction decides for real)
    assert scanned_pages(path) == [False, True, False]


def test_plan_sizes_segments_by_their_scans_and_says_how_many_each_holds(tmp_path: Path):
    # Given 30 text pages with 15 scans among them (pages 11-25)
    document = pymupdf.open()
    image = pymupdf.Pixmap(pymupdf.csGRAY, 8, 8, bytes(64), False)
    for number in range(1, 31):
        page = document.new_page()
        if 11 <= number <= 25:
            page.insert_image(page.rect, pixmap=image)
        else:
            page.insert_text((50, 50), f"page {number}")
    key = "uploads/acme/case/mixed/mixed.pdf"
    store = InMemoryObjectStore({key: document.tobytes()})
    # When it is planned at 50 text pages or 10 scans a segment
    options = PlanOptions(segment_pages=50, ocr_segment_pages=10)
    plan = plan_document(key, None, store, SQLiteLedger(tmp_path / "ledger"), options)
    # Then each segment holds at most 10 scans' worth of work (a scan weighs 5 text pages),
    # and says how many of its pages are scans (for the laptop's pool: OCR takes ~200x a text
    # page's time)
    segments = [
        SegmentTask.model_validate(item).segment
        for item in json.loads(store.objects[plan.document.manifest_key])
    ]
    assert [(s.page_start, s.page_end, s.scanned_pages) for s in segments] == [
        (1, 18, 8),
        (19, 30, 7),
    ]


def test_a_comic_book_s_pages_are_scans(tmp_path: Path):
    # Given a CBZ: one picture a page, whatever they show (scanned exhibits, say)
    path = comic_book(tmp_path / "exhibits.cbz", 3, width=16, height=16)
    # Then each page counts as scanned, so its segments are sized for OCR
    assert scanned_pages(path, "cbz") == [True, True, True]


def test_a_language_without_trained_data_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path))
    monkeypatch.setenv("OCR_LANGUAGES", "eng+xyz")
    with pytest.raises(ConfigurationError, match=r"tessdata\.fast-xyz"):
        load_settings(LocalSettings)
    monkeypatch.setenv("OCR_LANGUAGES", "eng; rm")
    with pytest.raises(ConfigurationError, match="OCR_LANGUAGES"):
        load_settings(LocalSettings)
    # OCR off needs no trained data at all
    monkeypatch.setenv("OCR", "off")
    assert load_settings(LocalSettings).ocr_options().tessdata is None


def test_the_installed_english_data_is_found(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    folder = tessdata_folder("eng")
    assert (folder / "eng.traineddata").is_file()
    for name, value in {
        "DOCPROC_BUCKET": "bucket-1",
        "LEDGER_TABLE": "ledger-1",
        "QDRANT_URL": "http://qdrant.invalid:6333",
    }.items():
        monkeypatch.setenv(name, value)
    assert load_settings(SegmentSettings).ocr_options().tessdata == folder


def test_an_explicit_tessdata_folder_is_the_only_one_searched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # Given OCR_TESSDATA naming a folder without English, while the venv has it
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OCR_TESSDATA", str(tmp_path))
    # Then the settings refuse to start, naming the package
    with pytest.raises(ConfigurationError, match=r"tessdata\.fast-eng"):
        load_settings(LocalSettings)
    # And once the folder has it, that folder is used
    (tmp_path / "eng.traineddata").write_bytes(
        (tessdata_folder("eng") / "eng.traineddata").read_bytes()
    )
    assert load_settings(LocalSettings).ocr_options().tessdata == tmp_path
