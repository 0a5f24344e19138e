from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest

from benchmarks.generators import text_pdf
from docproc.errors import InvalidDocument, UnsupportedDocument
from docproc.extract.pages import PageRange, page_ranges
from docproc.extract.sniff import DOCX
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import PagesSegment, SegmentTask
from docproc.pipeline.plan import PlanOptions, plan_document
from tests.fakes import InMemoryObjectStore

KEY = "uploads/acme/case/doc/file.pdf"


def test_page_ranges_cover_every_page_once():
    assert page_ranges(300, 50) == [PageRange(s, s + 49) for s in range(1, 301, 50)]


def test_last_segment_is_short():
    ranges = page_ranges(301, 50)
    assert len(ranges) == 7 and ranges[-1] == PageRange(301, 301)


def test_one_page_file_is_one_segment():
    assert page_ranges(1, 50) == [PageRange(1, 1)]


@pytest.fixture
def ledger(tmp_path: Path) -> SQLiteLedger:
    return SQLiteLedger(tmp_path / "ledger.sqlite3")


def _store_with(tmp_path: Path, pages: int) -> InMemoryObjectStore:
    pdf = text_pdf(tmp_path / "in.pdf", pages=pages)
    return InMemoryObjectStore({KEY: pdf.read_bytes()})


def test_multi_segment_pdf_gets_sub_pdfs_and_a_manifest(tmp_path: Path, ledger: SQLiteLedger):
    # Given a 120-page PDF and 50 pages per segment
    store = _store_with(tmp_path, 120)
    # When it is planned
    plan = plan_document(KEY, "v1", store, ledger, PlanOptions(segment_pages=50))
    # Then three segments 1-50, 51-100, 101-120, each with its own sub-PDF
    assert plan.status == "planned" and plan.segments_total == 3 and plan.first_task is None
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]
    segments = [t.segment for t in tasks]
    assert all(isinstance(s, PagesSegment) for s in segments)
    assert [(s.page_start, s.page_end) for s in segments] == [(1, 50), (51, 100), (101, 120)]
    assert all(s.input_key in store.objects for s in segments)
    assert ledger.get_document("acme", "doc").segments_total == 3


def test_single_segment_pdf_is_read_in_place(tmp_path: Path, ledger: SQLiteLedger):
    store = _store_with(tmp_path, 3)
    plan = plan_document(KEY, "v1", store, ledger, PlanOptions(segment_pages=50))
    # The fast path: no sub-PDF, the worker reads the pinned upload itself.
    assert plan.segments_total == 1 and plan.first_task is not None
    assert plan.first_task.segment.input_key == KEY
    assert plan.first_task.segment.input_version_id == "v1"
    assert not [k for k in store.objects if k.endswith(".pdf") and k.startswith("work/")]


def test_replanning_reuses_the_manifest(tmp_path: Path, ledger: SQLiteLedger):
    store = _store_with(tmp_path, 120)
    first = plan_document(KEY, "v1", store, ledger, PlanOptions(segment_pages=50))
    store.objects[first.document.segment_input_key(0, "pdf")] = b"sentinel"
    again = plan_document(KEY, "v1", store, ledger, PlanOptions(segment_pages=50))
    assert again == first
    assert store.objects[first.document.segment_input_key(0, "pdf")] == b"sentinel"
    assert ledger.get_document("acme", "doc").attempts == 2


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", InvalidDocument),
        (b"PK\x03\x04rest-of-zip", InvalidDocument),
        (bytes(range(256)) * 4, UnsupportedDocument),
    ],
)
def test_unusable_content_is_rejected(content: bytes, error: type[Exception], ledger):
    store = InMemoryObjectStore({KEY: content})
    with pytest.raises(error):
        plan_document(KEY, "v1", store, ledger, PlanOptions())
    assert ledger.get_document("acme", "doc") is None


def test_a_zip_container_is_told_apart_by_its_directory_alone(tmp_path: Path, ledger):
    # Given a 4 MB DOCX (a picture that does not compress) behind ranged reads
    document = docx.Document()
    document.add_paragraph("Hello")
    document.save(tmp_path / "big.docx")
    with zipfile.ZipFile(tmp_path / "big.docx", "a") as archive:
        archive.writestr("word/media/image1.png", random.Random(7).randbytes(4_000_000))
    store = InMemoryObjectStore({KEY: (tmp_path / "big.docx").read_bytes()})
    # When it is planned
    plan = plan_document(KEY, "v1", store, ledger, PlanOptions())
    # Then it is a DOCX, found by reading its head and directory: not the picture
    assert plan.document.media_type == DOCX and plan.segments_total == 1
    assert store.bytes_read < 200_000, store.bytes_read


def test_text_is_cut_into_byte_ranges(ledger: SQLiteLedger):
    store = InMemoryObjectStore({KEY: b"line\n" * 3000})
    plan = plan_document(KEY, None, store, ledger, PlanOptions(segment_bytes=4096))
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]
    spans = [(t.segment.byte_start, t.segment.byte_end) for t in tasks]
    assert spans[0][0] == 0 and spans[-1][1] == 15000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


_PLAN_A_PDF = """
import json, sys, tempfile
from pathlib import Path
from benchmarks.generators import text_pdf
from docproc.ledger.sqlite import SQLiteLedger
from docproc.pipeline.plan import PlanOptions, plan_document
from tests.fakes import InMemoryObjectStore
folder = Path(tempfile.mkdtemp())
store = InMemoryObjectStore({sys.argv[1]: text_pdf(folder / "in.pdf", pages=3).read_bytes()})
plan_document(sys.argv[1], "v1", store, SQLiteLedger(folder / "l.sqlite3"), PlanOptions())
print(json.dumps(sorted(sys.modules)))
"""


def test_a_pdf_without_attached_files_is_planned_without_the_readers_of_other_kinds():
    # Given a PDF with no file attached, planned in a process of its own (a cold start)
    out = subprocess.run(
        [sys.executable, "-c", _PLAN_A_PDF, KEY], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    # Then Plan loaded no archive reader, and with it no e-mail reader nor lxml (red before:
    # all three, 15 ms of a PDF's cold start, for attached files it did not have)
    assert not loaded & {"docproc.extract.archive", "docproc.extract.mail", "lxml.etree"}
