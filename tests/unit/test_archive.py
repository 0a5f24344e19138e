"""ZIP archives of files: planned in ranges cut between files, each file read once, as its
kind, under its path; what cannot be read is named with why and the rest is read."""

from __future__ import annotations

import io
import itertools
import json
import struct
import zipfile
from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from docproc.errors import InvalidDocument, NoExtractableText, SegmentBudgetExceeded
from docproc.extract import archive
from docproc.extract.mail import message_text
from docproc.extract.ocr import OCR_OFF
from docproc.extract.pages import PageText
from docproc.extract.sniff import ZIP, sniff_zip
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import BytesSegment, PagesSegment, SegmentTask
from docproc.pipeline.plan import ARCHIVE_FILES_PER_SEGMENT, PlanOptions, plan_document
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    deflate64_zip,
    docx_file,
    email_message,
    pdf_of_lines,
    zip_of_raw_names,
    zip_with_method,
)
from tests.fakes import InMemoryObjectStore

KEY = "uploads/acme/case/prod/production.zip"
_PDF = pdf_of_lines(["Exhibit 12 says the lease ends in May."] * 3)


def _zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", method) as zipped:
        for name, content in files.items():
            zipped.writestr(name, content)
    return data.getvalue()


def _members(data: bytes) -> list[archive.Member]:
    with archive.opened(io.BytesIO(data)) as zipped:
        return archive.members(zipped)


def _no_check(stage: str) -> None:
    return None


def _unlimited(needed_mb: float, reading: str) -> None:
    return None


def _read(
    data: bytes, start: int = 0, end: int | None = None
) -> list[tuple[str, list[PageText], bool]]:
    end = len(data) if end is None else end
    owned = archive.owned_files(io.BytesIO(data), start, end, OCR_OFF, "off", _unlimited, _no_check)
    return [(file.path, file.pages, file.paged) for file in owned]


def _texts(data: bytes) -> dict[str, str]:
    return {path: "\n\n".join(page.text for page in pages) for path, pages, _ in _read(data)}


def test_a_zip_of_files_is_an_archive_and_its_files_are_read_as_their_kinds(tmp_path: Path):
    # Given a ZIP of a PDF, a DOCX, an e-mail and a note in folders, with the folders' own
    # entries and the files macOS and Windows add
    memo = docx_file(tmp_path / "memo.docx", ["Clause 9: the landlord insures."]).read_bytes()
    data = _zip(
        {
            "exhibits/": b"",
            "exhibits/12.pdf": _PDF,
            "drafts/memo.docx": memo,
            "mail/notice.eml": email_message("Notice", "Vacate by May.").as_bytes(),
            "notes.txt": b"Call the inspector.",
            "__MACOSX/exhibits/._12.pdf": b"\x00\x05\x16\x07",
            "drafts/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "Thumbs.db": b"\xd0\xcf\x11\xe0",
        }
    )
    # When it is sniffed and read
    assert sniff_zip(io.BytesIO(data)) == ZIP  # red before: UnsupportedDocument
    read = _read(data)
    # Then each file is read once, in order, under its path; the PDF by its pages
    assert [path for path, _, _ in read] == [
        "exhibits/12.pdf",
        "drafts/memo.docx",
        "mail/notice.eml",
        "notes.txt",
    ]
    _, pages, paged = read[0]
    assert paged and [page.number for page in pages] == [1, 2, 3]  # the PDF's own pages
    assert pages[0].text.startswith("File: exhibits/12.pdf\n\nExhibit 12 says")
    texts = _texts(data)
    assert texts["drafts/memo.docx"] == "File: drafts/memo.docx\n\nClause 9: the landlord insures."
    assert "Subject: Notice\n\nVacate by May." in texts["mail/notice.eml"]
    assert texts["notes.txt"] == "File: notes.txt\n\nCall the inspector."


