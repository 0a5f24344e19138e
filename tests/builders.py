"""Ledger-shaped values for tests, built in one place."""

from __future__ import annotations

from docproc.ledger.records import utc_now
from docproc.models import DocumentRef, DocumentSummary, SegmentRecord


def document_ref(document: str = "d1", version: str = "v1") -> DocumentRef:
    return DocumentRef(
        tenant_id="acme",
        case_id="c1",
        document_id=document,
        version=version,
        filename="f.pdf",
        bucket="b",
        source_key=f"uploads/acme/c1/{document}/f.pdf",
        source_version_id=version,
        etag="e",
        fingerprint=f"etag:{document}",
        size=10,
        media_type="application/pdf",
    )


def segment_record(
    index: int, status: str = "done", chunks: int = 2, attempts: int = 1
) -> SegmentRecord:
    return SegmentRecord(
        index=index,
        status=status,  # type: ignore[arg-type]
        output_key=f"k{index}",
        chunks=chunks,
        tokens=10 * chunks,
        pages=50,
        attempts=attempts,
        updated_at=utc_now(),
    )


def document_summary(ref: DocumentRef, segments_total: int, chunks_total: int) -> DocumentSummary:
    return DocumentSummary(
        tenant_id=ref.tenant_id,
        case_id=ref.case_id,
        document_id=ref.document_id,
        version=ref.version,
        filename=ref.filename,
        media_type=ref.media_type,
        source_key=ref.source_key,
        size=ref.size,
        segments_total=segments_total,
        chunks_total=chunks_total,
        tokens_total=10 * chunks_total,
        pages=50 * segments_total,
        bytes=0,
        collection="c",
        embedding_model="hashing-v2",
        estimated_cost_usd=0.0,
        summary_key="s",
        duration_ms=5,
        completed_at=utc_now(),
    )
