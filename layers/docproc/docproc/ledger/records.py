"""Helpers shared by the ledger adapters: timestamps, TTLs, record construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docproc.models import DocumentRecord, DocumentRef, DocumentSummary, SegmentRecord


def utc_now() -> datetime:
    return datetime.now(UTC)


def failable(row: DocumentRecord, version: str | None) -> bool:
    """May a failure of ``version`` (None: whichever is current) mark this row failed? Not a
    newer version's row, and never a version that completed."""
    if version is not None and row.version != version:
        return False
    return row.status != "complete"


def expires_at(ttl_days: int, now: datetime | None = None) -> int:
    """Epoch seconds after which the row may be removed (DynamoDB TTL semantics)."""
    return int(((now or utc_now()) + timedelta(days=ttl_days)).timestamp())


def started_record(
    existing: DocumentRecord | None,
    ref: DocumentRef,
    segments_total: int,
    execution_arn: str | None,
    now: datetime,
) -> DocumentRecord:
    """The document row after a (re)start of ``ref``: attempts count up for the same version,
    the last completed version stays searchable until the new one completes, and every
    other version seen is remembered until Finalize removes its points."""
    same_version = existing is not None and existing.version == ref.version
    superseded = list(existing.superseded_versions) if existing else []
    if (
        existing is not None
        and not same_version
        and existing.sequence
        and ref.sequence
        and existing.sequence > ref.sequence
    ):
        # An older upload planned after a newer one: the newer keeps the document, and this
        # version is only recorded as one to remove.
        if ref.version not in superseded:
            superseded.append(ref.version)
        return existing.model_copy(update={"superseded_versions": superseded, "updated_at": now})
    if existing is not None and not same_version and existing.version not in superseded:
        superseded.append(existing.version)
    completed_segments, completed_tokens = (existing and existing.completed_totals) or (None, None)
    return DocumentRecord(
        tenant_id=ref.tenant_id,
        case_id=ref.case_id,
        document_id=ref.document_id,
        version=ref.version,
        status="processing",
        segments_total=segments_total,
        completed_version=existing.completed_version if existing else None,
        completed_fingerprint=existing.completed_fingerprint if existing else None,
        completed_by=existing.completed_by if existing else None,
        completed_segments_total=completed_segments,
        completed_tokens_total=completed_tokens,
        superseded_versions=superseded,
        sequence=ref.sequence,
        attempts=(existing.attempts + 1) if existing and same_version else 1,
        started_at=existing.started_at if existing and same_version else now,
        updated_at=now,
        execution_arn=execution_arn,
    )


def completed_record(
    existing: DocumentRecord | None,
    ref: DocumentRef,
    summary: DocumentSummary,
    now: datetime,
    execution_arn: str | None = None,
) -> DocumentRecord | None:
    """The document row once ``ref`` is complete (by ``execution_arn``'s Finalize); None if
    it already is (a concurrent execution of the same version got there first)."""
    if existing is not None and existing.completed_version == ref.version:
        return None
    base = existing or started_record(None, ref, summary.segments_total, None, now)
    return base.model_copy(
        update={
            "version": ref.version,
            "status": "complete",
            "completed_version": ref.version,
            "completed_fingerprint": ref.fingerprint,
            "completed_by": execution_arn,
            "segments_total": summary.segments_total,
            "chunks_total": summary.chunks_total,
            "tokens_total": summary.tokens_total,
            "completed_segments_total": summary.segments_total,
            "completed_tokens_total": summary.tokens_total,
            "pages": summary.pages,
            "pages_ocr": summary.pages_ocr,
            "bytes": summary.bytes,
            "seconds": summary.seconds,
            "completed_at": summary.completed_at,
            "updated_at": now,
            "last_error": None,
            "superseded_versions": [],
        }
    )


def failed_segment(previous: SegmentRecord | None, index: int, error: str) -> SegmentRecord:
    """A failed attempt at segment ``index``, counting the attempts before it."""
    return SegmentRecord(
        index=index,
        status="failed",
        attempts=(previous.attempts + 1) if previous else 1,
        error=error[:1000],
        updated_at=utc_now(),
    )
