"""Broken and hostile input: every case ends in text or a typed error, with bounded time and
memory, and takes nothing else down."""

from __future__ import annotations

import dataclasses
import json
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from benchmarks.generators import image_pdf, page_marker, text_pdf
from docproc.config import LocalSettings
from docproc.errors import (
    DocprocError,
    EncryptedDocument,
    InvalidDocument,
    NoExtractableText,
    SegmentBudgetExceeded,
)
from docproc.extract.text import read_slice
from docproc.ledger.sqlite import SQLiteLedger
from docproc.local.runner import LocalEnvironment, SegmentFailures, ingest
from docproc.models import SegmentTask
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentBudget, process_segment
from tests.conftest import REPORT_TABLES
from tests.documents import (
    OutlookMessage,
    comic_book,
    docx_file,
    docx_of_xml_size,
    docx_with_photographs,
    email_message,
    many_empty_pages,
    outlook_message,
    presentation_with_photographs,
    tnef_stream,
)
from tests.fakes import InMemoryObjectStore, ReadsCounted

TYPED = (InvalidDocument,)


def _outcome(env: LocalEnvironment, path: Path, name: str) -> tuple[str, str]:
    """(what happened, its kind: "text" or the error class)."""
    try:
        report = ingest(env, path, document_id=name)
    except SegmentFailures as exc:
        (error,) = set(type(e) for e in exc.failures.values())
        assert issubclass(error, TYPED), f"{name}: untyped {error.__name__}"
        return f"rejected: {error.__name__} (in a segment)", error.__name__
    except DocprocError as exc:
        assert isinstance(exc, TYPED), f"{name}: {type(exc).__name__}"
        return f"rejected: {type(exc).__name__}", type(exc).__name__
    assert report.chunks_total > 0
    return f"text: {report.chunks_total} chunk(s), {report.pages} page(s)", "text"


# README's split of the malformed corpus (88 faults and the corpus's controls).
MALFORMED_SPLIT = {"text": 66, "NoExtractableText": 11, "InvalidDocument": 12}
# What one file may add to the process's peak (the process holds the test session).
FILE_MEMORY_BOUND_MB = 150


def test_every_malformed_corpus_file_yields_text_or_a_typed_error(env, corpus: Path):
    rows, kinds, last_text = [], Counter(), None
    for path in sorted((corpus / "malformed").glob("*.pdf")):
        name = path.stem[:100].replace("_", "-")
        reset_peak_rss()
        before = current_rss_mb()
        started = time.monotonic()
        outcome, kind = _outcome(env, path, name)
        grew = peak_rss_mb() - before
        assert time.monotonic() - started < 30, f"{path.name} took too long"
        assert grew < FILE_MEMORY_BOUND_MB, f"{path.name} took {grew:.0f} MB"
        rows.append((path.name, f"{outcome}; peak +{grew:.0f} MB"))
        kinds[kind] += 1
        if kind == "text":
            last_text = name
    REPORT_TABLES["malformed corpus: file -> outcome; peak memory over the process's"] = rows
    assert dict(kinds) == MALFORMED_SPLIT
    # The batch went on after each bad file: the last good one is searchable by its own text
    assert last_text is not None
    record = env.ledger.get_document("local", last_text)
    (segment,) = env.ledger.list_segments("local", last_text, record.version)
    text = json.loads(env.store.get_bytes(segment.output_key).decode().splitlines()[0])["text"]
    hits = env.vectors.search(env.embedder.embed([text])[0], "local", limit=100)
    # (many corpus files say the same "Hello World": the best score is shared)
    best = [hit.payload["document_id"] for hit in hits if hit.score >= hits[0].score - 1e-6]
    assert last_text in best


def test_encrypted_pdfs(env, tmp_path: Path):
    source = pymupdf.open(text_pdf(tmp_path / "plain.pdf", pages=2))
    locked, owner_only = tmp_path / "locked.pdf", tmp_path / "owner.pdf"
    source.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    source.save(
        owner_only,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        owner_pw="o",
        permissions=pymupdf.PDF_PERM_PRINT,
    )
    with pytest.raises(EncryptedDocument):
        ingest(env, locked, document_id="locked")
    # Only an owner password (print/copy limits): the text is readable and ingested
    assert ingest(env, owner_only, document_id="owner").chunks_total > 0