def test_files_compressed_with_deflate64_are_read():
    # Given an archive as Windows' compressed folders write large files (Deflate64): a PDF,
    # a note in a folder, and 200 kB of text (past a 64 KiB window)
    text = b"".join(b"Line %d of the transcript. " % n for n in range(8000))
    data = deflate64_zip({"record.pdf": _PDF, "notes/note.txt": b"Read me.", "t.txt": text})
    # When it is read, Then each file is read as its kind (red before: each was "not read:
    # InvalidDocument", a method zipfile lacks)
    texts = _texts(data)
    assert texts["record.pdf"].startswith("File: record.pdf\n\nExhibit 12 says")
    assert texts["notes/note.txt"] == "File: notes/note.txt\n\nRead me."
    (member,) = [m for m in _members(data) if m.path == "t.txt"]
    with zipfile.ZipFile(io.BytesIO(data)) as zipped, archive.open_member(zipped, member.info) as f:
        assert f.read() == text


def test_damaged_deflate64_files_give_their_bytes_or_a_typed_error():
    # Given Deflate64 archives damaged at random (cut too)
    original = deflate64_zip({"a.txt": bytes(range(256)) * 300, "b.txt": b"Second. " * 900})

    def read_all(data: bytes) -> None:
        with archive.opened(io.BytesIO(data)) as zipped:
            for member in archive.members(zipped):
                archive.unpack(zipped, member, io.BytesIO())

    # When each file of each is unpacked, Then each gave its bytes or InvalidDocument (a CRC
    # at its end; inflate64's own errors on a damaged stream)
    copies = damaged_copies([original], 300, seed=29, cut_share=0.1)
    counts = outcomes(read_all, iter([original, *copies]), (InvalidDocument,))
    assert counts["read"] >= 1 and counts["refused"], counts


def test_names_are_read_as_their_writer_wrote_them():
    # Given an archive whose names do not say their encoding (no UTF-8 flag): two in UTF-8
    # (Linux's zip), one in CP437 (an old Windows tool), one in ASCII
    data = zip_of_raw_names(
        {
            "Contrat signé.pdf".encode(): _PDF,
            "notes/Résumé.txt".encode(): b"Read me.",
            "Résumé 1998.txt".encode("cp437"): b"Old.",
            b"plain.txt": b"Plain.",
        }
    )
    # When it is read, Then each file is under its name (red before: "Contrat sign├⌐.pdf")
    assert sorted(_texts(data)) == [
        "Contrat signé.pdf",
        "Résumé 1998.txt",
        "notes/Résumé.txt",
        "plain.txt",
    ]


def test_archives_inside_the_archive_are_opened_so_deep():
    # Given a delivery: volumes zipped inside the archive, one holding a PDF and a zip of its
    # own, nested deeper than docproc opens
    deepest = _zip({"too-deep.txt": b"Not opened."})
    for level in range(archive.MAX_NESTED, 1, -1):
        deepest = _zip(
            {f"level-{level}.zip": deepest, f"level-{level}.txt": f"Level {level}.".encode()}
        )
    data = _zip(
        {
            "vol-1.zip": _zip({"exhibit.pdf": _PDF, "inner.zip": deepest}),
            "index.txt": b"Two volumes.",
        }
    )
    # When it is read
    read = {path: (pages, paged) for path, pages, paged in _read(data)}
    # Then each file inside is read under its archives' paths, a PDF on its own pages, and the
    # archive past the limit is named, not opened
    pages, paged = read["vol-1.zip/exhibit.pdf"]
    assert paged and [page.number for page in pages] == [1, 2, 3]
    assert pages[0].text.startswith("File: vol-1.zip/exhibit.pdf\n\nExhibit 12 says")
    assert read["vol-1.zip/inner.zip/level-2.txt"][0][0].text.endswith("Level 2.")
    path = "vol-1.zip/inner.zip/level-2.zip/level-3.zip"
    assert read[path][0][0].text == f"File: {path}"
    assert read["index.txt"][0][0].text == "File: index.txt\n\nTwo volumes."


