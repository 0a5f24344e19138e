"""Status, stats, progress events, metrics and clean-up: what operators read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generators import page_marker, text_pdf
from docproc.config import LocalSettings
from docproc.errors import SegmentBudgetExceeded
from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.ledger.sqlite import SQLiteLedger
from docproc.local import runner as runner_module
from docproc.local.runner import LocalEnvironment, ingest
from docproc.models import DocumentRef, DocumentSummary, SegmentRecord
from docproc.observability import peak_rss_mb
from docproc.pipeline.cleanup import cleanup, parse_age
from docproc.pipeline.status import document_progress, ledger_stats
from docproc.storage.local import LocalObjectStore
from tests.builders import document_ref, document_summary, segment_record
from tests.e2e.runtimes import FakeContext, load_handler_module
from tests.fakes import InMemoryObjectStore
from tests.integration.conftest import BUCKET, Aws


def _ref(document: str) -> DocumentRef:
    return document_ref(document)


def _segment(index: int, status: str = "done", attempts: int = 1) -> SegmentRecord:
    return segment_record(index, status, chunks=3, attempts=attempts)


def _summary(ref: DocumentRef, segments: int) -> DocumentSummary:
    return document_summary(ref, segments_total=segments, chunks_total=9)


def _seed(ledger: Ledger) -> None:
    # complete: 3 of 3
    done = _ref("done")
    ledger.start_document(done, 3)
    for index in range(3):
        ledger.mark_segment_done("acme", "done", "v1", _segment(index))
    ledger.complete_document(done, _summary(done, 3))
    # processing, resumed: 2 of 4 done, one of them after a retry, one failed once
    busy = _ref("busy")
    ledger.start_document(busy, 4)
    ledger.start_document(busy, 4)
    ledger.mark_segment_done("acme", "busy", "v1", _segment(0))
    ledger.mark_segment_done("acme", "busy", "v1", _segment(1, attempts=2))
    ledger.mark_segment_failed("acme", "busy", "v1", 2, "TransientError: throttled")
    # failed before any segment finished
    broken = _ref("broken")
    ledger.start_document(broken, 2)
    ledger.fail_document("acme", "broken", "v1", "InvalidDocument")


def test_stats_over_a_seeded_ledger(ledger: Ledger):
    _seed(ledger)
    stats = ledger_stats(ledger)
    assert stats.documents == 3
    assert stats.by_status == {"processing": 1, "complete": 1, "failed": 1}
    assert stats.by_phase == {"processing": 1, "complete": 1, "failed": 1}
    assert stats.resumable == 1  # busy: 2 segments will be skipped
    assert stats.resumed == 1  # busy was started twice
    assert stats.failed == 1
    assert stats.average_progress_percent == 50.0  # (100 + 50 + 0) / 3
    assert stats.segments_retried == 1  # busy's segment 1, done on its second attempt


def test_status_of_a_document_in_progress(ledger: Ledger):
    _seed(ledger)
    later = utc_now() + timedelta(minutes=2)
    report = document_progress(ledger, "acme", "busy", now=later)
    assert (report.phase, report.segments_done, report.segments_total) == ("processing", 2, 4)
    assert report.percent == 50.0 and report.segments_failed == [2] and report.attempts == 2
    assert report.rate_per_minute == pytest.approx(1.0, rel=0.05)  # 2 segments in ~2 minutes
    assert report.eta_seconds == pytest.approx(120, rel=0.05)
    assert document_progress(ledger, "acme", "missing") is None


def test_progress_slots_are_throttled(ledger: Ledger):
    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    claims = [
        ledger.claim_progress_slot("acme", "d", start + timedelta(seconds=s), 10)
        for s in (0, 1, 9, 10, 11, 25)
    ]
    assert claims == [True, False, False, True, False, True]


def test_progress_events_during_a_run_are_throttled(tmp_path: Path):
    # Given a 6-segment document and one progress event per hour at most
    env = LocalEnvironment(
        LocalSettings(
            DOCPROC_HOME=tmp_path / "home",
            DOCPROC_WORKERS=1,
            SEGMENT_PAGES=10,
            PROGRESS_EVENT_SECONDS=3600,
        )
    )
    ingest(env, text_pdf(tmp_path / "a.pdf", pages=60), document_id="a")
    events = [e for e in env.events.read() if e["detail-type"] == "Document Ingestion Progress"]
    assert len(events) == 1 and events[0]["detail"]["segments_total"] == 6
    # And with a tiny interval every segment reports, the last at 100%
    env2 = LocalEnvironment(
        LocalSettings(
            DOCPROC_HOME=tmp_path / "home2",
            DOCPROC_WORKERS=1,
            SEGMENT_PAGES=10,
            PROGRESS_EVENT_SECONDS=0.000001,
        )
    )
    ingest(env2, text_pdf(tmp_path / "b.pdf", pages=60), document_id="b")
    percents = [
        e["detail"]["percent"]
        for e in env2.events.read()
        if e["detail-type"] == "Document Ingestion Progress"
    ]
    assert len(percents) == 6 and percents[-1] == 100.0
    env.close()
    env2.close()


class _CopyingFolderStore(LocalObjectStore):
    """The laptop's store, planned as S3 is: a sub-PDF per segment."""

    reads_in_place = False


