"""Office Open XML packages (DOCX, XLSX, PPTX): ZIP archives of XML parts and the media they
carry. What their readers hold in memory follows the XML, not the file, so the segment's budget
is asked for the XML's size (from the archive's directory: nothing is inflated to learn it).

python-docx and python-pptx read every part of a package into memory when they open it, and a
package's size is mostly its media (photographs, embedded files, fonts), which hold no text: they
open a copy that keeps the XML and relationships and leaves every other part empty.

A package may also come flat: one XML document whose parts are its elements (Flat OPC: what
Word saves as "Word XML Document" and PowerPoint as "PowerPoint XML Presentation", and what
document-assembly tools and Office add-ins write). ``opened_package`` makes the package of it.
"""

from __future__ import annotations

import binascii
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO
from xml.parsers import expat

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
    expat.ExpatError,  # a flat package's XML not well formed (opened_package)
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
_TYPES_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/content-types"
_OVERRIDE = f"{{{_TYPES_NAMESPACE}}}Override"
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
    package: zipfile.ZipFile,
    reserve: Callable[[float, str], None] | None,
    memory_factor: float,
    what: str,
    content_types: Mapping[str, str] | None = None,
) -> Iterator[IO[bytes]]:
    """A temporary copy of ``package`` without its media, for a reader that reads every part
    when it opens a package (``content_types``: see copy_without_blobs). ``reserve(mb,
    reading)`` (the segment's budget) is asked first for ``memory_factor`` times its XML's size
    ("``what`` of N MB of XML"). Raises PACKAGE_ERRORS on a damaged package."""
    with tempfile.TemporaryFile() as copy:
        xml_mb = xml_megabytes(package)
        if reserve is not None:
            reserve(xml_mb * memory_factor, f"{what} of {xml_mb:.0f} MB of XML")
        copy_without_blobs(package, copy, content_types)
        copy.seek(0)
        yield copy


# A flat package's elements (Flat OPC).
_FLAT_NAMESPACE = "http://schemas.microsoft.com/office/2006/xmlPackage"
_FLAT_PIECE = 1 << 20
_FLAT_HEAD = 1024  # (white space before the XML: none, or a line or two)
_HELD_WRITES = 8192  # pieces of a part's XML held before they are written
# Parts no reader of a package reads (copy_without_blobs empties them too): a flat package's
# copy holds them empty, so a flat file's pictures are never decoded nor written.
_MEDIA = ("image/", "audio/", "video/")


@contextmanager
def opened_package(source: Path | IO[bytes]) -> Iterator[zipfile.ZipFile]:
    """The package ``source`` (a path or a seekable file) open: a ZIP, or where it is XML, the
    package it holds flat (Flat OPC), made into a temporary ZIP first: each part as it is but
    pictures, sounds and videos, which are left empty. Raises PACKAGE_ERRORS where it is
    neither (ValueError: XML of another kind)."""
    with ExitStack() as stack:
        try:
            package = stack.enter_context(zipfile.ZipFile(source))
        except zipfile.BadZipFile:
            # Only now is its start read: a ZIP's directory is at its end, where zipfile
            # looked, and a ranged read of its start would be a request more.
            stream = stack.enter_context(open(source, "rb")) if isinstance(source, Path) else source
            stream.seek(0)
            if not stream.read(_FLAT_HEAD).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                raise
            stream.seek(0)
            made = stack.enter_context(tempfile.TemporaryFile(prefix="docproc-package-"))
            with zipfile.ZipFile(made, "w", zipfile.ZIP_STORED, allowZip64=True) as target:
                _FlatPackage(target).read(stream)
            package = stack.enter_context(zipfile.ZipFile(made))
        yield package