def test_a_zip_attached_to_an_e_mail_is_read_file_by_file():
    # Given an e-mail with a zip of a PDF, a note and a text far larger than the zip (one
    # letter, repeated: it compresses to nothing)
    zipped = _zip({"exhibit.pdf": _PDF, "note.txt": b"Read me.", "huge.txt": b"x" * 2_000_000})
    message = email_message(
        "Files", "Zipped.", attachments=[("files.zip", "application/zip", zipped)]
    )
    # When it is read
    text = message_text(io.BytesIO(message.as_bytes()))
    # Then each file is read under its path, and the one larger than the attachment named with
    # why (red before: the zip was named only)
    assert text.endswith(
        "Attachment: files.zip (application/zip)\n\n"
        "File: exhibit.pdf\n\nExhibit 12 says the lease ends in May.\n\n"
        "Exhibit 12 says the lease ends in May.\n\nExhibit 12 says the lease ends in May.\n\n"
        "File: note.txt\n\nRead me.\n\n"
        "File: huge.txt, not read: SegmentBudgetExceeded"
    )


def test_messages_and_archives_inside_each_other_are_read_only_so_deep():
    # Given an e-mail that attaches a zip holding an e-mail that attaches a zip ..., 8 deep
    content = email_message("Bottom", "The bottom.").as_bytes()
    for level in range(8):
        zipped = _zip({f"m{level}.eml": content})
        content = email_message(
            f"Level {level}", "Zipped.", attachments=[("z.zip", "application/zip", zipped)]
        ).as_bytes()
    # When it is read, Then it ends at the limit (no RecursionError), the bottom not reached
    text = message_text(io.BytesIO(content))
    assert "Subject: Level 7" in text and "The bottom." not in text


def test_files_that_cannot_be_read_are_named_with_why_and_the_rest_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given an archive with an encrypted file, a damaged one, one compressed by a method
    # docproc lacks (PPMd), and a note
    files = {
        "secret.pdf": _PDF,
        "damaged.txt": b"The deposition is on Monday. " * 50,
        "ppmd.pdf": _PDF,
        "note.txt": b"Read me.",
    }
    data = bytearray(zip_with_method(_zip(files), "ppmd.pdf", 98))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zipped:
        infos = {info.filename: info for info in zipped.infolist()}
    # The encrypted flag, in the local header and the central directory
    for offset in (infos["secret.pdf"].header_offset, data.index(b"PK\x01\x02")):
        flag_at = offset + (6 if data[offset + 2] == 3 else 8)
        data[flag_at] |= 1
    damaged = infos["damaged.txt"]
    data[damaged.header_offset + 30 + len("damaged.txt") + 5] ^= 0xFF
    # When it is read
    texts = _texts(bytes(data))
    # Then each that cannot be read is named with why, and the note is read
    assert texts["secret.pdf"] == "File: secret.pdf, not read: EncryptedDocument"
    assert texts["damaged.txt"] == "File: damaged.txt, not read: InvalidDocument"
    assert texts["ppmd.pdf"] == "File: ppmd.pdf, not read: InvalidDocument"
    assert texts["note.txt"] == "File: note.txt\n\nRead me."


def test_a_file_too_large_for_the_segment_is_named_and_the_rest_read(
    monkeypatch: pytest.MonkeyPatch,
):
    # Given an archive of a PDF, a text and a note, read with no disk to spare and a budget
    # that refuses the text's memory
    data = _zip({"big.pdf": _PDF, "big.txt": b"x" * 100_000, "note.txt": b"Read me."})
    monkeypatch.setattr(archive, "_DISK_MARGIN", 1 << 62)

    def refuse_large(needed_mb: float, reading: str) -> None:
        if needed_mb > 0.1:
            raise SegmentBudgetExceeded(reading)

    owned = archive.owned_files(
        io.BytesIO(data), 0, len(data), OCR_OFF, "off", refuse_large, _no_check
    )
    texts = {file.path: file.pages[0].text for file in owned}
    # Then the two are named with why, and the note is read
    assert texts == {
        "big.pdf": "File: big.pdf, not read: SegmentBudgetExceeded",
        "big.txt": "File: big.txt, not read: SegmentBudgetExceeded",
        "note.txt": "File: note.txt\n\nRead me.",
    }


