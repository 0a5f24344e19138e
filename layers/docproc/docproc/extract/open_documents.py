"""The document a worker read last, kept open for its next segment of it.

Opening a PDF costs little, but MuPDF reads its whole page tree when the first page is loaded:
about 4 µs a page of the document (9 ms for 2,000 pages, 29 ms for 8,000) at every segment.
A document read in place a segment at a time (the laptop) paid it once per segment, which is
quadratic in its pages. Only for files that stay where they are while they are open (the
laptop's uploads), never for a temporary copy that is removed after its segment (Lambda).

MuPDF (~30 MB) is imported at the first opening, as docproc.extract.pdf is: a worker that never
reads a paged document never loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pymupdf


class OpenDocuments:
    """One open document at a time (workers read the segments of one document in a row)."""

    def __init__(self) -> None:
        self._key: tuple[str, str, int, int, int] | None = None
        self._document: pymupdf.Document | None = None
        self.openings = 0  # files opened so far; a repeated segment's file is not opened again

    @contextmanager
    def open(self, path: Path, filetype: str = "pdf") -> Iterator[pymupdf.Document]:
        """Like docproc.extract.pdf.open_document, but left open; a file replaced at ``path``
        (another inode, size or modification time) is opened anew."""
        import pymupdf

        from docproc.extract.pdf import opened_document

        stat = path.stat()
        key = (str(path), filetype, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key != self._key or self._document is None:
            self.close()
            self._document = opened_document(path, filetype)
            self._key = key
            self.openings += 1
        try:
            yield self._document
        except BaseException:
            self.close()  # MuPDF may have failed part-way: the next segment starts clean
            raise
        if self._document is not None:  # still open: see close()
            # What MuPDF still caches of the segment (its fonts: each page's images went
            # after the page) is halved, least recently used first: what the store carries
            # into the next segment stays below one segment's worth (each adds at most that,
            # and each end halves the sum), and the fonts the last pages used stay. Emptying
            # it cost the next segment's first page ~5 ms (0.2 s of 1.6 s reading the
            # 2,000-page text PDF 50 pages at a time). Not after a document's last page (see
            # close).
            pymupdf.TOOLS.store_shrink(50)

    def close(self) -> None:
        """Close the open document, and with it what MuPDF cached of it: the reader calls this
        once it read the document's last page."""
        if self._document is not None:
            self._document.close()
        self._document = self._key = None
