"""Type detection by content: magic bytes first, then a text probe. Names are only hints."""

from __future__ import annotations

import codecs

from docproc.errors import InvalidDocument, UnsupportedDocument

PDF = "application/pdf"
TEXT = "text/plain"

# Bytes read from the start of an object to decide its type.
SNIFF_BYTES = 8192
# PDF readers accept a header anywhere in the first 1 KiB (junk before it is common).
_PDF_WINDOW = 1024

_BINARY_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"ID3", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
    (b"OggS", 0, "audio/ogg"),
    (b"\x1a\x45\xdf\xa3", 0, "video/x-matroska"),
    (b"ftyp", 4, "video/mp4"),
    (b"\x1f\x8b", 0, "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
    (b"\x7fELF", 0, "application/x-executable"),
]


def sniff(head: bytes) -> str:
    """The media type of an object from its first bytes.

    Raises InvalidDocument for an empty object and UnsupportedDocument for content docproc
    does not ingest, naming what it detected.
    """
    if not head:
        raise InvalidDocument("the object is empty")
    if b"%PDF-" in head[:_PDF_WINDOW]:
        return PDF
    for signature, offset, media_type in _BINARY_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            raise UnsupportedDocument(f"content is {media_type}", detected_type=media_type)
    if _looks_like_text(head):
        return TEXT
    raise UnsupportedDocument("content is binary of an unknown type", "application/octet-stream")


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    # The probe may end inside a multi-byte character: decode incrementally, not final.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
