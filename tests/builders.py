"""Values for tests (ledger records, a document planned), built in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from docproc.ledger.records import utc_now
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import (
    DocumentRef,
    DocumentSummary,
    PlanResult,
    Segment,
    SegmentRecord,
    SegmentTask,
)
from docproc.pipeline.plan import PlanOptions, plan_document
from tests.fakes import InMemoryObjectStore


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


class Planned(NamedTuple):
    """A document planned in memory: what Plan returned, the store it wrote to, and the
    segments of its manifest."""

    plan: PlanResult
    store: InMemoryObjectStore
    segments: list[Segment]


def planned(
    key: str, data: bytes, ledger_path: Path, options: PlanOptions | None = None
) -> Planned:
    """Plan ``data`` uploaded as ``key`` (version v1) into an in-memory store."""
    store = InMemoryObjectStore({key: data})
    plan = plan_document(key, "v1", store, SQLiteLedger(ledger_path), options or PlanOptions())
    assert plan.manifest is not None
    manifest = json.loads(store.objects[plan.manifest.key])
    return Planned(plan, store, [SegmentTask.model_validate(task).segment for task in manifest])
