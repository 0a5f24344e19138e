"""Re-index: the chunks of every document's searchable version (its last completed one)
embedded again, into another model's collection. No extraction, no transcription, no new
chunk files: only the embeddings change. The chunks are read from the collection in use, where
each point's payload is its chunk: the ledger's segment rows and the chunk files under
``work/`` expire, the points do not.

The collection in use is untouched: search moves to the new one when the configuration names
the new model (or the new collection prefix). Resumable per segment: a segment's marker object
(``work/.../reindexed/{collection}/NNNNN.json``) is written after its points, so a re-run
skips it, and a segment cut short is redone whole (deterministic point ids overwrite).

BM25 only (``ReindexTarget.bm25_only``): an existing collection, the one in use included, gets
its sparse vector and each document's searchable version's points their BM25 weights, made
from their own payload text, one item a document (marker
``.../reindexed/{collection}/document.json``); dense vectors stay.

The laptop runs ``reindex`` in one process; the cloud's Reindex state machine runs
``plan_reindex`` once and ``reindex_segment`` for each item of the manifest it writes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from docproc.embedding.port import Embedder, SparseEncoder
from docproc.errors import (
    InvalidEvent,
    ReindexSourceMissing,
    ReindexTargetInUse,
    ReindexTargetMissing,
    StoredChunkInvalid,
)
from docproc.ledger.port import Ledger
from docproc.models import (
    Chunk,
    DocumentRecord,
    ReindexDocument,
    ReindexSegment,
    S3Location,
    point_id,
    reindex_manifest_key,
)
from docproc.observability import logger
from docproc.pipeline.finalize import Pricing
from docproc.pipeline.in_flight import BatchesInFlight
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
    # Documents whose searchable version's number of segments the ledger does not know: rows
    # written before it kept them, with a newer upload started since. Not re-indexed (they
    # are once an upload of them completes).
    documents_without_totals: int = 0
    # Segments (BM25 only: documents) an earlier run had done.
    segments_skipped: int = 0
    # Segments (BM25 only: documents) deleted, or replaced by a new version, since the plan.
    segments_gone: int = 0
    chunks: int = 0
    # Tokens of the documents' chunks (counted with the tokenizer they were chunked with).
    tokens: int
    estimated_cost_usd: float


class ReindexPlan(BaseModel):
    """The cloud's plan: the report, and the manifest of items (segments; BM25 only,
    documents) its Map reads (none when there is nothing to do or on a dry run)."""

    report: ReindexReport
    manifest: S3Location | None = None
    # The collection was made by this plan: markers of an earlier one (dropped since) do not
    # count, every segment is embedded.
    fresh_collection: bool = False


class ReindexSegmentResult(BaseModel):
    chunks: int
    # Its marker was there (done by an earlier run), or its version is gone.
    skipped: bool
    # Its document was deleted, or a new version completed, since Plan: nothing of it stays in
    # the new collection (a run again embeds the new version).
    gone: bool = False


@dataclass(frozen=True)
class ReindexDeps:
    ledger: Ledger
    store: ObjectStore
    embedder: Embedder
    # The new model's collection.
    vectors: VectorStore
    pricing: Pricing
    # The collection search uses now (the configured model's): never the target.
    collection_in_use: str
    # That collection's store, where the chunks are read from; None for a BM25-only re-index
    # (its points are the target's own).
    source: VectorStore | None = None
    sparse: SparseEncoder | None = None
    batch_size: int = 256
    # Batches embedded and stored at once (see pipeline.in_flight).
    batches_in_flight: int = 1
    # ReindexTarget.bm25_only: BM25 vectors into the existing collection (it may be the one
    # in use), nothing else.
    bm25_only: bool = False


@dataclass
class _Tally:
    documents: int = 0
    segments: int = 0
    documents_without_totals: int = 0
    tokens: int = 0

    def report(self, deps: ReindexDeps, dry_run: bool) -> ReindexReport:
        return ReindexReport(
            collection=deps.vectors.collection,
            embedding_model=deps.pricing.embedding_model,
            dry_run=dry_run,
            documents=self.documents,
            segments=self.segments,
            documents_without_totals=self.documents_without_totals,
            tokens=self.tokens,
            # BM25 only: no embedding call
            estimated_cost_usd=0.0
            if deps.bm25_only
            else round(self.tokens * deps.pricing.usd_per_million_tokens / 1e6, 6),
        )


def _refuse_target(deps: ReindexDeps) -> None:
    if deps.bm25_only:
        if not deps.vectors.exists():
            raise ReindexTargetMissing(
                f"{deps.vectors.collection} does not exist: BM25 vectors go into a collection's "
                "stored points"
            )
        return
    if deps.vectors.collection == deps.collection_in_use:
        raise ReindexTargetInUse(
            f"{deps.vectors.collection} is the collection in use: nothing to re-index (name "
            "another model, size or collection prefix)"
        )
    assert deps.source is not None
    if not deps.source.exists():
        raise ReindexSourceMissing(
            f"{deps.collection_in_use}, the collection in use, does not exist: the chunks are "
            "read from it (configure the model the documents were ingested with)"
        )


def _items(deps: ReindexDeps, tally: _Tally) -> Iterator[ReindexSegment | ReindexDocument]:
    """What a re-index does, an item at a time, from the ledger's status index (never a scan),
    counted into ``tally`` as they go: nothing is held, whatever the number of documents.
    Every segment of the version searches see of every document that has one, whatever its
    status (a newer upload may be under way, or have failed); BM25 only, every such version.
    Only document rows are read: they do not expire, segment rows do."""
    for record in _searchable(deps.ledger):
        totals = record.completed_totals
        if totals is None:
            tally.documents_without_totals += 1
            continue
        segments, tokens = totals
        tally.documents += 1
        tally.tokens += tokens
        version = record.completed_version
        assert version is not None
        if deps.bm25_only:
            yield ReindexDocument(
                tenant_id=record.tenant_id, document_id=record.document_id, version=version
            )
            continue
        for index in range(segments):
            tally.segments += 1
            yield ReindexSegment(
                tenant_id=record.tenant_id,
                document_id=record.document_id,
                version=version,
                segment=index,
            )


def _searchable(ledger: Ledger) -> Iterator[DocumentRecord]:
    """Every document row with a completed version: complete, or with a newer upload under
    way or failed (search still sees the completed one)."""
    yield from ledger.documents_by_status("complete")
    for status in ("processing", "failed"):
        for record in ledger.documents_by_status(status):
            if record.completed_version is not None:
                yield record


def _ensure_collection(deps: ReindexDeps) -> bool:
    """Create the new collection if it does not exist (or, BM25 only, its sparse vector);
    True if it did not: every segment is to be done, whatever markers say.

    Both collections are recorded in the ledger first, for good: a deletion then reaches the
    new one before any point is in it, and, once search is switched over, the one in use now
    (see pipeline.delete)."""
    deps.ledger.record_collection(deps.vectors.collection)
    deps.ledger.record_collection(deps.collection_in_use)
    if deps.bm25_only:
        return deps.vectors.add_keyword_vector()
    fresh = not deps.vectors.exists()
    deps.vectors.ensure_collection()
    return fresh


def _dry_run(deps: ReindexDeps) -> ReindexReport:
    """What a re-index would embed and cost: the ledger read, nothing written."""
    tally = _Tally()
    for _ in _items(deps, tally):
        pass
    return tally.report(deps, dry_run=True)


def reindex(
    deps: ReindexDeps,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ReindexReport:
    """The laptop: every segment, one after the other, in this process; ``progress`` is told
    (items done, items) after each (the ledger is read once more first, to count them)."""
    _refuse_target(deps)
    if dry_run:
        return _dry_run(deps)
    total = 0
    if progress:
        planned = _dry_run(deps)
        total = planned.documents if deps.bm25_only else planned.segments
    tally = _Tally()
    fresh = _ensure_collection(deps)
    skipped = gone = chunks = 0
    for done, item in enumerate(_items(deps, tally), start=1):
        result = reindex_segment(deps, item, redo=fresh)
        gone += result.gone
        skipped += result.skipped and not result.gone
        chunks += result.chunks
        if progress:
            progress(done, max(total, done))
    return tally.report(deps, dry_run=False).model_copy(
        update={"segments_skipped": skipped, "segments_gone": gone, "chunks": chunks}
    )


def plan_reindex(deps: ReindexDeps, execution_name: str, dry_run: bool = False) -> ReindexPlan:
    """The cloud: create the new collection and write the manifest of segments to embed (one
    Map item each; the same name for a redriven execution). The manifest is written to a file
    as the ledger is read, then uploaded: ~220 bytes of /tmp a segment, not memory."""
    _refuse_target(deps)
    if dry_run:
        return ReindexPlan(report=_dry_run(deps))
    tally = _Tally()
    fresh = _ensure_collection(deps)
    key = reindex_manifest_key(deps.vectors.collection, execution_name)
    with tempfile.TemporaryDirectory(prefix="docproc-reindex-") as folder:
        path = Path(folder) / "segments.json"
        items = 0
        with path.open("w") as manifest:
            manifest.write("[")
            for item in _items(deps, tally):
                manifest.write(("," if items else "") + item.model_dump_json())
                items += 1
            manifest.write("]")
        report = tally.report(deps, dry_run=False)
        if not items:
            return ReindexPlan(report=report, fresh_collection=fresh)
        deps.store.put_file(key, path, "application/json")
    logger.info("re-index planned", extra={"items": items, "documents": tally.documents})
    return ReindexPlan(
        report=report,
        manifest=S3Location(bucket=deps.store.bucket, key=key),
        fresh_collection=fresh,
    )


def reindex_segment(
    deps: ReindexDeps, item: ReindexSegment | ReindexDocument, redo: bool = False
) -> ReindexSegmentResult:
    """Embed one segment's chunks into the new collection (BM25 only: set one document's
    BM25 vectors from its points' text), then write its marker. A marker means done, unless
    ``redo``: the collection (or its sparse vector) is new, the marker is an older one's."""
    if isinstance(item, ReindexDocument) != deps.bm25_only:
        raise InvalidEvent("a BM25-only re-index takes documents, any other segments")
    marker = item.marker_key(deps.vectors.collection)
    if not redo and deps.store.exists(marker):
        return ReindexSegmentResult(chunks=0, skipped=True)
    if not _still_completed(deps, item):
        # Deleted (its points gone with it) or replaced since Plan: nothing to embed.
        return ReindexSegmentResult(chunks=0, skipped=True, gone=True)
    if isinstance(item, ReindexDocument):
        chunks = _set_keywords(deps, item)
    else:
        chunks = _embed_segment(deps, item)
    if isinstance(item, ReindexSegment) and item.segment == 0:
        # The version a re-run finds completed may have replaced one an earlier run embedded:
        # the new collection keeps one version of a document, as the one in use does. (Its
        # first segment is embedded once per version, whatever the number of segments.)
        deps.vectors.delete_document(item.tenant_id, item.document_id, keep_version=item.version)
    deps.store.put_bytes(marker, item.model_dump_json().encode(), "application/json")
    if not _still_completed(deps, item):
        # Deleted or replaced while it was embedded. Delete reads the collections to delete
        # from after it removes the ledger rows: if the version was still there just now, it
        # has yet to, and removes these points; otherwise they are this segment's to remove.
        # (BM25 only: they were Delete's or Finalize's, in the collection they remove them
        # from.)
        if not deps.bm25_only:
            deps.vectors.delete_version(item.tenant_id, item.document_id, item.version)
        deps.store.delete_keys([marker])
        return ReindexSegmentResult(chunks=0, skipped=True, gone=True)
    return ReindexSegmentResult(chunks=chunks, skipped=False)


