"""Files a document includes whole: parts a DOCX imports where they stand (w:altChunk: how
document assembly merges clauses written as HTML, RTF, text, an MHT or another DOCX), objects a
DOCX, a presentation or an RTF embeds (OLE: a workbook, a document, a file shown as an icon).
Each is read as docproc reads that kind of file (mail.file_text), within one allowance for the
document and every document it includes, and the segment's budget; a package's parts from the
package itself (the copy its reader opened holds them empty).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from docproc.errors import DocprocError, SegmentBudgetExceeded, UnsupportedDocument
from docproc.extract import sniff
from docproc.extract.ocr import OCR_OFF
from docproc.extract.ole_objects import unwrapped
from docproc.extract.packages import PACKAGE_ERRORS
from docproc.observability import logger

# A part included whole is read into memory, then as its kind. The parts a document includes,
# its includes' includes too, are read up to this much together, inflated (a package of
# small parts that inflate large, or one part included many times, is no bomb): what would go
# past it is left out (and logged). A DOCX included is also bounded as any DOCX is
# (docx.XML_MEMORY_FACTOR).
IMPORTED_LIMIT = 64 * 2**20
# Peak memory of reading an included part per byte of it, with a margin: its bytes, its text
# and the text found. Measured on 13 MB parts of 200,000 clauses: HTML 6.9x, plain text 5.8x,
# RTF 4.8x.
IMPORTED_MEMORY_FACTOR = 8
# What reading an included file from where it is kept raises when that is damaged: a
# package's member (its CRC, its deflate), a compound file's storage.
_READ_ERRORS: tuple[type[Exception], ...] = (*PACKAGE_ERRORS, *sniff.OLE_ERRORS)


@dataclass
class Allowance:
    """What the parts a document includes may still take, in bytes: one for the document and
    every document it includes."""

    left: int

    @classmethod
    def whole(cls) -> Allowance:
        return cls(IMPORTED_LIMIT)


class IncludedFiles:
    """The text of files a document includes whole (a package's parts, an RTF's objects), read
    as their kinds. One past the document's allowance, too deep in other files, of a kind
    docproc does not read (an equation, a drawing), or damaged is left out and logged; the rest
    is read. A file an OLE object wraps (Packager's, Acrobat's, an Office package) is read as
    that file."""

    def __init__(
        self,
        reserve: Callable[[float, str], None] | None,
        depth: int,
        allowance: Allowance,
    ) -> None:
        self._reserve, self._depth, self._allowance = reserve, depth, allowance

    def text(self, name: str, size: int, read: Callable[[], bytes]) -> str:
        """The text of the file ``name`` of ``size`` bytes, which ``read()`` gives (only once
        it is allowed: reading it may inflate it, or raise PACKAGE_ERRORS or, from a compound
        file, OLE_ERRORS)."""
        from docproc.extract.mail import MAX_NESTING, file_text

        if self._depth >= MAX_NESTING:
            return _left_out("it lies too deep in other files")
        if size > self._allowance.left:
            return _left_out("the document's included parts are larger than IMPORTED_LIMIT")
        self._allowance.left -= size
        if self._reserve is not None:
            megabytes = size / 2**20
            self._reserve(
                megabytes * IMPORTED_MEMORY_FACTOR,
                f"a part a document includes of {megabytes:.0f} MB",
            )
        try:
            data = read()
        except _READ_ERRORS as exc:  # damaged where it is kept
            return _left_out(type(exc).__name__)
        name, data = unwrapped(name, data)
        try:
            kind = sniff.sniff_data(data, name).media_type
            if kind == sniff.DOCX:
                from docproc.extract.docx import docx_text

                # Within the same allowance, one level deeper.
                source = io.BytesIO(data)
                return docx_text(source, self._reserve, self._depth + 1, self._allowance)
            if kind == sniff.TEXT and data.lstrip()[:5] == b"<?xml":
                # XML of no kind docproc reads: its markup is not its text.
                return _left_out("docproc does not read its kind")
            return file_text(data, name, OCR_OFF, "off", self._depth + 1)
        except SegmentBudgetExceeded:
            raise
        except UnsupportedDocument:
            return _left_out("docproc does not read its kind", warning=False)
        except DocprocError as exc:  # damaged, encrypted, empty
            return _left_out(type(exc).__name__)


class IncludedParts:
    """The text of the parts a package includes whole (IncludedFiles: read from the package
    itself, which the reader's copy holds empty)."""

    def __init__(
        self,
        package: zipfile.ZipFile,
        reserve: Callable[[float, str], None] | None,
        depth: int,
        allowance: Allowance,
    ) -> None:
        self._package = package
        self._files = IncludedFiles(reserve, depth, allowance)

    def text(self, name: str) -> str:
        """The text of the part named ``name`` in the package (its ZIP member's name)."""
        size = self._package.getinfo(name).file_size
        return self._files.text(name, size, lambda: self._package.read(name))


def _left_out(reason: str, warning: bool = True) -> str:
    """Nothing, for a part included that is not read, logged: a warning, unless it is of a
    kind docproc does not read (an embedded equation or drawing is no fault)."""
    log = logger.warning if warning else logger.info
    log("a part a document includes is not read", extra={"reason": reason})
    return ""
