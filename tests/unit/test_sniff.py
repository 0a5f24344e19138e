from __future__ import annotations

import codecs

import pytest

from docproc.errors import InvalidDocument, UnsupportedDocument
from docproc.extract.sniff import PDF, TEXT, sniff


def test_pdf_by_magic_bytes_even_after_junk():
    assert sniff(b"%PDF-1.7\n...") == PDF
    assert sniff(b"\x00" * 500 + b"%PDF-2.0\n") == PDF  # PDF-2.0-with-offset-start


@pytest.mark.parametrize(
    "head", [b"plain text\n", "Gr\u00fc\u00dfe \u20ac".encode(), codecs.BOM_UTF8 + b"bom"]
)
def test_utf8_text(head: bytes):
    assert sniff(head) == TEXT


def test_probe_may_end_inside_a_character():
    assert sniff("\u20ac".encode() * 10 + "\u20ac".encode()[:2]) == TEXT


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        (b"PK\x03\x04" + b"\x00" * 20, "application/zip"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (bytes(range(256)), "application/octet-stream"),
    ],
)
def test_binary_types_are_unsupported_and_named(head: bytes, detected: str):
    with pytest.raises(UnsupportedDocument) as error:
        sniff(head)
    assert error.value.detected_type == detected


def test_empty_is_invalid():
    with pytest.raises(InvalidDocument):
        sniff(b"")