def _three_segment_env(home: Path, store_class: type[LocalObjectStore]) -> LocalEnvironment:
    env = LocalEnvironment(
        LocalSettings(
            DOCPROC_HOME=home, DOCPROC_WORKERS=1, SEGMENT_PAGES=10, KEEP_SEGMENT_FILES=False
        )
    )
    env.store = store_class(home / "objects")  # type: ignore[misc]
    return env


def _work_files(env: LocalEnvironment, version: str) -> list[str]:
    return [key.rsplit("/", 1)[-1] for key in env.store.list_keys(f"work/local/a/{version}/")]


def test_sub_pdfs_are_dropped_at_finalize_when_not_kept(tmp_path: Path):
    # Given a 3-segment PDF, a store that makes sub-PDFs, and KEEP_SEGMENT_FILES=false
    env = _three_segment_env(tmp_path / "home", _CopyingFolderStore)
    pdf = text_pdf(tmp_path / "a.pdf", pages=30)
    # When it is ingested, stopped before Finalize
    plan = runner_module.plan_upload(env, pdf, document_id="a")
    assert isinstance(plan, runner_module.PlannedDocument)
    made = sorted(_work_files(env, plan.plan.document.version))
    report = runner_module.finish_document(env, plan, runner_module.run_segments(env, plan.tasks))
    # Then it had a sub-PDF per segment; they are gone, and its chunk files and summary stay
    assert [n for n in made if n.endswith(".pdf")] == ["00000.pdf", "00001.pdf", "00002.pdf"]
    names = _work_files(env, report.version)
    assert [n for n in names if n.endswith(".pdf")] == []
    assert sum(n.endswith(".chunks.jsonl") for n in names) == 3
    assert "document.json" in names and report.segments_total == 3
    env.close()


def test_the_laptop_reads_each_segments_pages_from_the_upload(tmp_path: Path):
    # Given a 3-segment PDF on the laptop's store (a folder)
    env = _three_segment_env(tmp_path / "home", LocalObjectStore)
    pdf = text_pdf(tmp_path / "a.pdf", pages=30)
    # When it is planned
    plan = runner_module.plan_upload(env, pdf, document_id="a")
    assert isinstance(plan, runner_module.PlannedDocument)
    # Then no sub-PDF is written: every segment reads its pages of the pinned upload
    assert [n for n in _work_files(env, plan.plan.document.version) if n.endswith(".pdf")] == []
    segments = [task.segment for task in plan.tasks]
    assert [(s.page_start, s.page_end) for s in segments] == [(1, 10), (11, 20), (21, 30)]  # type: ignore[union-attr]
    assert {(s.input_key, s.input_version_id) for s in segments} == {
        (plan.key, plan.plan.document.source_version_id)
    }
    # And each page's marker is in a chunk of that page, as with sub-PDFs
    report = runner_module.finish_document(env, plan, runner_module.run_segments(env, plan.tasks))
    chunks = [
        json.loads(line)
        for key in env.store.list_keys(f"work/local/a/{report.version}/segments/")
        if key.endswith(".chunks.jsonl")
        for line in env.store.get_bytes(key).splitlines()
    ]
    for number in range(1, 31):
        assert [
            c for c in chunks if page_marker(number) in c["text"] and c["page_start"] <= number
        ], number
    assert report.status == "complete"
    env.close()


