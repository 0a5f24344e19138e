"""PDF and other paged formats through PyMuPDF: count, split into sub-PDFs, extract text.

PyMuPDF opened by path reads only the parts of the file it needs, so neither the planner
nor a worker ever holds a whole document in memory. It is not thread-safe: parallelism is
by processes (or by Lambda invocations).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pymupdf

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.pages import PageText

EXTRACTION_METHOD = "pymupdf-text"
# What MuPDF raises on damaged input; all of it becomes InvalidDocument (not retried).
MUPDF_ERRORS = (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)

# MuPDF reports recoverable damage on stderr; route it to its warnings buffer instead.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@dataclass(frozen=True)
class PageRange:
    """Pages ``start..end``, 1-based and inclusive."""

    start: int
    end: int


def page_ranges(page_count: int, pages_per_segment: int) -> list[PageRange]:
    """Consecutive ranges of ``pages_per_segment`` pages; the last one may be shorter."""
    return [
        PageRange(start, min(start + pages_per_segment - 1, page_count))
        for start in range(1, page_count + 1, pages_per_segment)
    ]


@contextmanager
def open_document(path: Path, filetype: str = "pdf") -> Iterator[pymupdf.Document]:
    """Open a paged document (pdf, epub, xps, cbz, fb2, mobi) for reading; a typed
    InvalidDocument if it cannot be read at all."""
    try:
        document = pymupdf.open(path, filetype=filetype)
    except (pymupdf.FileDataError, *MUPDF_ERRORS) as exc:
        raise InvalidDocument(f"not a readable {filetype}: {type(exc).__name__}") from exc
    try:
        # A user password stops reading; an owner password alone (print/copy limits) does not.
        if document.needs_pass:
            raise EncryptedDocument("the PDF is encrypted with a user password")
        # Counting is where a broken page tree shows; checked once here for every caller.
        try:
            pages = document.page_count
        except MUPDF_ERRORS as exc:
            raise InvalidDocument(f"the page tree is broken: {type(exc).__name__}") from exc
        if pages < 1:
            raise InvalidDocument("the PDF has no pages")
        yield document
    finally:
        document.close()


def count_pages(path: Path, filetype: str = "pdf") -> int:
    with open_document(path, filetype) as document:
        return int(document.page_count)


def split(
    source: Path, ranges: list[PageRange], out_dir: Path | None = None, filetype: str = "pdf"
) -> Iterator[tuple[int, Path]]:
    """Write one sub-PDF per range, yielding ``(index, path)``; the caller removes each file.

    One sub-PDF exists on disk at a time if the caller removes it before asking for the next.
    Other paged formats (EPUB, XPS, ...) are converted to one PDF first.
    """
    if filetype != "pdf":
        # convert_to_pdf(from_page=n>0) fails in PyMuPDF 1.28 ("invalid page number"): convert
        # the whole (reflowable, so modest) document once and split that.
        with open_document(source, filetype) as document:
            try:
                converted = document.convert_to_pdf()
            except MUPDF_ERRORS as exc:
                raise InvalidDocument(f"cannot convert to PDF: {type(exc).__name__}") from exc
        fd, name = tempfile.mkstemp(prefix="docproc-converted-", suffix=".pdf", dir=out_dir)
        with os.fdopen(fd, "wb") as out:
            out.write(converted)
        del converted
        try:
            yield from split(Path(name), ranges, out_dir)
        finally:
            Path(name).unlink(missing_ok=True)
        return
    with open_document(source) as document:
        for index, pages in enumerate(ranges):
            fd, name = tempfile.mkstemp(prefix=f"docproc-{index:05d}-", suffix=".pdf", dir=out_dir)
            os.close(fd)
            part = pymupdf.open()
            try:
                part.insert_pdf(document, from_page=pages.start - 1, to_page=pages.end - 1)
                # Streams are copied as they are: deflate=True would also compress the ones
                # the original stored uncompressed (14.7 s instead of 0.9 s for 417 MB of
                # such images), for a sub-PDF that lives only until its segment is done.
                part.save(name, garbage=1)
            except MUPDF_ERRORS as exc:
                Path(name).unlink(missing_ok=True)
                raise InvalidDocument(
                    f"pages {pages.start}-{pages.end} cannot be copied: {type(exc).__name__}"
                ) from exc
            finally:
                part.close()
            yield index, Path(name)


def extract_pages(
    path: Path, first_page_number: int, last_page_number: int, filetype: str = "pdf"
) -> Iterator[PageText]:
    """Text of each page of a (sub-)PDF, numbered in the original document.

    ``path`` holds either exactly pages first..last (a sub-PDF) or the whole document.
    """
    with open_document(path, filetype) as document:
        whole = document.page_count > last_page_number - first_page_number + 1
        for number in range(first_page_number, last_page_number + 1):
            local_index = number - 1 if whole else number - first_page_number
            try:
                text = document[local_index].get_text("text")
            except MUPDF_ERRORS as exc:
                raise InvalidDocument(
                    f"page {number} cannot be read: {type(exc).__name__}"
                ) from exc
            yield PageText(number=number, text=text)
