"""Office Open XML packages (DOCX, XLSX, PPTX): ZIP archives of XML parts and the media they
carry. What their readers hold in memory follows the XML, not the file, so the segment's budget
is asked for the XML's size (from the archive's directory: nothing is inflated to learn it).

python-docx and python-pptx read every part of a package into memory when they open it, and a
package's size is mostly its media (photographs, embedded files, fonts), which hold no text: they
open a copy that keeps the XML and relationships and leaves every other part empty.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lxml import etree

# What zipfile and the XML parsers raise on a damaged package, whichever reader reads it.
PACKAGE_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,  # zipfile: a part's data ends before its stated size
    KeyError,  # a part the package's directory or relationships name is missing
    ValueError,
    SyntaxError,  # lxml's XMLSyntaxError, ElementTree's ParseError: XML not well formed
    NotImplementedError,  # zipfile: a part in a compression or ZIP version it lacks
    RuntimeError,  # zipfile: a part marked encrypted
)
# The parts a package's reader parses or follows; every other part is a blob it only carries.
_XML_SUFFIXES = (".xml", ".rels")


def is_xml_part(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)  # part names ignore case (OPC)


def xml_megabytes(package: zipfile.ZipFile) -> float:
    """The size of the package's XML parts, inflated, as its directory states it."""
    return sum(i.file_size for i in package.infolist() if is_xml_part(i.filename)) / 2**20


_COPY_BUFFER = 1 << 20
_CONTENT_TYPES = "[Content_Types].xml"


def copy_without_blobs(
    package: zipfile.ZipFile, copy: IO[bytes], content_types: Mapping[str, str] | None = None
) -> None:
    """``package`` into ``copy``: its XML and relationships as they are (uncompressed: they
    are read once, soon), every other part empty; the parts' ``content_types`` renamed as
    given (old: new) in ``[Content_Types].xml``."""
    emptied = {"/" + i.filename.lower() for i in package.infolist() if not is_xml_part(i.filename)}
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED, allowZip64=True) as target:
        for info in package.infolist():
            if not is_xml_part(info.filename):
                target.writestr(info.filename, b"")
                continue
            if info.filename == _CONTENT_TYPES:
                declared = _declared(package.read(info), emptied, content_types or {})
                target.writestr(info.filename, declared)
                continue
            with (
                package.open(info) as source,
                target.open(info.filename, "w", force_zip64=True) as sink,
            ):
                shutil.copyfileobj(source, sink, _COPY_BUFFER)


# What a part left empty is declared as where the package declares it XML: a reader would
# parse it, and empty is not XML. A DOCX that imports another (w:altChunk, how document
# assembly merges documents) declares the imported DOCX, a ZIP, as a document's main part.
_BLOB = "application/octet-stream"
_OVERRIDE = "{http://schemas.openxmlformats.org/package/2006/content-types}Override"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _declared(types: bytes, emptied: set[str], renames: Mapping[str, str]) -> bytes:
    """``[Content_Types].xml`` for the copy: each content type in ``renames`` (old: new)
    renamed, and a part in ``emptied`` (its name, lower case) declared as XML declared a blob.
    Raises PACKAGE_ERRORS (SyntaxError) where it is not XML."""
    root = etree.fromstring(types, _PARSER)
    for declaration in root:
        declared = declaration.get("ContentType", "")
        if declaration.tag == _OVERRIDE and (
            declaration.get("PartName", "").lower() in emptied
            and declared.endswith(("+xml", "/xml"))
        ):
            declaration.set("ContentType", _BLOB)
        elif declared in renames:
            declaration.set("ContentType", renames[declared])
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


@contextmanager
def without_blobs(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None,
    memory_factor: float,
    what: str,
    content_types: Mapping[str, str] | None = None,
) -> Iterator[IO[bytes]]:
    """A temporary copy of the package ``source`` (a path or a seekable file) without its media,
    for a reader that reads every part when it opens a package (``content_types``: see
    copy_without_blobs). ``reserve(mb, reading)`` (the segment's budget) is asked first for
    ``memory_factor`` times its XML's size ("``what`` of N MB of XML"). Raises PACKAGE_ERRORS on
    a damaged package."""
    with zipfile.ZipFile(source) as package, tempfile.TemporaryFile() as copy:
        xml_mb = xml_megabytes(package)
        if reserve is not None:
            reserve(xml_mb * memory_factor, f"{what} of {xml_mb:.0f} MB of XML")
        copy_without_blobs(package, copy, content_types)
        copy.seek(0)
        yield copy