def test_cleanup_removes_exactly_what_is_expired(tmp_path: Path):
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    store = InMemoryObjectStore()
    _seed(ledger)
    for document in ("done", "busy", "broken"):
        store.put_bytes(f"work/acme/{document}/v1/manifest.json", b"[]", "application/json")
    # Eight days on: segment rows (7-day TTL) expired; finished documents' outputs are old
    report = cleanup(ledger, store, parse_age("7d"), utc_now() + timedelta(days=8))
    assert report.expired_segment_rows == 6  # done's 3 rows and busy's 3
    assert sorted(report.documents_cleaned) == ["acme/broken", "acme/done"]
    assert list(store.objects) == ["work/acme/busy/v1/manifest.json"]  # in progress: kept
    assert ledger.get_document("acme", "done").status == "complete"  # document rows stay
    # One day on, nothing is expired
    ledger2 = SQLiteLedger(tmp_path / "ledger2.sqlite3")
    _seed(ledger2)
    fresh = cleanup(ledger2, InMemoryObjectStore(), parse_age("7d"), utc_now() + timedelta(days=1))
    assert fresh.expired_segment_rows == 0 and fresh.documents_cleaned == []


def _process_segment_event(aws: Aws) -> dict[str, Any]:
    """events/process_segment.json, with the PDF it names put in S3."""
    root = Path(__file__).resolve().parents[2]
    event: dict[str, Any] = json.loads((root / "events" / "process_segment.json").read_text())
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=event["segment"]["input_key"],
        Body=(root / "samples" / "lease-agreement.pdf").read_bytes(),
    )
    return event


def test_the_functions_memory_size_bounds_a_segment(moto_aws: Aws):
    # Given the process_segment event's PDF in S3
    event = _process_segment_event(moto_aws)
    module = load_handler_module("process_segment")
    # When the function's memory size is below what this process already holds
    with pytest.raises(SegmentBudgetExceeded):
        module.handler(event, FakeContext("process_segment", memory_limit_in_mb=1))
    # Then the segment stopped with the typed error and the ledger says so
    ref = event["document"]
    record = module.dependencies().ledger.get_segment(
        ref["tenant_id"], ref["document_id"], ref["version"], 0
    )
    assert record is not None
    assert record.status == "failed" and "SegmentBudgetExceeded" in record.error


def test_segment_metrics_are_emitted_as_emf(moto_aws: Aws, capsys: pytest.CaptureFixture[str]):
    event = _process_segment_event(moto_aws)
    capsys.readouterr()
    load_handler_module("process_segment").handler(event, FakeContext("process_segment"))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (emf,) = blobs
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "docproc"
    assert ["service"] in directive["Dimensions"]
    names = {metric["Name"] for metric in directive["Metrics"]}
    assert {
        "SegmentsProcessed",
        "Chunks",
        "EmbeddingTokens",
        "SegmentDuration",
        "PeakRss",
        "Pages",
        "Bytes",
    } <= names
    assert emf["Pages"] in (3, [3.0]) and emf["SegmentsProcessed"] in (1, [1.0])


def test_peak_rss_is_the_invocations_not_the_containers(moto_aws: Aws):
    # Given a warm container that once held 400 MB more than it does now (a large segment)
    event = _process_segment_event(moto_aws)
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: resident, not reserved
    del ballast
    container_peak = peak_rss_mb()
    # When it processes a 3-page segment
    result = load_handler_module("process_segment").handler(event, FakeContext("process_segment"))
    # Then the segment's PeakRss is this invocation's, far below the container's old peak
    assert result["peak_rss_mb"] < container_peak - 300


def test_an_ingest_that_a_newer_upload_overtook_says_superseded(tmp_path: Path, monkeypatch):
    # Given a document ingested from a newer upload
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    newer = text_pdf(tmp_path / "newer.pdf", pages=2, seed=1)
    assert ingest(env, newer, document_id="doc").status == "complete"
    # When an upload made before it (an older sequence) is ingested after it
    older = text_pdf(tmp_path / "older.pdf", pages=3, seed=2)
    monkeypatch.setattr(runner_module.time, "time_ns", lambda: 1)
    report = ingest(env, older, document_id="doc")
    env.close()
    # Then the report says it was not ingested, with none of the newer version's totals
    assert (report.status, report.chunks_total, report.pages) == ("superseded", 0, 0)
