"""Finalize: check every segment is done, write document.json, retire older versions."""

from __future__ import annotations

from dataclasses import dataclass

from docproc.config import EmbeddingModelSettings
from docproc.errors import NoExtractableText, ObjectNotFound, SegmentsIncomplete
from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.models import (
    CHUNKS_SUFFIX,
    DocumentRef,
    DocumentSummary,
    FinalizeResult,
    PlanResult,
)
from docproc.observability import logger, metrics
from docproc.storage.port import ObjectStore
from docproc.vectors.port import VectorStore


@dataclass(frozen=True)
class Pricing:
    """What embedding a token costs, for the cost estimate in document.json and the event."""

    embedding_model: str
    usd_per_million_tokens: float

    @classmethod
    def from_settings(cls, settings: EmbeddingModelSettings) -> Pricing:
        return cls(settings.model_name, settings.price_per_million_tokens)


def finalize_document(
    plan: PlanResult,
    store: ObjectStore,
    ledger: Ledger,
    vectors: VectorStore,
    pricing: Pricing,
    keep_segment_files: bool = True,
) -> FinalizeResult:
    ref = plan.document
    document = ledger.get_document(ref.tenant_id, ref.document_id)
    segments = ledger.list_segments(ref.tenant_id, ref.document_id, ref.version)
    done = {record.index: record for record in segments if record.status == "done"}
    tokens_total = sum(record.tokens for record in done.values())
    now = utc_now()
    started = document.started_at if document and document.version == ref.version else now
    summary = DocumentSummary(
        tenant_id=ref.tenant_id,
        case_id=ref.case_id,
        document_id=ref.document_id,
        version=ref.version,
        filename=ref.filename,
        media_type=ref.media_type,
        source_key=ref.source_key,
        size=ref.size,
        segments_total=plan.segments_total,
        chunks_total=sum(record.chunks for record in done.values()),
        tokens_total=tokens_total,
        pages=sum(record.pages for record in done.values()),
        pages_ocr=sum(record.pages_ocr for record in done.values()),
        bytes=sum(record.bytes for record in done.values()),
        seconds=round(sum(record.seconds for record in done.values()), 3),
        collection=vectors.collection,
        embedding_model=pricing.embedding_model,
        estimated_cost_usd=round(tokens_total * pricing.usd_per_million_tokens / 1e6, 6),
        summary_key=ref.summary_key,
        duration_ms=int((now - started).total_seconds() * 1000),
        completed_at=now,
    )
    if document is None:
        return _retire_deleted(ref, store, ledger, vectors, summary)
    missing = [index for index in range(plan.segments_total) if index not in done]
    if missing:
        shown = ", ".join(str(index) for index in missing[:20])
        raise SegmentsIncomplete(f"{len(missing)} segment(s) not done: {shown}")

    if not any(record.chunks for record in done.values()):
        # A silent gap otherwise: "ingested" with nothing searchable.
        scanned = sum(record.pages_ocr for record in done.values())
        raise NoExtractableText(
            f"no text in {plan.segments_total} segment(s): OCR found no text on its "
            f"{scanned} scanned page(s)"
            if scanned
            else f"no text in {plan.segments_total} segment(s): blank pages, or scans with OCR=off"
        )
    # Checked before a newer upload's takeover: a completed version stays searchable until
    # the newer one completes, whoever runs Finalize again.
    if document.completed_version == ref.version:
        if plan.execution_arn is None or document.completed_by != plan.execution_arn:
            logger.info("this version was completed by a concurrent execution")
            return FinalizeResult(summary=summary, outcome="already_completed", publish=False)
        # This execution completed it, and runs Finalize again: its answer was lost after the
        # ledger write (a redrive of the failed execution, or a retry), so the state machine
        # may never have announced it. Announce it (at least once), as first written.
        logger.info("this execution completed this version before; announcing it again")
        return FinalizeResult(summary=_written_summary(store, ref, summary))
    if document.version != ref.version:
        # A newer upload started while this version ran: it owns the document now. This
        # version's staged points were never visible; remove them, announce nothing.
        vectors.delete_version(ref.tenant_id, ref.document_id, ref.version)
        logger.info("a newer version took over; this one is retired unpublished")
        return FinalizeResult(summary=summary, outcome="retired", publish=False)
    store.put_bytes(ref.summary_key, summary.model_dump_json(indent=2).encode(), "application/json")
    # The new version's points were staged (hidden); they become searchable now, then the
    # older versions' are removed, in one request: no search sees neither (during the request
    # one may see both: Qdrant applies a batch in order, not as a transaction). The ledger
    # knows whether older versions exist (a delete by filter scans embedded Qdrant).
    removed = [v for v in document.superseded_versions if v != ref.version]
    vectors.publish_version(
        ref.tenant_id, ref.document_id, ref.version, retire_others=bool(removed)
    )
    if not keep_segment_files:
        # Segments' inputs (sub-PDFs, a picture's TIFFs, files unpacked from an archive, a 7z
        # repacked) can be remade from the upload; the chunk files and document.json stay.
        prefix = f"{ref.work_prefix}segments/"
        store.delete_keys(
            [key for key in store.list_keys(prefix) if not key.endswith(CHUNKS_SUFFIX)]
        )
    # Last: once the ledger says complete (and by which execution), another execution's
    # Finalize announces nothing: of two concurrent executions of this version only the one
    # that completes it announces.
    if not ledger.complete_document(ref, summary, plan.execution_arn):
        return FinalizeResult(summary=summary, outcome="already_completed", publish=False)
    metrics.add_metric(name="DocumentsIngested", unit="Count", value=1)
    logger.info(
        "document complete",
        extra={"segments_total": summary.segments_total, "chunks_total": summary.chunks_total},
    )
    return FinalizeResult(summary=summary, superseded_versions_removed=removed)


def _retire_deleted(
    ref: DocumentRef,
    store: ObjectStore,
    ledger: Ledger,
    vectors: VectorStore,
    summary: DocumentSummary,
) -> FinalizeResult:
    """Plan writes the document row before any segment runs, and Delete removes every row:
    no row now means the document was deleted while this version ran. What its segments
    wrote after Delete had run (staged points, chunk files, segment rows) goes too, the rows
    last (a retry finds them); nothing is published or announced."""
    vectors.delete_version(ref.tenant_id, ref.document_id, ref.version)
    store.delete_prefix(ref.work_prefix)
    ledger.delete_segments(ref.tenant_id, ref.document_id, ref.version)
    logger.info("the document was deleted while this version ran; nothing is published")
    return FinalizeResult(summary=summary, outcome="deleted", publish=False)


def _written_summary(
    store: ObjectStore, ref: DocumentRef, recomputed: DocumentSummary
) -> DocumentSummary:
    """The summary Finalize wrote when it completed ``ref`` (document.json), which the first
    announcement carried; ``recomputed`` if it is gone."""
    try:
        return DocumentSummary.model_validate_json(store.get_bytes(ref.summary_key))
    except ObjectNotFound:
        return recomputed
