from __future__ import annotations

import bz2
import codecs
import io
import zipfile
from pathlib import Path

import docx
import pymupdf
import pytest

from docproc.errors import InvalidDocument, UnsupportedDocument
from docproc.extract.sniff import (
    CBZ,
    CSV,
    DOCX,
    EML,
    EPUB,
    HTML,
    JSON,
    JSONL,
    MARKDOWN,
    PDF,
    TEXT,
    XLSB,
    ZIP,
    sniff,
    sniff_zip,
)
from tests.documents import epub, with_member_marked


def test_pdf_by_magic_bytes_even_after_junk():
    assert sniff(b"%PDF-1.7\n...").media_type == PDF
    assert sniff(b"\x00" * 500 + b"%PDF-2.0\n").media_type == PDF  # offset start


def test_a_pdf_named_txt_is_a_pdf_and_text_named_pdf_is_text():
    assert sniff(b"%PDF-1.4\n", "notes.txt").media_type == PDF
    assert sniff(b"just words\n", "scan.pdf").media_type == TEXT


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (b"plain text\n", "utf-8"),
        ("Gr\u00fc\u00dfe \u20ac\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + b"bom\n", "utf-8-sig"),
        ("UTF-16 text\n".encode("utf-16"), "utf-16"),
    ],
)
def test_text_encodings(head: bytes, encoding: str):
    detected = sniff(head)
    assert (detected.media_type, detected.encoding) == (TEXT, encoding)


def test_single_byte_text_is_detected():
    head = ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade. " * 40).encode("cp1252")
    detected = sniff(head)
    assert detected.media_type == TEXT and detected.encoding not in (None, "utf-8")
    assert head.decode(detected.encoding) == head.decode("cp1252")


def test_a_legacy_encoding_other_than_windows_1252_is_detected_statistically():
    # Given Serbian Cyrillic in Windows-1251 ("Djordje bought a house in Belgrade."): its
    # letter dje is byte 0x90, which Windows-1252 does not define
    text = (
        "\u0402\u043e\u0440\u0452\u0435 \u0458\u0435 \u043a\u0443\u043f\u0438\u043e "
        "\u043a\u0443\u045b\u0443 \u0443 \u0411\u0435\u043e\u0433\u0440\u0430\u0434\u0443. "
    ) * 40
    head = text.encode("cp1251")
    # When it is sniffed
    detected = sniff(head)
    # Then the detector names an encoding that reads it back as written
    assert detected.media_type == TEXT and detected.encoding is not None
    assert head.decode(detected.encoding) == text


def test_probe_may_end_inside_a_character():
    assert sniff("\u20ac".encode() * 10 + "\u20ac".encode()[:2]).media_type == TEXT


@pytest.mark.parametrize(
    ("head", "name", "media_type"),
    [
        (b"# Title\n\nSome text.\n", "readme.md", MARKDOWN),
        (b"name,amount\nalice,3\nbob,4\n", "ledger.csv", CSV),
        (b'{"a": 1}\n{"a": 2}\n{"a": 3}\n', "records.jsonl", JSONL),
        (b'{"a": 1}\n{"a": 2}\n{"a": 3}\n', "records.txt", JSONL),
        (b'{"a": [1, 2]}', "data.json", JSON),
        (b"<!DOCTYPE html><html><body>x</body></html>", "page.txt", HTML),
        # XHTML: the html element after an XML declaration and a long DOCTYPE
        (
            b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
            b'Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html>x</html>',
            "clause",
            HTML,
        ),
        (b"<p>A fragment of a page.</p>", "clause.htm", HTML),
        (b"<p>Markup in a text file.</p>", "clause.txt", TEXT),
        # A web page saved whole (MHTML) by Word: a MIME document without a sender
        (
            b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b',
            "clause",
            EML,
        ),
        (b"Subject: the lease\r\nMIME-Version: 1.0\r\n\r\nText", "saved.mht", EML),
        (b"Subject: the lease\r\nMIME-Version: 1.0\r\n\r\nText", "memo.txt", TEXT),
        (b"plain words, nothing else\n", "notes", TEXT),
    ],
)
def test_text_formats(head: bytes, name: str, media_type: str):
    assert sniff(head, name).media_type == media_type


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 8, "application/x-executable"),
        (bytes(range(256)), "application/octet-stream"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "application/x-riff"),
    ],
)
def test_binary_types_are_unsupported_and_named(head: bytes, detected: str):
    with pytest.raises(UnsupportedDocument) as error:
        sniff(head)
    assert error.value.detected_type == detected


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"II+\x00\x08\x00\x00\x00", "image/tiff"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00", "image/jp2"),
        (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "image/bmp"),
        # HEIC: its own brand, or HEIF's generic one with a HEVC brand among the compatible
        (b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
    ],
)
def test_pictures_by_their_signatures(head: bytes, media_type: str):
    assert sniff(head).media_type == media_type


