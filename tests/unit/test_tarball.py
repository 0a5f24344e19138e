"""tar archives, compressed or not, and single compressed files: repacked into a stored ZIP
(docproc.extract.tarball), planned and read as a ZIP archive of files is."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract import archive
from docproc.extract.mail import message_text
from docproc.extract.ocr import OCR_OFF
from docproc.extract.sniff import BZIP2, GZIP, REPACKED, TAR, XZ, sniff
from docproc.models import BytesSegment
from tests.builders import planned
from tests.damage import damaged_copies, outcomes
from tests.documents import email_message, pdf_of_lines

_PDF = pdf_of_lines(["Exhibit 12 says the lease ends in May."] * 3)
_FILES = {"vol-1/exhibit.pdf": _PDF, "vol-1/notes/one.txt": b"Note one.", "two.txt": b"Two."}


def _tar(files: dict[str, bytes], mode: str = "w", **options: object) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode=mode, **options) as tar:  # type: ignore[call-overload]
        folder = tarfile.TarInfo("vol-1")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        link = tarfile.TarInfo("vol-1/latest.pdf")
        link.type, link.linkname = tarfile.SYMTYPE, "exhibit.pdf"
        tar.addfile(link)
    return data.getvalue()


def _repacked(data: bytes, name: str = "upload.tar", limit: int = archive.REPACK_LIMIT) -> bytes:
    media_type = sniff(data[:8192], name).media_type
    assert media_type in REPACKED
    target = io.BytesIO()
    repacked = archive.repack(media_type, io.BytesIO(data), target, len(data), name, limit)
    assert repacked.size == len(target.getvalue())
    return target.getvalue()


def _zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return {info.filename: zipped.read(info) for info in zipped.infolist()}


@pytest.mark.parametrize(
    ("mode", "media_type"),
    [("w", TAR), ("w:gz", GZIP), ("w:bz2", BZIP2), ("w:xz", XZ)],
)
def test_a_tar_compressed_or_not_is_repacked_into_a_zip_of_its_files(mode: str, media_type: str):
    # Given a tar of a PDF and notes in folders, with a folder entry and a link
    data = _tar(_FILES, mode)
    # When it is told and repacked
    assert sniff(data[:8192], "upload").media_type == media_type
    # Then the ZIP holds its files' bytes in order, the folder and the link left out (red
    # before: UnsupportedDocument)
    assert _zip_files(_repacked(data)) == _FILES


@pytest.mark.parametrize(
    ("compress", "name", "inner"),
    [
        (gzip.compress, "lease.pdf.gz", "lease.pdf"),
        (bz2.compress, "lease.pdf.bz2", "lease.pdf"),
        (lzma.compress, "lease.pdf.xz", "lease.pdf"),
        (lzma.compress, "lease", "lease"),
    ],
)
def test_a_single_compressed_file_is_one_file_named_after_the_upload(compress, name, inner):
    assert _zip_files(_repacked(compress(_PDF), name)) == {inner: _PDF}


def test_a_gzip_names_its_file_as_its_header_does():
    # Given a gzip made by the gzip tool of a file it names (FNAME), uploaded as "upload.gz"
    data = io.BytesIO()
    with gzip.GzipFile("scan-0007.pdf", "wb", fileobj=data) as stream:
        stream.write(_PDF)
    # Then the file is the header's name
    assert _zip_files(_repacked(data.getvalue(), "upload.gz")) == {"scan-0007.pdf": _PDF}


def test_an_archive_past_the_limit_is_refused_before_the_file_is_written():
    # Given a tar of a 3 MB text and a limit of 2 MB
    data = _tar({"a.txt": b"Clause. " * (3 << 17)}, "w:gz")
    target = io.BytesIO()
    # When it is repacked, Then it is refused before the file's bytes are written
    with pytest.raises(SegmentBudgetExceeded):
        archive.repack(GZIP, io.BytesIO(data), target, len(data), "a.tgz", 2 << 20)
    assert b"Clause." not in target.getvalue()


@pytest.mark.parametrize("single", [False, True])
def test_a_compressed_bomb_is_refused_as_it_unpacks(monkeypatch: pytest.MonkeyPatch, single):
    # Given 5 MB of zeros gzipped to a few KB (a tar of them, or the file alone), with the
    # bomb floor at 1 MB (in production 64 MB: the same ratio)
    monkeypatch.setattr(archive, "_BOMB_FLOOR", 1 << 20)
    zeros = bytes(5 << 20)
    data = gzip.compress(zeros) if single else _tar({"zeros.pdf": zeros}, "w:gz")
    # When it is repacked, Then it is refused (red without the check: unpacked whole)
    with pytest.raises(InvalidDocument):
        _repacked(data, "zeros.gz")


def test_damaged_archives_give_a_zip_or_a_typed_error():
    # Given tars, compressed each way and not, and single compressed files, damaged at random
    originals = [
        _tar(_FILES),
        _tar(_FILES, "w:gz"),
        _tar(_FILES, "w:bz2"),
        _tar(_FILES, "w:xz"),
        gzip.compress(_PDF),
        lzma.compress(b"Note. " * 500),
    ]
    copies = damaged_copies(originals, 400, seed=19, cut_share=0.1)

    def repacked(data: bytes) -> bytes:
        try:
            media_type = sniff(data[:8192], "upload").media_type
        except InvalidDocument:
            raise
        if media_type not in REPACKED:
            raise InvalidDocument("no longer an archive")  # (damage to the signature)
        return archive.repack(media_type, io.BytesIO(data), io.BytesIO(), len(data), "u.gz")

    # When each is repacked (the originals too), Then each gave a ZIP or InvalidDocument
    counts = outcomes(repacked, iter([*originals, *copies]), (InvalidDocument,))
    assert counts["read"] >= len(originals) and counts["refused"], counts


def test_a_tar_gz_is_planned_as_the_zip_it_is_repacked_into(tmp_path: Path):
    key = "uploads/acme/case/prod/production.tar.gz"
    data = _tar(_FILES, "w:gz")
    plan, store, segments = planned(key, data, tmp_path / "ledger.sqlite3")
    assert plan.document.media_type == GZIP
    (segment,) = segments
    assert isinstance(segment, BytesSegment)
    assert segment.input_key == plan.document.repacked_archive_key
    assert _zip_files(store.objects[segment.input_key]) == _FILES


def _seven_zip(files: dict[str, bytes]) -> bytes:
    import py7zr

    data = io.BytesIO()
    with py7zr.SevenZipFile(data, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]) as z:
        for name, content in files.items():
            z.writestr(content, name)
    return data.getvalue()


@pytest.mark.parametrize(
    ("name", "content_type", "pack"),
    [
        ("files.7z", "application/x-7z-compressed", _seven_zip),
        ("files.tar.gz", "application/gzip", lambda files: _tar(files, "w:gz")),
    ],
)
def test_an_archive_attached_to_an_e_mail_is_read_file_by_file(name, content_type, pack):
    # Given an e-mail with an archive of a PDF and a note (a ZIP's: test_archive)
    packed = pack({"exhibit.pdf": _PDF, "notes/note.txt": b"Read me."})
    message = email_message("Files", "Packed.", attachments=[(name, content_type, packed)])
    # When it is read, Then each file is read under its path (red before: named only)
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        f"Attachment: {name} ({content_type})\n\n"
        "File: exhibit.pdf\n\nExhibit 12 says the lease ends in May.\n\n"
        "Exhibit 12 says the lease ends in May.\n\nExhibit 12 says the lease ends in May.\n\n"
        "File: notes/note.txt\n\nRead me."
    )


def test_a_7z_or_a_tar_inside_a_zip_is_opened_its_files_under_their_own_paths():
    # Given a ZIP of a 7z and a tar.gz, each of a PDF and a note, and a note
    inner = {"exhibit.pdf": _PDF, "notes/note.txt": b"Read me."}
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zipped:
        zipped.writestr("vol-1.7z", _seven_zip(inner))
        zipped.writestr("vol-2.tar.gz", _tar(inner, "w:gz"))
        zipped.writestr("index.txt", b"Two volumes.")
    data = outer.getvalue()
    # When its files are read
    owned = archive.owned_files(
        io.BytesIO(data), 0, len(data), OCR_OFF, "off", lambda mb, what: None, lambda s: None
    )
    files = {file.path: file for file in owned}
    # Then each inner file is read under the archive's path and its own, a PDF page by page
    # (red before: each archive was one text under its own path)
    assert sorted(files) == [
        "index.txt",
        "vol-1.7z/exhibit.pdf",
        "vol-1.7z/notes/note.txt",
        "vol-2.tar.gz/exhibit.pdf",
        "vol-2.tar.gz/notes/note.txt",
    ]
    pdf = files["vol-2.tar.gz/exhibit.pdf"]
    assert pdf.paged and [page.number for page in pdf.pages] == [1, 2, 3]
    assert pdf.pages[0].text.startswith("File: vol-2.tar.gz/exhibit.pdf\n\nExhibit 12 says")
    assert files["vol-1.7z/notes/note.txt"].pages[0].text.endswith("Read me.")