def test_empty_truncated_and_textless_files(env, tmp_path: Path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(InvalidDocument):
        ingest(env, empty, document_id="empty")
    whole = text_pdf(tmp_path / "whole.pdf", pages=20).read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(whole[: len(whole) // 2])
    # Half a file: MuPDF repairs what it can; the pages it recovers have their text
    outcome, kind = _outcome(env, truncated, "truncated")
    assert kind == "text", outcome
    blank = tmp_path / "blank.pdf"
    document = pymupdf.open()
    for _ in range(3):
        document.new_page()
    document.save(blank)
    with pytest.raises(NoExtractableText):
        ingest(env, blank, document_id="blank")
    # An MP4 signature on garbage: routed as a recording, rejected when ffmpeg cannot read it
    media = tmp_path / "talk.pdf"
    media.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(InvalidDocument):
        ingest(env, media, document_id="media")


def test_decompression_bomb_is_bounded(env, tmp_path: Path):
    # A 1 MB PDF whose page content inflates to 1 GiB
    bomb = tmp_path / "bomb.pdf"
    document = pymupdf.open()
    page = document.new_page()
    stream = document.get_new_xref()
    packed = zlib.compressobj(9)
    data = b"".join(packed.compress(b" " * 2**24) for _ in range(64)) + packed.flush()
    document.update_object(stream, "<< /Filter /FlateDecode >>")
    document.update_stream(stream, data, compress=False)
    document.xref_set_key(stream, "Filter", "/FlateDecode")
    document.xref_set_key(page.xref, "Contents", f"{stream} 0 R")
    document.save(bomb)
    assert bomb.stat().st_size < 5 * 2**20
    started = time.monotonic()
    with pytest.raises(NoExtractableText):
        ingest(env, bomb, document_id="bomb")
    assert time.monotonic() - started < 60


# Office packages python-docx and python-pptx read: (suffix, a builder of one whose size is
# its photographs).
_PACKAGES_OF_PHOTOGRAPHS = [
    ("docx", docx_with_photographs),
    ("pptx", presentation_with_photographs),
]


@pytest.mark.parametrize(("suffix", "build"), _PACKAGES_OF_PHOTOGRAPHS)
def test_an_office_package_s_photographs_are_not_read_into_memory(
    env, tmp_path: Path, suffix: str, build
):
    # Given a 200 MB DOCX or PPTX, nearly all of it photographs (they hold no text)
    path = build(tmp_path / f"exhibits.{suffix}", 25, 8 * 2**20)
    assert path.stat().st_size > 200 * 10**6
    # When it is ingested
    reset_peak_rss()
    before = current_rss_mb()
    report = ingest(env, path, document_id="exhibits")
    # Then its captions are found, and the process grew by less than a file may add (before:
    # by the photographs' size, which python-docx read into memory on opening the package;
    # python-pptx does the same)
    assert report.status == "complete" and report.chunks_total > 0
    assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
    hits = env.vectors.search(env.embedder.embed(["north wall day 24"])[0], "local", limit=1)
    assert "Photograph 24:" in hits[0].payload["text"]


@pytest.mark.parametrize(
    "segment_bytes",
    [8 << 20, 1 << 30],
    ids=["planned-in-page-ranges", "read-by-its-byte-range"],
)
def test_a_pdf_of_photographs_in_a_zip_is_read_from_disk_a_page_at_a_time(
    tmp_path: Path, segment_bytes: int
):
    # Given a ZIP holding a 200 MB PDF of photographs (JPEGs: stored as they are); larger
    # than a segment's bytes (Plan unpacks it and cuts it into page ranges), or not (the byte
    # range that holds it reads it)
    scans = image_pdf(tmp_path / "scans.pdf", 200 * 10**6, jpeg=True)
    path = tmp_path / "production.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.write(scans, "vol-1/scans.pdf")
    scans.unlink()
    settings = LocalSettings(
        DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, SEGMENT_BYTES=segment_bytes
    )
    env = LocalEnvironment(settings)
    try:
        # When it is ingested
        reset_peak_rss()
        before = current_rss_mb()
        report = ingest(env, path, document_id="production")
        # Then every page's line is read, and the process grew by less than a file may add
        # (the PDF is unpacked to disk and read from there, not held: held, +420 MB)
        assert report.status == "complete" and report.chunks_total > 0
        assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
        query = env.sparse.encode_query(page_marker(400))
        hits = env.vectors.search(None, "local", sparse=query)
        assert hits[0].payload["path"] == "vol-1/scans.pdf"
        assert hits[0].payload["page_start"] <= 400 <= hits[0].payload["page_end"]
        # (in page ranges: many segments; in its byte range: the one)
        assert (report.segments_total > 1) == (segment_bytes == 8 << 20)
    finally:
        env.close()


def test_a_comic_book_is_converted_to_pdf_a_segment_at_a_time(env, tmp_path: Path):
    # Given a 200 MB comic book (CBZ) of 250 scanned pages
    path = comic_book(tmp_path / "exhibits.cbz", 250)
    assert path.stat().st_size > 190 * 10**6
    key = "uploads/local/default/exhibits/exhibits.cbz"
    upload = env.store.put_upload(key, path)
    # When it is planned into sub-PDFs (of OCR_SEGMENT_PAGES: its pages are pictures)
    reset_peak_rss()
    before = current_rss_mb()
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    # Then Plan grew by less than a file may add (before: ~3x the book, 627 MB, as the whole
    # book was converted to one PDF in memory, then copied out as bytes), and the sub-PDFs
    # hold every page, their pictures copied as they were
    assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
    manifest = json.loads(env.store.get_bytes(plan.document.manifest_key))
    keys = [SegmentTask.model_validate(item).segment.input_key for item in manifest]
    pages, size = 0, 0
    for key in keys:
        with env.store.local_copy(key) as part, pymupdf.open(part) as sub_pdf:
            pages += sub_pdf.page_count
            size += part.stat().st_size
    assert len(keys) == 25 and pages == 250
    assert size < path.stat().st_size * 1.01


@pytest.mark.parametrize(("suffix", "build"), _PACKAGES_OF_PHOTOGRAPHS)
def test_an_office_package_is_read_in_place_its_xml_only(env, tmp_path: Path, suffix: str, build):
    # Given a 40 MB DOCX or PPTX of photographs, planned
    path = build(tmp_path / f"exhibits.{suffix}", 5, 8 * 2**20)
    key = f"uploads/local/default/exhibits/exhibits.{suffix}"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    reads = ReadsCounted(env.store)
    # When its segment runs
    deps = dataclasses.replace(env.segment_deps(env.vectors), store=reads)
    result = process_segment(plan.first_task, deps)
    # Then it read the package's directory and its XML by range, not the photographs (each
    # XML part with the MiB read ahead after it: python-pptx writes a slide's XML between
    # photographs, so ~1 MiB a slide here, though under one photograph in all), and no copy
    # of the whole (a 1 GB DOCX would not fit ProcessSegment's /tmp beside anything)
    assert result.chunks > 0
    assert reads.copies == [] and reads.bytes_read < 8 * 2**20


def test_a_docx_whose_xml_would_not_fit_the_segment_s_memory_is_refused_unread(env, tmp_path: Path):
    # Given a 1 MB DOCX whose document.xml inflates to 512 MB, read as a segment with 1 GB
    path = docx_of_xml_size(tmp_path / "bomb.docx", 512 * 2**20)
    assert path.stat().st_size < 2 * 2**20
    key = "uploads/local/default/bomb/bomb.docx"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    deps = dataclasses.replace(
        env.segment_deps(env.vectors), budget=SegmentBudget(max_rss_mb=current_rss_mb() + 1024)
    )
    # When the segment runs, then it fails typed, recorded, before the XML is read (about
    # 5 GB of memory)
    reset_peak_rss()
    before = current_rss_mb()
    with pytest.raises(SegmentBudgetExceeded, match="512 MB of XML"):
        process_segment(plan.first_task, deps)
    assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
    record = env.ledger.get_segment("local", "bomb", plan.document.version, 0)
    assert record.status == "failed" and "SegmentBudgetExceeded" in record.error


@pytest.mark.parametrize(
    ("name", "content", "reading"),
    [
        (
            "scans.eml",
            lambda: email_message(
                "Scans", "Attached.", attachments=[("a.bin", "application/pdf", bytes(6 << 20))]
            ).as_bytes(),
            "an e-mail of 8 MB",
        ),
        ("scans.rtf", lambda: b"{\\rtf1 " + b"0" * (8 << 20) + b"}", "an RTF of 8 MB"),
        (
            "scans.msg",
            lambda: outlook_message(
                OutlookMessage("Scans", attachments=[("a.pdf", "application/pdf", bytes(8 << 20))])
            ),
            "an Outlook message of 8 MB",
        ),
        (
            "winmail.dat",
            lambda: tnef_stream(
                OutlookMessage("Scans", attachments=[("a.pdf", "application/pdf", bytes(8 << 20))])
            ),
            "a TNEF stream of 8 MB",
        ),
    ],
    ids=["e-mail", "rtf", "outlook", "tnef"],
)
def test_a_document_read_whole_that_would_not_fit_its_segment_is_refused_unread(
    env, tmp_path: Path, name: str, content: Callable[[], bytes], reading: str
):
    # Given an 8 MB e-mail, RTF, Outlook message or winmail.dat (read whole: held in memory
    # several times over), read as a segment with 20 MB left
    path = tmp_path / name
    path.write_bytes(content())
    key = f"uploads/local/default/scans/{name}"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    reads = ReadsCounted(env.store)
    deps = dataclasses.replace(
        env.segment_deps(env.vectors),
        store=reads,
        budget=SegmentBudget(max_rss_mb=current_rss_mb() + 20),
    )
    # When the segment runs, then it fails typed and recorded, having read none of it
    with pytest.raises(SegmentBudgetExceeded, match=reading):
        process_segment(plan.first_task, deps)
    assert reads.bytes_read == 0 and reads.copies == []
    record = env.ledger.get_segment("local", "scans", plan.document.version, 0)
    assert record.status == "failed" and "SegmentBudgetExceeded" in record.error


def test_a_docx_that_is_not_well_formed_xml_is_a_typed_error(env, tmp_path: Path):
    # Given a DOCX whose document.xml was cut in half
    whole = docx_file(tmp_path / "whole.docx", ["A memo of two sentences. It ends here."])
    cut = tmp_path / "cut.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info, data[: len(data) // 2] if "document.xml" in info.filename else data
            )
    # When it is ingested, then it is refused as an invalid document (before: lxml's
    # XMLSyntaxError, which no Catch names)
    with pytest.raises(SegmentFailures) as failed:
        ingest(env, cut, document_id="cut")
    (error,) = failed.value.failures.values()
    assert type(error) is InvalidDocument


def test_a_page_with_a_million_text_objects(env, tmp_path: Path):
    path = tmp_path / "dense.pdf"
    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((10, 10), "x")  # a font resource for the operators below
    operators = b"".join(
        b"BT /helv 1 Tf %d %d Td (a) Tj ET\n" % (i % 500, i // 500 % 800) for i in range(10**6)
    )
    document.update_stream(page.get_contents()[-1], operators)
    document.save(path, deflate=True)
    started = time.monotonic()
    report = ingest(env, path, document_id="dense")
    assert report.chunks_total > 0 and time.monotonic() - started < 120


def test_a_hundred_thousand_empty_pages(tmp_path: Path):
    env = LocalEnvironment(
        LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, SEGMENT_PAGES=10_000)
    )
    path = many_empty_pages(tmp_path / "empty.pdf", 100_000)
    started = time.monotonic()
    with pytest.raises(NoExtractableText):
        ingest(env, path, document_id="hollow")
    assert time.monotonic() - started < 120
    progress = env.ledger.get_document("local", "hollow")
    assert progress.segments_total == 10 and progress.status == "failed"
    env.close()


def test_one_giant_line_is_cut_at_character_boundaries(tmp_path: Path):
    key = "uploads/acme/case/line/one-line.txt"
    line = ("lorem ipsum dolor sit amet € " * 7_000_000).encode()  # ~200 MB, no newline
    store = InMemoryObjectStore({key: line})
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    plan = plan_document(key, None, store, ledger, PlanOptions(segment_bytes=8 * 2**20))
    assert plan.segments_total >= 25
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]
    pieces = [
        read_slice(store, key, None, t.segment.byte_start, t.segment.byte_end, len(line))
        for t in tasks
    ]
    assert "".join(piece.text for piece in pieces).encode() == line
    assert all(piece.text for piece in pieces)  # every segment got its share


def test_a_segment_over_its_budget_fails_typed_and_recorded(env, tmp_path: Path):
    pdf = text_pdf(tmp_path / "a.pdf", pages=3)
    key = "uploads/local/default/budget/a.pdf"
    upload = env.store.put_upload(key, pdf)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    for budget in (SegmentBudget(deadline=time.monotonic() - 1), SegmentBudget(max_rss_mb=1)):
        deps = env.segment_deps(env.vectors)
        with pytest.raises(SegmentBudgetExceeded):
            process_segment(plan.first_task, dataclasses.replace(deps, budget=budget))
        record = env.ledger.get_segment("local", "budget", plan.document.version, 0)
        assert record.status == "failed" and "SegmentBudgetExceeded" in record.error
