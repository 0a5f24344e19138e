from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from benchmarks.generators import image_pdf, page_marker, text_pdf
from docproc.extract.open_documents import OpenDocuments
from docproc.extract.pages import page_ranges
from docproc.extract.pdf import extract_pages
from docproc.observability import current_rss_mb


def _segments(path: Path, pages: int, documents: OpenDocuments | None) -> list[str]:
    return [
        page.text
        for pages_range in page_ranges(pages, 10)
        for page in extract_pages(path, pages_range.start, pages_range.end, documents=documents)
    ]


def test_a_workers_segments_of_one_document_open_it_once_and_read_the_same_pages(
    tmp_path: Path,
):
    # Given a 30-page PDF read as three 10-page segments by one worker
    pdf = text_pdf(tmp_path / "doc.pdf", pages=30)
    documents = OpenDocuments()
    # When the segments are read through the worker's open documents
    kept_open = _segments(pdf, 30, documents)
    # Then the file was opened once, and every page reads as with the file opened each time
    assert documents.openings == 1
    assert kept_open == _segments(pdf, 30, None)
    assert page_marker(30) in kept_open[-1]
    # and once its last page was read it was not kept: reading it again opens it again
    list(extract_pages(pdf, 1, 10, documents=documents))
    assert documents.openings == 2


def _first_pages(path: Path, documents: OpenDocuments | None) -> list[str]:
    # Pages 1-10 only: the document stays open (its last page is not read).
    return [page.text for page in extract_pages(path, 1, 10, documents=documents)]


def test_a_document_replaced_at_the_same_path_is_read_anew(tmp_path: Path):
    # Given a worker that read part of a 20-page document, and two others
    path = text_pdf(tmp_path / "upload.pdf", pages=20, seed=1)
    second = text_pdf(tmp_path / "second.pdf", pages=12, seed=2)
    third = text_pdf(tmp_path / "third.pdf", pages=15, seed=3)
    documents = OpenDocuments()
    _first_pages(path, documents)
    # When the file is rewritten in place with the second, then another file takes its path
    # with the third (a new upload of the same key)
    path.write_bytes(second.read_bytes())
    rewritten = _first_pages(path, documents)
    shutil.copyfile(third, tmp_path / "incoming.pdf")
    os.replace(tmp_path / "incoming.pdf", path)
    replaced = _first_pages(path, documents)
    # Then each time the new content is read, not the document kept open
    assert documents.openings == 3
    assert rewritten == _first_pages(second, None)
    assert replaced == _first_pages(third, None)


def test_a_document_kept_open_holds_no_more_memory_than_one_segment_of_it(tmp_path: Path):
    # Given a PDF of incompressible images (~0.75 MB each), read in 10-page segments
    pdf = image_pdf(tmp_path / "scans.pdf", 40 * 786_432)
    documents = OpenDocuments()
    list(extract_pages(pdf, 1, 10, documents=documents))
    after_one = current_rss_mb()
    # When two more segments of it are read with the document kept open
    list(extract_pages(pdf, 11, 20, documents=documents))
    list(extract_pages(pdf, 21, 30, documents=documents))
    # Then what MuPDF cached of the earlier segments (~7.5 MB each) was not kept
    assert documents.openings == 1
    assert current_rss_mb() - after_one < 4


_READ_ALL_PAGES = """
import sys
from pathlib import Path
from docproc.extract.pdf import extract_pages
from docproc.observability import current_rss_mb, peak_rss_mb
path, pages = Path(sys.argv[1]), int(sys.argv[2])
list(extract_pages(path, 1, 1))  # MuPDF and its fonts loaded
before = current_rss_mb()
list(extract_pages(path, 1, pages))
print(peak_rss_mb() - before)
"""


@pytest.mark.parametrize("annotated", [False, True], ids=["plain", "annotated"])
def test_a_segment_of_images_is_read_holding_one_page_s_images_at_a_time(
    tmp_path: Path, annotated: bool
):
    # Given a 40-page PDF of incompressible images stored uncompressed (~0.75 MB a page); with
    # an annotation on every page, so that each page's text is read with its images loaded
    # (an annotation could label one with ActualText) and they must leave MuPDF's cache
    pdf = image_pdf(tmp_path / "scans.pdf", 40 * 786_432)
    if annotated:
        document = pymupdf.open(pdf)
        for page in document:
            page.add_text_annot((20, 20), "reviewed")
        pdf = tmp_path / "annotated.pdf"
        document.save(pdf)
    # When its 40 pages are read as one segment, in a process of their own (a clean peak)
    grew = subprocess.run(
        [sys.executable, "-c", _READ_ALL_PAGES, str(pdf), "40"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Then the reader's memory grew by a few pages' worth, not by the segment's 30 MB of images
    # (MuPDF caches each image a page draws, though text extraction reads none of them)
    assert float(grew) < 8