def _still_completed(deps: ReindexDeps, item: ReindexSegment | ReindexDocument) -> bool:
    """The item's version is still its document's completed one in the ledger."""
    record = deps.ledger.get_document(item.tenant_id, item.document_id)
    return record is not None and record.completed_version == item.version


def _set_keywords(deps: ReindexDeps, item: ReindexDocument) -> int:
    """BM25 weights onto a document version's stored points, from their own text."""
    assert deps.sparse is not None
    count = 0
    for batch in deps.vectors.texts(
        item.tenant_id, item.document_id, item.version, deps.batch_size
    ):
        weights = deps.sparse.encode_documents([text for _, text in batch])
        deps.vectors.set_keyword_vectors(
            [(point_id, vector) for (point_id, _), vector in zip(batch, weights, strict=True)]
        )
        count += len(batch)
    return count


def _embed_segment(deps: ReindexDeps, item: ReindexSegment) -> int:
    count = 0
    # The version is complete: its points are searchable at once.
    points = partial(embedded_points, embedder=deps.embedder, sparse=deps.sparse, visible=True)
    with BatchesInFlight(deps.batches_in_flight, points, deps.vectors.upsert) as storing:
        for batch in _stored_chunks(deps, item):
            storing.submit(batch)
            count += len(batch)
    return count