class _FlatPackage:
    """Writes the parts of a flat package, read with expat a piece at a time (a part's text
    is given in pieces: a picture's base64 may be as large as the file), into ``target``:
    an XML part (``pkg:xmlData``) serialized again, with the namespaces declared around it
    that it uses, a binary one (``pkg:binaryData``) decoded; then ``[Content_Types].xml``.
    A document type declaration is refused (no entities: nothing expands)."""

    def __init__(self, target: zipfile.ZipFile) -> None:
        self._target = target
        self._parser = expat.ParserCreate(namespace_separator=" ")
        self._parser.namespace_prefixes = True
        self._parser.ordered_attributes = True
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._characters
        self._parser.StartNamespaceDeclHandler = self._declared
        self._parser.StartDoctypeDeclHandler = self._refused
        self._depth = 0
        self._scopes: list[dict[str, str]] = []  # the declarations around a part's XML
        self._pending: dict[str, str] = {}  # declared for the next element
        self._part = ""  # the part being read: its name
        self._types: dict[str, str] = {}  # part name: content type
        self._sink: IO[bytes] | None = None  # the part being written, where it is kept
        self._xml = False  # whether the part is XML (else base64, decoded)
        self._damaged = False  # whether the part's base64 is not (the rest is left out)
        self._written: list[str] = []  # XML not yet written
        self._names = _QualifiedNames()
        self._base64 = bytearray()  # base64 not yet decoded (a group of 4 cut short)

    def read(self, stream: IO[bytes]) -> None:
        try:
            while piece := stream.read(_FLAT_PIECE):
                self._parser.Parse(piece, False)
            self._parser.Parse(b"", True)
        finally:
            if self._sink is not None:  # (zipfile closes no package with a part open)
                self._sink.close()
        if not self._types:
            raise ValueError("not a flat package: it has no parts")
        self._target.writestr(_CONTENT_TYPES, _content_types(self._types))

    def _refused(self, *_: object) -> None:
        raise ValueError("a flat package with a document type declaration")

    def _declared(self, prefix: str | None, uri: str | None) -> None:
        self._pending[prefix or ""] = uri or ""

    def _start(self, name: str, attributes: list[str]) -> None:
        depth, self._depth = self._depth, self._depth + 1
        pending = self._pending
        if pending:
            self._pending = {}
        if depth > 3:  # within a part's XML (the most of a file: kept short)
            if self._sink is not None and self._xml:
                self._tag(name, attributes, pending)
            return
        if depth < 3:
            self._scopes.append(pending)
        uri, local, _ = _split(name)
        if depth == 0:
            if (uri, local) != (_FLAT_NAMESPACE, "package"):
                raise ValueError("not a flat package: XML of another kind")
        elif depth == 1:
            self._part_starts(uri, local, attributes)
        elif depth == 2 and self._part and uri == _FLAT_NAMESPACE:
            self._data_starts(local)
        elif depth == 3 and self._sink is not None and self._xml:
            # The part's root: the namespaces declared around it, as its own.
            around = {prefix: uri for scope in self._scopes for prefix, uri in scope.items()}
            self._tag(name, attributes, around | pending)

    def _part_starts(self, uri: str, local: str, attributes: list[str]) -> None:
        self._part = ""
        if (uri, local) == (_FLAT_NAMESPACE, "part"):
            values = _flat_attributes(attributes)
            self._part = values.get("name", "").lstrip("/")
            if not self._part or self._part == _CONTENT_TYPES or self._part in self._types:
                raise ValueError("a flat package's part without a name, or named twice")
            self._types[self._part] = values.get("contentType", "")

    def _data_starts(self, local: str) -> None:
        """A part's data (its first ``pkg:xmlData`` or ``pkg:binaryData``) begins."""
        name, self._part = self._part, ""
        self._xml, self._damaged = local == "xmlData", False
        self._sink = self._target.open(name, "w", force_zip64=True)
        if self._types[name].startswith(_MEDIA) or local not in ("xmlData", "binaryData"):
            self._sink.close()  # empty: a picture, or an element no reader knows
            self._sink = None
        elif self._xml:
            self._written.append('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')

    def _tag(self, name: str, attributes: list[str], declared: Mapping[str, str]) -> None:
        names = self._names
        if not attributes and not declared:
            self._written.append(f"<{names[name]}>")
        else:
            written = [names[name]]
            for prefix, uri in declared.items():
                written.append(
                    f'xmlns:{prefix}="{_escaped(uri)}"' if prefix else f'xmlns="{_escaped(uri)}"'
                )
            for at in range(0, len(attributes), 2):
                written.append(f'{names[attributes[at]]}="{_escaped(attributes[at + 1])}"')
            self._written.append(f"<{' '.join(written)}>")
        if len(self._written) >= _HELD_WRITES:
            self._flush(final=False)

    def _end(self, name: str) -> None:
        self._depth -= 1
        if self._sink is None:
            if self._depth < 3:
                self._scopes.pop()
            return
        if self._depth >= 3:
            if self._xml:
                self._written.append(f"</{self._names[name]}>")
            return
        self._scopes.pop()
        if self._depth == 2:  # the part's data ends
            self._flush(final=True)
            self._sink.close()
            self._sink = None

    def _characters(self, data: str) -> None:
        if self._sink is None or self._depth < 3:
            return
        if self._xml:
            if self._depth == 3:  # beside the part's root: white space
                return
            self._written.append(data.translate(_ESCAPES))
            if len(self._written) >= _HELD_WRITES:
                self._flush(final=False)
            return
        self._base64 += data.encode("ascii", "replace").translate(None, b" \t\r\n")
        if len(self._base64) >= _FLAT_PIECE:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        """Writes what is held of the part: its XML, or its base64 decoded (all of it at the
        end of the part)."""
        assert self._sink is not None  # (called only while a part is written)
        if self._xml:
            self._sink.write("".join(self._written).encode("utf-8"))
            self._written.clear()
            return
        whole = len(self._base64) if final else len(self._base64) // 4 * 4
        try:
            if not self._damaged:
                self._sink.write(binascii.a2b_base64(self._base64[:whole], strict_mode=True))
        except binascii.Error:
            # Its reader will find it cut short (a part a document imports is then left out).
            self._damaged = True
        del self._base64[:whole]


def _split(name: str) -> tuple[str, str, str]:
    """expat's "namespace local prefix" as its three parts ("" where absent)."""
    parts = name.split(" ")
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


class _QualifiedNames(dict[str, str]):
    """expat's "namespace local prefix" names as written, "prefix:local" (kept: a document
    repeats a few names)."""

    def __missing__(self, name: str) -> str:
        _, local, prefix = _split(name)
        self[name] = qualified = f"{prefix}:{local}" if prefix else local
        return qualified


def _flat_attributes(attributes: list[str]) -> dict[str, str]:
    """A flat package's element's attributes of its namespace, by their local names."""
    values: dict[str, str] = {}
    for key, value in zip(attributes[::2], attributes[1::2], strict=True):
        uri, local, _ = _split(key)
        if uri == _FLAT_NAMESPACE:
            values[local] = value
    return values


_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\t": "&#9;"}
)


def _escaped(text: str) -> str:
    return text.translate(_ESCAPES)


def _content_types(types: Mapping[str, str]) -> bytes:
    """``[Content_Types].xml`` declaring each part's content type."""
    root = etree.Element(f"{{{_TYPES_NAMESPACE}}}Types", nsmap={None: _TYPES_NAMESPACE})
    for name, content_type in types.items():
        etree.SubElement(root, _OVERRIDE, PartName="/" + name, ContentType=content_type)
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result
