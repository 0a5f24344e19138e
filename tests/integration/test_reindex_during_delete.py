"""A document deleted while a re-index runs, on the laptop's adapters in one process: the
re-index segment and Delete interleaved at the points where they can meet."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from docproc.config import LocalSettings
from docproc.embedding.port import Embedder
from docproc.local.runner import LocalEnvironment, delete_local_document, ingest
from docproc.models import ReindexSegment
from docproc.pipeline.delete import delete_document
from docproc.pipeline.reindex import ReindexDeps, ReindexSegmentResult, reindex_segment
from docproc.storage.local import LocalObjectStore
from docproc.wiring import collection_of


class _DeletingFirst:
    """The target's embedder, which deletes the document before its first batch is embedded:
    a deletion that lands while the segment is being re-indexed."""

    def __init__(self, embedder: Embedder, delete: Callable[[], object]) -> None:
        self._embedder = embedder
        self._delete: Callable[[], object] | None = delete

    @property
    def model_name(self) -> str:
        return self._embedder.model_name

    @property
    def dimensions(self) -> int:
        return self._embedder.dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._delete is not None:
            self._delete()
            self._delete = None
        return self._embedder.embed(texts)


def ingested_for_reindex(
    tmp_path: Path,
) -> tuple[LocalEnvironment, LocalEnvironment, ReindexSegment]:
    """A document ingested on the default model, the environment of a 256-dimension target,
    and the document's one segment as a re-index plan lists it."""
    settings = LocalSettings(DOCPROC_HOME=tmp_path / "home")
    env = LocalEnvironment(settings)
    notes = tmp_path / "notes.txt"
    notes.write_text("The arbitration clause names Geneva as the seat.\n" * 30)
    report = ingest(env, notes, document_id="notes")
    assert report.segments_total == 1
    item = ReindexSegment(tenant_id="local", document_id="notes", version=report.version, segment=0)
    return env, LocalEnvironment(settings.model_copy(update={"embedding_dimensions": 256})), item


def reindex_deps(
    env: LocalEnvironment, target: LocalEnvironment, embedder: Embedder
) -> ReindexDeps:
    """A re-index from ``env``'s collection into ``target``'s, embedding with ``embedder``."""
    return ReindexDeps(
        ledger=target.ledger,
        store=target.store,
        embedder=embedder,
        vectors=target.vectors,
        pricing=target.pricing,
        collection_in_use=collection_of(env.settings, env.settings),
        source=env.vectors,
        sparse=target.sparse,
    )


def reindex_into(
    env: LocalEnvironment, target: LocalEnvironment, item: ReindexSegment, embedder: Embedder
) -> ReindexSegmentResult:
    return reindex_segment(reindex_deps(env, target, embedder), item)


def test_a_segment_whose_document_was_deleted_after_the_plan_is_skipped(tmp_path: Path):
    # Given a document's segment in a re-index plan, and the document deleted since
    env, target, item = ingested_for_reindex(tmp_path)
    delete_local_document(env, "local", "notes")
    # When the segment is re-indexed
    result = reindex_into(env, target, item, target.embedder)
    # Then it is skipped as gone (its points went with the document), nothing written
    assert result.skipped and result.gone and result.chunks == 0
    assert target.vectors.count("local", "notes") == 0
    assert not target.store.exists(item.marker_key(target.vectors.collection))
    env.close()
    target.close()


def test_a_document_deleted_while_its_segment_is_reindexed_leaves_no_point_there(
    tmp_path: Path,
):
    # Given a document's segment being re-indexed
    env, target, item = ingested_for_reindex(tmp_path)
    deleting = _DeletingFirst(target.embedder, lambda: delete_local_document(env, "local", "notes"))
    # When the document is deleted after its chunks were read, before its points and
    # marker are written (Delete finds no marker of the new collection yet)
    result = reindex_into(env, target, item, deleting)
    # Then the segment removes what it wrote: no point, no marker
    assert result.gone and result.chunks == 0
    assert target.vectors.count("local", "notes") == 0
    assert not target.store.exists(item.marker_key(target.vectors.collection))
    assert env.ledger.get_document("local", "notes") is None
    env.close()
    target.close()


class _ReindexingAfterListing:
    """Delete's object store, which runs a re-index segment as soon as Delete has listed the
    document's re-index markers (and found none of the new collection's)."""

    def __init__(self, store: LocalObjectStore, then: Callable[[], object]) -> None:
        self._store = store
        self._then: Callable[[], object] | None = then

    def list_keys(self, prefix: str) -> Iterator[str]:
        yield from self._store.list_keys(prefix)
        if self._then is not None:
            self._then()
            self._then = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_segment_reindexed_after_delete_read_the_markers_leaves_no_point_there(
    tmp_path: Path,
):
    # Given a document's segment in a re-index plan
    env, target, item = ingested_for_reindex(tmp_path)
    results: list[ReindexSegmentResult] = []
    store = _ReindexingAfterListing(
        env.store, lambda: results.append(reindex_into(env, target, item, target.embedder))
    )
    # When the document is deleted, and the segment is re-indexed just after Delete read the
    # markers (too late for Delete to see its marker)
    delete_document(
        "local",
        "notes",
        store,  # type: ignore[arg-type]
        env.ledger,
        env.vectors,
        env.notifier,
        env.reindexed_deleters(),
    )
    # Then the segment found its document gone, and the new collection holds nothing of it
    assert [result.gone for result in results] == [True]
    assert target.vectors.count("local", "notes") == 0
    env.close()
    target.close()