def test_a_segment_out_of_time_fails_not_the_file_it_was_reading():
    # Given an archive of a long PDF and a note, read by a segment whose time runs out on the
    # PDF's third page
    data = _zip({"long.pdf": pdf_of_lines([f"Page {n}." for n in range(1, 11)]), "n.txt": b"x"})
    checks: list[str] = []

    def out_of_time_at_the_third_page(stage: str) -> None:
        checks.append(stage)
        if len(checks) == 3:
            raise SegmentBudgetExceeded(f"out of time while {stage}")

    owned = archive.owned_files(
        io.BytesIO(data), 0, len(data), OCR_OFF, "off", _unlimited, out_of_time_at_the_third_page
    )
    # When it is read, Then the segment fails typed (red before: no check inside a file; a
    # check raising there named the file unread and went on, the segment "done")
    with pytest.raises(SegmentBudgetExceeded):
        list(owned)


def test_an_archive_bomb_is_refused_before_it_is_written(monkeypatch: pytest.MonkeyPatch):
    # Given a PDF followed by 5 MB of zeros and a text of 5 MB of one letter, each deflated to
    # a few KB, with the bomb floor at 1 MB (in production 64 MB: the same ratio, a
    # thousandfold)
    monkeypatch.setattr(archive, "_BOMB_FLOOR", 1 << 20)
    files = {
        "bomb.pdf": _PDF + bytes(5 << 20),
        "bomb.txt": b"x" * (5 << 20),
        "note.txt": b"Read me.",
    }
    data = _zip(files)
    # When it is read, Then both are named as invalid, the note read (red without the check:
    # the zeros were unpacked to disk and the PDF read; the text was held and read)
    texts = _texts(data)
    assert texts["bomb.pdf"] == "File: bomb.pdf, not read: InvalidDocument"
    assert texts["bomb.txt"] == "File: bomb.txt, not read: InvalidDocument"
    assert texts["note.txt"] == "File: note.txt\n\nRead me."


def test_files_that_share_their_bytes_are_an_archive_bomb():
    # Given an archive whose first file's directory entry says its data runs over the next
    # file's (how overlapping bombs unpack a few MB to terabytes)
    data = bytearray(_zip({"a.txt": b"first " * 100, "b.txt": b"second " * 100}))
    central = data.index(b"PK\x01\x02")
    data[central + 20 : central + 24] = struct.pack("<I", len(data))
    # When it is listed, Then it is refused whole (red before: each file read in turn)
    with pytest.raises(InvalidDocument):
        _members(bytes(data))


def test_a_file_of_any_name_is_read():
    # Given a PDF whose name ends in a 300-character "extension" (a temporary file named
    # after it could not be made)
    name = "exhibit." + "x" * 300
    texts = _texts(_zip({name: _PDF}))
    # When it is read, Then its pages are read under its name
    assert texts[name].startswith(f"File: {name}\n\nExhibit 12 says")


def test_each_file_is_read_once_by_the_range_its_header_lies_in():
    # Given an archive of 30 notes, cut into ranges of every size around its files' starts
    data = _zip({f"notes/{n:02d}.txt": f"Note {n}. ".encode() * 40 for n in range(30)})
    starts = [member.start for member in _members(data)]
    for shift in (-1, 0, 1):
        cuts = [0, *(start + shift for start in starts[1::7]), len(data)]
        # When each range's files are read
        read = [path for a, b in itertools.pairwise(cuts) for path, _, _ in _read(data, a, b)]
        # Then together they are every file, once, in order
        assert read == [f"notes/{n:02d}.txt" for n in range(30)]


@pytest.fixture
def ledger(tmp_path: Path) -> SQLiteLedger:
    return SQLiteLedger(tmp_path / "ledger.sqlite3")


