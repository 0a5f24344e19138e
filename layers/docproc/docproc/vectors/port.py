"""The vector store port. Every read and delete is scoped to one tenant."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# What a collection prefix (QDRANT_COLLECTION_PREFIX, a re-index's target) may be.
COLLECTION_PREFIX_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


def collection_name(prefix: str, model_name: str, dimensions: int) -> str:
    """One collection per embedding model and size: vectors of different spaces never mix."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_name.lower()).strip("-")
    return f"{prefix}_{slug}_{dimensions}"


# The name of the sparse (BM25) vector beside each point's dense one: keyword search.
SPARSE_VECTOR = "bm25"
# The payload flag of a point: false while its version is staged (being ingested), true once
# Finalize publishes it. Each store keeps that contract its own way.
VISIBLE = "visible"
# Payload fields the filters use, indexed as keywords by every store, beside ``tenant_id``
# (the partition key: Qdrant's is_tenant).
KEYWORD_INDEXES = ("case_id", "document_id", "version")
# Each side of a hybrid query fetches this many candidates per hit asked for; weighted
# reciprocal rank fusion merges them (HybridFusion). Of the fusions Qdrant offers it ranked best
# on the evaluation set (BENCHMARKS.md, Retrieval): score fusion (DBSF) lets a weak BM25 list,
# one passage sharing one common word with the query, count as much as a confident one.
PREFETCH_FACTOR = 5


@dataclass(frozen=True)
class HybridFusion:
    """How a hybrid query merges its dense and BM25 candidates: Qdrant's reciprocal rank fusion,
    weighted. A candidate scores ``1 / (rank / weight + k - 1)`` on each side that found it
    (rank from 1), so a heavier side's candidates score more, and nearly alike down its first
    few ranks. The weights suit one embedder: its dense side against BM25
    (EmbeddingModelSettings.hybrid_fusion)."""

    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Qdrant's default: weighted 1, a side's first rank scores 1/2, its second 1/3, its third 1/4.
    k: int = 2

    @property
    def weights(self) -> list[float]:
        """In the order of the query's prefetches: dense, then BM25."""
        return [self.dense_weight, self.bm25_weight]


@dataclass(frozen=True)
class SparseVector:
    """Token ids and weights (BM25: term frequency part; the store applies IDF)."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class VectorPoint:
    id: str
    vector: Sequence[float]
    payload: dict[str, Any]
    # Absent for a collection made before hybrid search (it holds dense vectors only).
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorSink(Protocol):
    """The write side, all a segment worker needs. A segment with batches in flight (an
    embeddings API's) calls ``upsert`` and ``existing`` from several threads at once."""

    def ensure_collection(self) -> None:
        """Create the collection and its payload indexes on first use; EmbeddingDimensionMismatch
        if it exists with another vector size."""
        ...

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Write points (same id overwrites), acknowledged before returning."""
        ...

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        """For the given point ids that are stored: id -> their ``chunk_hash``. A retried
        segment embeds only what is not already there."""
        ...


class VectorSearcher(Protocol):
    """The read side, all a search needs."""

    def search(
        self,
        vector: Sequence[float] | None,
        tenant_id: str,
        *,
        sparse: SparseVector | None = None,
        case_id: str | None = None,
        document_id: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """The tenant's visible points nearest the query: dense (``vector``), keyword
        (``sparse``, BM25) or both, their scores fused (hybrid). A collection without
        sparse vectors answers a hybrid query with its dense half.

        BM25's inverse document frequencies are counted over the tenant's own points (Qdrant's
        IDF corpus), not the whole collection's: a word another tenant's documents repeat
        stays as telling in this tenant's search as its own documents make it, and no score
        depends on, or tells of, what another tenant stored."""
        ...


class VectorDeleter(Protocol):
    """What deleting a document needs."""

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        """Delete the document's points, except those of ``keep_version`` when given."""
        ...


# A collection's deleter by its name, for the collections a re-index wrote a document into;
# None for the collection in use (deleted from already).
CollectionDeleters = Callable[[str], VectorDeleter | None]


class VectorStore(VectorSink, VectorSearcher, VectorDeleter, Protocol):
    @property
    def collection(self) -> str: ...

    def exists(self) -> bool:
        """Whether the collection exists now: asked of the store, never remembered (a
        collection dropped since ``ensure_collection`` is created again by the next one)."""
        ...

    def close(self) -> None: ...

    def count(self, tenant_id: str, document_id: str, version: str | None = None) -> int: ...

    def delete_version(self, tenant_id: str, document_id: str, version: str) -> None:
        """Delete one version's points."""
        ...

    def publish_version(
        self, tenant_id: str, document_id: str, version: str, retire_others: bool
    ) -> None:
        """Make ``version``'s staged points searchable and, when ``retire_others``, remove
        every other version's points in the same request."""
        ...

    def add_keyword_vector(self) -> bool:
        """Give an existing collection made before hybrid search its sparse (BM25) vector, in
        place; True if it had none. Its points get theirs from ``set_keyword_vectors``."""
        ...

    def set_keyword_vectors(self, vectors: Sequence[tuple[str, SparseVector]]) -> None:
        """Set stored points' BM25 vectors (point id, weights), their other vectors and
        payload untouched."""
        ...

    def texts(
        self, tenant_id: str, document_id: str, version: str, batch: int
    ) -> Iterator[list[tuple[str, str]]]:
        """A version's stored points as (point id, chunk text), ``batch`` at a time, visible
        or staged: what their BM25 vectors are made from."""
        ...

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """For the given point ids that are stored: id -> their payload as upserted but for
        ``VISIBLE``, which each store keeps its own way (the chunk a re-index embeds again)."""
        ...
