"""Re-index: every completed document's chunk files embedded again, into another model's
collection. No extraction, no transcription, no new chunk files: only the embeddings change.

The collection in use is untouched: search moves to the new one when the configuration names
the new model. Resumable per segment: a segment's marker object
(``work/.../reindexed/{collection}/NNNNN.json``) is written after its points, so a re-run
skips it, and a segment cut short is redone whole (deterministic point ids overwrite).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from docproc.embedding.port import Embedder, SparseEncoder
from docproc.ledger.port import Ledger
from docproc.models import WORK_PREFIX, Chunk, DocumentRecord, SegmentRecord
from docproc.observability import logger
from docproc.pipeline.finalize import Pricing
from docproc.pipeline.process_segment import embedded_points
from docproc.storage.port import ObjectStore
from docproc.vectors.port import VectorStore


class ReindexReport(BaseModel):
    """What a re-index will do (``dry_run``) or did."""

    collection: str
    embedding_model: str
    dry_run: bool
    documents: int
    segments: int
    segments_skipped: int = 0
    chunks: int = 0
    # Tokens of the chunk files (counted with the tokenizer they were chunked with).
    tokens: int
    estimated_cost_usd: float


@dataclass(frozen=True)
class ReindexDeps:
    ledger: Ledger
    store: ObjectStore
    embedder: Embedder
    # The new model's collection.
    vectors: VectorStore
    pricing: Pricing
    sparse: SparseEncoder | None = None
    batch_size: int = 256


def reindex_marker_key(record: DocumentRecord, collection: str, segment: int) -> str:
    version = record.completed_version or record.version
    return (
        f"{WORK_PREFIX}{record.tenant_id}/{record.document_id}/{version}/reindexed/"
        f"{collection}/{segment:05d}.json"
    )


def _work(ledger: Ledger) -> Iterator[tuple[DocumentRecord, list[SegmentRecord]]]:
    """Every completed document (the ledger's status index, never a scan) and the done
    segments of its completed version."""
    for record in ledger.documents_by_status("complete"):
        version = record.completed_version or record.version
        segments = ledger.list_segments(record.tenant_id, record.document_id, version)
        yield record, [s for s in segments if s.status == "done" and s.output_key]


def reindex(deps: ReindexDeps, dry_run: bool = False) -> ReindexReport:
    work = list(_work(deps.ledger))
    tokens = sum(segment.tokens for _, segments in work for segment in segments)
    report = ReindexReport(
        collection=deps.vectors.collection,
        embedding_model=deps.pricing.embedding_model,
        dry_run=dry_run,
        documents=len(work),
        segments=sum(len(segments) for _, segments in work),
        tokens=tokens,
        estimated_cost_usd=round(tokens * deps.pricing.usd_per_million_tokens / 1e6, 6),
    )
    if dry_run:
        return report
    deps.vectors.ensure_collection()
    skipped = chunks = 0
    for record, segments in work:
        for segment in segments:
            marker = reindex_marker_key(record, deps.vectors.collection, segment.index)
            if deps.store.exists(marker):
                skipped += 1
                continue
            assert segment.output_key is not None
            chunks += _embed_segment(deps, segment.output_key)
            deps.store.put_bytes(
                marker,
                json.dumps({"chunks_key": segment.output_key}).encode(),
                "application/json",
            )
        logger.info("document re-indexed", extra={"document_id": record.document_id})
    return report.model_copy(update={"segments_skipped": skipped, "chunks": chunks})


def _embed_segment(deps: ReindexDeps, chunks_key: str) -> int:
    lines = deps.store.get_bytes(chunks_key).decode().splitlines()
    chunks = (Chunk.model_validate_json(line) for line in lines if line.strip())
    count = 0
    while batch := list(itertools.islice(chunks, deps.batch_size)):
        # The version is complete: its points are searchable at once.
        deps.vectors.upsert(embedded_points(batch, deps.embedder, deps.sparse, visible=True))
        count += len(batch)
    return count