def test_an_archive_is_planned_in_ranges_cut_between_its_files(ledger: SQLiteLedger):
    # Given an archive of 250 small notes and a 3 MB text that does not compress
    import random

    files = {f"n/{n:03d}.txt": f"Note {n}.".encode() for n in range(250)}
    files["big.txt"] = random.Random(3).randbytes(3 << 20).hex().encode()[: 3 << 20]
    data = _zip(files, zipfile.ZIP_STORED)
    store = InMemoryObjectStore({KEY: data})
    # When it is planned with 1 MiB segments
    plan = plan_document(KEY, "v1", store, ledger, PlanOptions(segment_bytes=1 << 20))
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]
    segments = [task.segment for task in tasks]
    # Then the ranges cover the archive, each begins at a file's header, none holds more
    # than ARCHIVE_FILES_PER_SEGMENT files, and the large text has one of its own
    assert plan.document.media_type == ZIP and all(isinstance(s, BytesSegment) for s in segments)
    spans = [(s.byte_start, s.byte_end) for s in segments]  # type: ignore[union-attr]
    assert spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    members = _members(data)
    starts = {member.start for member in members}
    assert all(start in starts for start, _ in spans[1:])
    per_segment = [sum(a <= m.start < b for m in members) for a, b in spans]
    assert max(per_segment) == ARCHIVE_FILES_PER_SEGMENT and sum(per_segment) == 251
    big = next(m for m in members if m.path == "big.txt")
    assert (big.start, len(data)) in spans


def test_a_large_pdf_in_an_archive_is_unpacked_and_planned_in_page_ranges(
    tmp_path: Path, ledger: SQLiteLedger
):
    # Given an archive of a note, a 12-page PDF larger than a segment's bytes, a "PDF" as large
    # that MuPDF cannot open, and a note
    import random

    pdf = text_pdf(tmp_path / "record.pdf", pages=12).read_bytes()
    broken = b"%PDF-1.7\n" + random.Random(5).randbytes(20_000)
    files = {
        "a.txt": b"Before.",
        "vol/record.pdf": pdf,
        "vol/broken.pdf": broken,
        "z.txt": b"After.",
    }
    data = _zip(files, zipfile.ZIP_STORED)
    store = InMemoryObjectStore({KEY: data})
    # When it is planned with segments of 8 KiB and 5 pages
    options = PlanOptions(segment_bytes=8192, segment_pages=5)
    plan = plan_document(KEY, "v1", store, ledger, options)
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]
    segments = [task.segment for task in tasks]
    # Then the notes are read from byte ranges that leave the PDF out, and the PDF, unpacked
    # into the work folder, from page ranges numbered after them, each carrying its path
    # (red before: one byte range read the whole PDF)
    assert [s.index for s in segments] == list(range(len(segments)))
    members = {m.path: m for m in _members(data)}
    spans = [(s.byte_start, s.byte_end) for s in segments if isinstance(s, BytesSegment)]
    record = members["vol/record.pdf"]
    assert all(not start <= record.start < end for start, end in spans)
    # (the broken one too: its range names it with why)
    owned = ("a.txt", "vol/broken.pdf", "z.txt")
    assert all(any(a <= members[n].start < b for a, b in spans) for n in owned)
    pages = [s for s in segments if isinstance(s, PagesSegment)]
    assert [(s.page_start, s.page_end, s.path) for s in pages] == [
        (1, 5, "vol/record.pdf"),
        (6, 10, "vol/record.pdf"),
        (11, 12, "vol/record.pdf"),
    ]
    assert all(s.input_key in store.objects for s in pages)
    assert plan.segments_total == len(spans) + 3


def test_an_empty_archive_has_nothing_to_read(ledger: SQLiteLedger):
    store = InMemoryObjectStore({KEY: _zip({"folder/": b""})})
    with pytest.raises(NoExtractableText):
        plan_document(KEY, "v1", store, ledger, PlanOptions())


def test_damaged_archives_give_text_or_a_typed_error():
    # Given archives of a PDF, a DOCX-like package and notes, damaged at random (cut too)
    originals = [
        _zip(
            {"a.pdf": _PDF, "b.txt": b"Note. " * 200, "c/d.eml": email_message("S", "B").as_bytes()}
        ),
        _zip({"n.txt": b"x" * 5000, "m.txt": b"y" * 5000}, zipfile.ZIP_STORED),
    ]
    copies = damaged_copies(originals, 400, seed=13, cut_share=0.1)
    # When each is read, Then each gave text or InvalidDocument (a file's own damage is named)
    counts = outcomes(_read, copies, (InvalidDocument,))
    assert all(counts.values()), counts
