"""DOCX text through python-docx: paragraphs, and tables as Markdown, in document order.

python-docx reads every part of a package into memory when it opens it, and a DOCX's size is
mostly its media (photographs, embedded files, fonts), which hold no text. So it opens a copy
that keeps the package's XML and relationships and leaves every other part empty: memory then
follows the XML, not the file. The XML is parsed into a tree several times its size; where the
segment has a memory budget, a package whose XML would not fit is refused before it is read
(a zip bomb among them: the sizes are the archive directory's, and zipfile stops at them).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from docproc.errors import InvalidDocument
from docproc.extract.packages import is_xml_part, xml_megabytes
from docproc.extract.pages import markdown_table

EXTRACTION_METHOD = "python-docx"
# Peak memory of reading a DOCX per byte of its XML (measured: 272 MB for a document.xml of
# 27.6 MB, 14 MB of text, the interpreter and python-docx included), with a margin.
XML_MEMORY_FACTOR = 10
_COPY_BUFFER = 1 << 20


def docx_text(source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None) -> str:
    """The text of the DOCX ``source`` (a path, or a seekable file). ``reserve(mb, reading)``
    (the segment's budget) is asked for the memory its XML needs before any of it is read."""
    try:
        with zipfile.ZipFile(source) as package, tempfile.TemporaryFile() as copy:
            xml_mb = xml_megabytes(package)
            if reserve is not None:
                reserve(xml_mb * XML_MEMORY_FACTOR, f"a DOCX of {xml_mb:.0f} MB of XML")
            _copy_without_blobs(package, copy)
            copy.seek(0)
            document = docx.Document(copy)
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        SyntaxError,  # lxml's XMLSyntaxError: a part that is not well-formed XML
        NotImplementedError,  # zipfile: a part in a compression or ZIP version it lacks
        RuntimeError,  # zipfile: a part marked encrypted
    ) as exc:
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
    """A table as Markdown, its first row the header (as PDF pages' tables and sheets are
    written): the chunker cuts it between rows, the header on every chunk. A merged cell's
    text is in each column it spans; empty rows are left out."""
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    rows = [row for row in rows if any(text.strip() for text in row)]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    return markdown_table([row + [""] * (width - len(row)) for row in rows])


def _copy_without_blobs(package: zipfile.ZipFile, copy: IO[bytes]) -> None:
    """``package`` into ``copy``: its XML and relationships as they are (uncompressed: they
    are read once, soon), every other part empty."""
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED, allowZip64=True) as target:
        for info in package.infolist():
            if not is_xml_part(info.filename):
                target.writestr(info.filename, b"")
                continue
            with (
                package.open(info) as source,
                target.open(info.filename, "w", force_zip64=True) as sink,
            ):
                shutil.copyfileobj(source, sink, _COPY_BUFFER)