def test_text_that_begins_with_bzh_is_text():
    # "BZh" begins a bzip2 stream, and a text now and then
    assert sniff(b"BZhang and Ortiz met on 3 May.\n", "notes.txt").media_type == "text/plain"
    assert sniff(bz2.compress(b"x")[:16]).media_type == "application/x-bzip2"
    assert sniff(bz2.compress(b"")[:16]).media_type == "application/x-bzip2"


def test_text_that_begins_with_bm_is_text():
    # "BM" is a bitmap's first bytes, and many a text's
    assert sniff(b"BMW lease agreement, signed 3 May 2021.\n").media_type == TEXT


@pytest.mark.parametrize("mark", ["compression", "encryption"])
def test_a_container_whose_member_zipfile_cannot_decompress_is_a_typed_error(
    tmp_path: Path, mark: str
):
    # Given an EPUB whose mimetype member says a compression method zipfile lacks, or that
    # it is encrypted
    path = epub(tmp_path / "book.epub", ["Chapter one."])
    damaged = with_member_marked(path.read_bytes(), "mimetype", mark)
    # When its kind is read from its members, Then it is InvalidDocument (it was untyped)
    with pytest.raises(InvalidDocument):
        sniff_zip(io.BytesIO(damaged))


def test_empty_is_invalid():
    with pytest.raises(InvalidDocument):
        sniff(b"")


def test_zip_containers_by_members(tmp_path: Path):
    assert sniff(b"PK\x03\x04\x14\x00").media_type == ZIP
    # DOCX made by python-docx
    document = docx.Document()
    document.add_paragraph("Hello")
    document.save(tmp_path / "a.docx")
    assert sniff_zip(tmp_path / "a.docx") == DOCX
    # EPUB: mimetype member first
    with zipfile.ZipFile(tmp_path / "b.epub", "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", "<container/>")
    assert sniff_zip(tmp_path / "b.epub") == EPUB
    # CBZ: images only
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 4, 4), False)
    with zipfile.ZipFile(tmp_path / "c.cbz", "w") as archive:
        archive.writestr("001.png", pixmap.tobytes("png"))
    assert sniff_zip(tmp_path / "c.cbz") == CBZ
    # Anything else in a ZIP is an archive of files (each read as its kind)
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("data.bin", b"\x00\x01")
    assert sniff_zip(tmp_path / "d.zip") == ZIP
    (tmp_path / "e.zip").write_bytes(b"PK\x03\x04" + io.BytesIO(b"junk").read())
    with pytest.raises(InvalidDocument):
        sniff_zip(tmp_path / "e.zip")


def test_an_excel_binary_workbook_is_unsupported_not_an_archive_of_its_parts(tmp_path: Path):
    # Given an XLSB (Excel's binary workbook: its parts' records binary, its properties and
    # relationships XML)
    with zipfile.ZipFile(tmp_path / "model.xlsb", "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("docProps/app.xml", "<Properties><Application>Excel</Application>")
        package.writestr("xl/workbook.bin", b"\x83\x01\x00\x84\x01\x00")
        package.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    # When it is sniffed, Then it is named as what it is and refused (red before: an archive
    # of files, its XML read as text)
    with pytest.raises(UnsupportedDocument) as refused:
        sniff_zip(tmp_path / "model.xlsb")
    assert refused.value.detected_type == XLSB


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        (b"\x00\x00\x00\x18ftypM4A ", "audio/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        # (a HEVC brand past the box's end is not the box's)
        (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1heic", "video/mp4"),
        (b"ID3\x03\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64", "audio/mpeg"),
        (b"\xff\xf1\x50\x80", "audio/aac"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01B\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01B\x82\x88matroska", "video/x-matroska"),
    ],
)
def test_recordings_are_recognised_by_their_container(head: bytes, media_type: str):
    # Whatever the name says: the content decides
    assert sniff(head, "notes.txt").media_type == media_type
