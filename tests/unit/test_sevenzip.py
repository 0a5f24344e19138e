"""7z archives: repacked into a stored ZIP of their files (docproc.extract.sevenzip), planned and
read as a ZIP archive of files is; attached to a message, read file by file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import py7zr
import pytest

from docproc.errors import (
    EncryptedDocument,
    InvalidDocument,
    SegmentBudgetExceeded,
    UnsupportedDocument,
)
from docproc.extract import archive, sevenzip
from docproc.extract.sniff import SEVEN_ZIP, sniff
from docproc.models import BytesSegment, PagesSegment
from docproc.pipeline.plan import PlanOptions
from tests.builders import planned
from tests.damage import damaged_copies, outcomes
from tests.documents import pdf_of_lines

KEY = "uploads/acme/case/prod/production.7z"
_PDF = pdf_of_lines(["Exhibit 12 says the lease ends in May."] * 3)
# LZMA2's fastest preset: the tests' archives are made in milliseconds (7z's default, solid).
_FAST = [{"id": py7zr.FILTER_LZMA2, "preset": 1}]


def _seven_zip(files: dict[str, bytes], password: str | None = None, **options: bool) -> bytes:
    data = io.BytesIO()
    filters = [*_FAST, {"id": py7zr.FILTER_CRYPTO_AES256_SHA256}] if password else _FAST
    with py7zr.SevenZipFile(data, "w", filters=filters, password=password, **options) as archive:
        for name, content in files.items():
            archive.writestr(content, name)
    return data.getvalue()


def _repacked(data: bytes, limit: int = archive.REPACK_LIMIT) -> tuple[bytes, int]:
    target = io.BytesIO()
    repacked = archive.repack(SEVEN_ZIP, io.BytesIO(data), target, len(data), "a.7z", limit)
    assert repacked.size == len(target.getvalue())
    return target.getvalue(), repacked.files


def _zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return {info.filename: zipped.read(info) for info in zipped.infolist()}


def test_a_7z_archive_is_told_by_its_signature():
    data = _seven_zip({"note.txt": b"Read me."})
    assert sniff(data[:8192], "whatever.bin").media_type == SEVEN_ZIP


def test_a_7z_is_repacked_into_a_stored_zip_of_its_files_in_order(tmp_path: Path):
    # Given a solid 7z of a PDF and notes in folders, with an empty folder
    (tmp_path / "empty").mkdir()
    data = io.BytesIO()
    with py7zr.SevenZipFile(data, "w", filters=_FAST) as archive:
        archive.writestr(_PDF, "vol-1/exhibits/exhibit.pdf")
        archive.writestr(b"Note one.", "vol-1/notes/one.txt")
        archive.write(tmp_path / "empty", "vol-1/empty")
        archive.writestr(b"", "vol-1/blank.txt")
    # When it is repacked
    repacked, count = _repacked(data.getvalue())
    # Then the ZIP holds the same files' bytes, in the archive's order, stored, the folder left out
    assert _zip_files(repacked) == {
        "vol-1/exhibits/exhibit.pdf": _PDF,
        "vol-1/notes/one.txt": b"Note one.",
        "vol-1/blank.txt": b"",
    }
    assert count == 3
    with zipfile.ZipFile(io.BytesIO(repacked)) as zipped:
        assert {info.compress_type for info in zipped.infolist()} == {zipfile.ZIP_STORED}


@pytest.mark.parametrize("header_encryption", [False, True])
def test_an_encrypted_7z_is_refused_as_encrypted(header_encryption: bool):
    # Given an archive encrypted with a password, its names too or not
    data = _seven_zip({"a.txt": b"Secret."}, password="pw", header_encryption=header_encryption)
    target = io.BytesIO()
    # When it is repacked, Then it is EncryptedDocument before anything is written
    with pytest.raises(EncryptedDocument):
        archive.repack(SEVEN_ZIP, io.BytesIO(data), target, len(data), "a.7z")
    assert target.getvalue() == b""


def test_a_7z_that_would_unpack_past_the_limit_is_refused_before_it_is_written():
    # Given an archive of 3 MB of text and a limit of 2 MB
    data = _seven_zip({"a.txt": b"Clause. " * (3 << 17)})
    target = io.BytesIO()
    # When it is repacked, Then it is refused and nothing was written
    with pytest.raises(SegmentBudgetExceeded):
        archive.repack(SEVEN_ZIP, io.BytesIO(data), target, len(data), "a.7z", 2 << 20)
    assert target.getvalue() == b""


def test_a_7z_bomb_is_refused_before_it_is_written(monkeypatch: pytest.MonkeyPatch):
    # Given 5 MB of zeros compressed to a few KB, with the bomb floor at 1 MB (in production
    # 64 MB: the same ratio)
    monkeypatch.setattr(archive, "_BOMB_FLOOR", 1 << 20)
    data = _seven_zip({"zeros.pdf": bytes(5 << 20)})
    target = io.BytesIO()
    # When it is repacked, Then it is refused and nothing was written
    with pytest.raises(InvalidDocument):
        archive.repack(SEVEN_ZIP, io.BytesIO(data), target, len(data), "a.7z")
    assert target.getvalue() == b""


def test_a_decompressor_needing_more_memory_than_allowed_is_refused(
    monkeypatch: pytest.MonkeyPatch,
):
    # Given an archive whose LZMA2 dictionary is 1 MiB (preset 1) and an allowance of 512 KiB
    monkeypatch.setattr(sevenzip, "DECOMPRESSOR_MEMORY_LIMIT", 512 << 10)
    data = _seven_zip({"a.txt": b"Clause. " * 1000})
    # When it is repacked, Then it is refused
    with pytest.raises(SegmentBudgetExceeded):
        _repacked(data)


@pytest.mark.parametrize(
    ("method", "properties", "needed"),
    [
        ("21", bytes([24]), 16 << 20),  # LZMA2: 2 << 23
        ("21", bytes([25]), 24 << 20),  # 3 << 23
        ("21", bytes([40]), 0xFFFF_FFFF),  # the largest LZMA2 states
        ("030101", bytes([0x5D]) + (64 << 20).to_bytes(4, "little"), 64 << 20),  # LZMA
        ("030101", b"\x5d", 0),  # short properties: a damaged header, not a figure
        ("00", b"", 0),  # stored
    ],
)
def test_a_coders_memory_is_read_from_its_properties(method: str, properties: bytes, needed: int):
    coder = {"method": bytes.fromhex(method), "properties": properties}
    assert sevenzip._coder_memory(coder) == needed


def _packed_with(filters: list[dict[str, int]]) -> bytes:
    data = io.BytesIO()
    with py7zr.SevenZipFile(data, "w", filters=filters) as archive:
        archive.writestr(_PDF, "a.pdf")
        archive.writestr(b"Note two. " * 300, "b.txt")
    return data.getvalue()


def test_a_7z_compressed_with_ppmd_is_refused_before_it_is_decoded():
    # Given an archive compressed with PPMd, whose decoder (pyppmd) crashed the process on
    # damaged copies under python3.13 (a segmentation fault)
    data = _packed_with([{"id": py7zr.FILTER_PPMD}])
    # When it is repacked, Then it is refused as unsupported (red without the check: decoded)
    with pytest.raises(UnsupportedDocument):
        _repacked(data)


def test_damaged_7z_archives_give_a_zip_or_a_typed_error():
    # Given archives of a PDF and notes, solid and compressed each way py7zr decodes (stored,
    # LZMA2 after BCJ, bzip2, deflate, zstd, brotli), damaged at random (cut too)
    originals = [
        _seven_zip({"a.pdf": _PDF, "b.txt": b"Note. " * 200, "c/d.txt": b"Third."}),
        *(
            _packed_with(filters)
            for filters in (
                [{"id": py7zr.FILTER_COPY}],
                [{"id": py7zr.FILTER_X86}, *_FAST],
                [{"id": py7zr.FILTER_BZIP2}],
                [{"id": py7zr.FILTER_DEFLATE}],
                [{"id": py7zr.FILTER_ZSTD}],
                [{"id": py7zr.FILTER_BROTLI}],
            )
        ),
    ]
    copies = damaged_copies(originals, 400, seed=17, cut_share=0.1)
    # When each is repacked (the originals too), Then each gave a ZIP or InvalidDocument
    # (nothing else escapes; a CRC catches most damage)
    counts = outcomes(_repacked, iter([*originals, *copies]), (InvalidDocument,))
    assert counts["read"] >= len(originals) and counts["refused"], counts


def test_a_7z_is_planned_as_the_zip_it_is_repacked_into(tmp_path: Path):
    # Given a 7z of a note, a 12-page PDF larger than a segment's bytes, and a note
    from benchmarks.generators import text_pdf

    pdf = text_pdf(tmp_path / "record.pdf", pages=12).read_bytes()
    data = _seven_zip({"a.txt": b"Before.", "vol/record.pdf": pdf, "z.txt": b"After."})
    # When it is planned with segments of 8 KiB and 5 pages
    options = PlanOptions(segment_bytes=8192, segment_pages=5)
    plan, store, segments = planned(KEY, data, tmp_path / "ledger.sqlite3", options)
    # Then the document is a 7z; the notes are read from byte ranges of the ZIP it was
    # repacked into, in its work folder, and the PDF (unpacked from that) in page ranges
    assert plan.document.media_type == SEVEN_ZIP
    repacked = plan.document.repacked_archive_key
    ranges = [s for s in segments if isinstance(s, BytesSegment)]
    assert ranges and {s.input_key for s in ranges} == {repacked}
    assert ranges[-1].byte_end == len(store.objects[repacked])
    pages = [s for s in segments if isinstance(s, PagesSegment)]
    assert [(s.page_start, s.page_end, s.path) for s in pages] == [
        (1, 5, "vol/record.pdf"),
        (6, 10, "vol/record.pdf"),
        (11, 12, "vol/record.pdf"),
    ]
    assert _zip_files(store.objects[repacked])["vol/record.pdf"] == pdf