def _stored_chunks(deps: ReindexDeps, item: ReindexSegment) -> Iterator[list[Chunk]]:
    """A segment's chunks as the collection in use holds them, ``batch_size`` at a time: each
    point's payload is its chunk, and its id is made from the segment and the chunk's ordinal
    (counted from 0), so they are looked up by id, ordinal after ordinal, until a lookup comes
    back short. (No filter, hence no payload index on the segment number.)"""
    source = deps.source
    assert source is not None
    start = 0
    while True:
        ids = [
            point_id(item.tenant_id, item.document_id, item.version, item.segment, ordinal)
            for ordinal in range(start, start + deps.batch_size)
        ]
        stored = source.payloads(ids)
        chunks = [_chunk(id_, stored[id_], source.collection) for id_ in ids if id_ in stored]
        if chunks:
            yield chunks
        if len(stored) < len(ids):
            return
        start += deps.batch_size


def _chunk(id_: str, payload: dict[str, Any], collection: str) -> Chunk:
    try:
        return Chunk.model_validate({**payload, "point_id": id_})
    except ValidationError as exc:
        # Its fields' names only: a payload holds the document's text.
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise StoredChunkInvalid(
            f"point {id_} of {collection}: its payload is not a chunk ({', '.join(fields)})"
        ) from None
