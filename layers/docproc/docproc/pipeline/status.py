"""Where documents are: one document's progress, and stats over the whole ledger."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from pydantic import BaseModel, ConfigDict

from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.models import DocumentRecord, DocumentStatus, SegmentRecord


class DocumentProgress(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    case_id: str
    document_id: str
    version: str
    status: DocumentStatus
    # processing -> finalizing -> complete (or failed)
    phase: str
    segments_total: int
    segments_done: int
    segments_failed: list[int]
    percent: float
    chunks_total: int
    attempts: int
    # Segments per minute since this version started, and the time left at that rate.
    rate_per_minute: float | None
    eta_seconds: float | None
    started_at: datetime
    updated_at: datetime
    completed_version: str | None
    last_error: str | None


def _phase(record: DocumentRecord, done: int) -> str:
    if record.status == "processing" and record.segments_total and done >= record.segments_total:
        return "finalizing"
    return record.status


def progress(
    record: DocumentRecord, segments: list[SegmentRecord], now: datetime
) -> DocumentProgress:
    done = [segment for segment in segments if segment.status == "done"]
    total = record.segments_total
    elapsed = (now - record.started_at).total_seconds()
    rate = len(done) / elapsed * 60 if record.status == "processing" and elapsed > 0 else None
    remaining = max(0, total - len(done))
    return DocumentProgress(
        tenant_id=record.tenant_id,
        case_id=record.case_id,
        document_id=record.document_id,
        version=record.version,
        status=record.status,
        phase=_phase(record, len(done)),
        segments_total=total,
        segments_done=len(done),
        segments_failed=[segment.index for segment in segments if segment.status == "failed"],
        percent=round(100 * len(done) / total, 1) if total else 0.0,
        chunks_total=record.chunks_total or sum(segment.chunks for segment in done),
        attempts=record.attempts,
        rate_per_minute=round(rate, 2) if rate else None,
        eta_seconds=round(remaining / rate * 60, 1) if rate and remaining else None,
        started_at=record.started_at,
        updated_at=record.updated_at,
        completed_version=record.completed_version,
        last_error=record.last_error,
    )


def document_progress(
    ledger: Ledger, tenant_id: str, document_id: str, now: datetime | None = None
) -> DocumentProgress | None:
    record = ledger.get_document(tenant_id, document_id)
    if record is None:
        return None
    segments = ledger.list_segments(tenant_id, document_id, record.version)
    return progress(record, segments, now or utc_now())


class LedgerStats(BaseModel):
    """The seed plan's /resume-stats, over the ledger."""

    model_config = ConfigDict(frozen=True)

    documents: int
    by_status: dict[str, int]
    by_phase: dict[str, int]
    # Not complete, with finished segments that a re-run or redrive will skip.
    resumable: int
    # Started more than once for the same version.
    resumed: int
    failed: int
    average_progress_percent: float
    segments_retried: int


def ledger_stats(ledger: Ledger, now: datetime | None = None) -> LedgerStats:
    moment = now or utc_now()
    by_status: dict[str, int] = {}
    by_phase: dict[str, int] = {}
    resumable = resumed = retried = 0
    percents: list[float] = []
    for status in get_args(DocumentStatus):
        for record in ledger.documents_by_status(status):
            by_status[status] = by_status.get(status, 0) + 1
            if record.attempts > 1:
                resumed += 1
            if status in ("processing", "failed"):
                # Only unfinished documents need their segments read (a query each).
                segments = ledger.list_segments(
                    record.tenant_id, record.document_id, record.version
                )
                report = progress(record, segments, moment)
                retried += sum(1 for segment in segments if segment.attempts > 1)
                resumable += 1 if report.segments_done else 0
                phase, percent = report.phase, report.percent
            else:
                phase, percent = status, 100.0 if status == "complete" else 0.0
            by_phase[phase] = by_phase.get(phase, 0) + 1
            percents.append(percent)
    return LedgerStats(
        documents=len(percents),
        by_status=by_status,
        by_phase=by_phase,
        resumable=resumable,
        resumed=resumed,
        failed=by_status.get("failed", 0),
        average_progress_percent=round(sum(percents) / len(percents), 1) if percents else 0.0,
        segments_retried=retried,
    )
