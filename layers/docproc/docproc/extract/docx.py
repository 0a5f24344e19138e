"""DOCX text through python-docx: paragraphs, and tables as Markdown, in document order.

python-docx opens a copy of the package without its media (docproc.extract.packages): memory
follows the XML, not the file. The XML is parsed into a tree several times its size; where the
segment has a memory budget, a package whose XML would not fit is refused before it is read
(a zip bomb among them: the sizes are the archive directory's, and zipfile stops at them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from docproc.errors import InvalidDocument
from docproc.extract.packages import PACKAGE_ERRORS, without_blobs
from docproc.extract.pages import markdown_grid

EXTRACTION_METHOD = "python-docx"
# Peak memory of reading a DOCX per byte of its XML (measured: 272 MB for a document.xml of
# 27.6 MB, 14 MB of text, the interpreter and python-docx included), with a margin.
XML_MEMORY_FACTOR = 10
_DOCX_ERRORS: tuple[type[Exception], ...] = (PackageNotFoundError, *PACKAGE_ERRORS)
# A macro-enabled document (DOCM) or a template (DOTX, DOTM) is a document's parts under
# another content type, which python-docx refuses: its copy declares the document's.
_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_AS_DOCUMENT = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": _DOCUMENT_MAIN,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        _DOCUMENT_MAIN
    ),
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": _DOCUMENT_MAIN,
}


def docx_text(source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None) -> str:
    """The text of the DOCX ``source`` (a path, or a seekable file). ``reserve(mb, reading)``
    (the segment's budget) is asked for the memory its XML needs before any of it is read."""
    try:
        with without_blobs(source, reserve, XML_MEMORY_FACTOR, "a DOCX", _AS_DOCUMENT) as copy:
            document = docx.Document(copy)
    except _DOCX_ERRORS as exc:
        raise InvalidDocument(f"not a readable DOCX: {type(exc).__name__}") from exc
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            table = _table_markdown(block)
            if table:
                blocks.append(table)
        elif block.text.strip():
            blocks.append(block.text)
    return "\n\n".join(blocks)


def _table_markdown(table: Table) -> str:
    """A table as Markdown (see markdown_grid); a merged cell's text is in each column it
    spans."""
    return markdown_grid([[cell.text for cell in row.cells] for row in table.rows])
