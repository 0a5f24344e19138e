"""VectorStore on Qdrant: a server (QDRANT_URL) or qdrant-client's embedded local mode."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from docproc.errors import EmbeddingDimensionMismatch, TransientError
from docproc.observability import logger
from docproc.vectors.port import (
    KEYWORD_INDEXES,
    PREFETCH_FACTOR,
    SPARSE_VECTOR,
    VISIBLE,
    HybridFusion,
    SearchHit,
    SparseVector,
    VectorPoint,
)

# An upsert request's dense vectors are Python floats, then the client's pydantic models and
# JSON text, all at once while it is sent (~90 bytes a float): 256 points of 1536 dims (the
# default model's size) held ~35 MB of a segment worker's peak. A request holds at most this
# many floats (64 points of 1536 dims, qdrant-client's own upload batch); vectors of 384
# dims or fewer go QDRANT_UPSERT_BATCH points at a time.
DENSE_FLOATS_PER_UPSERT = 64 * 1536


class _LetGoOnClose(httpx.SyncByteStream):
    """A response's body stream that lets go of httpx's own once it is closed: httpx 0.28.1
    binds that stream to the response (to time it), a reference cycle, so every response and
    its request (an upsert's whole JSON body, ~3 MB at 1536 dims) outlived the call until the
    cyclic collector next ran: 12 MB of a segment worker's peak held four finished upserts."""

    def __init__(self, stream: httpx.SyncByteStream) -> None:
        self._stream: httpx.SyncByteStream | None = stream

    def __iter__(self) -> Iterator[bytes]:
        if self._stream is None:
            raise httpx.StreamClosed()
        yield from self._stream

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()


def let_go_on_close(response: httpx.Response) -> None:
    """An httpx response hook (qdrant-client's REST client takes httpx.Client's arguments):
    the response and its request are freed once nothing refers to them, not at the next
    garbage collection."""
    if isinstance(response.stream, httpx.SyncByteStream):
        response.stream = _LetGoOnClose(response.stream)


@dataclass(frozen=True)
class CollectionOptions:
    """Passed through from configuration when a collection is created."""

    on_disk: bool = False
    quantization: Literal["none", "int8"] = "none"


def _must(**conditions: str | None) -> list[models.Condition]:
    return [
        models.FieldCondition(key=key, match=models.MatchValue(value=value))
        for key, value in conditions.items()
        if value is not None
    ]


class QdrantVectorStore:
    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        dimensions: int,
        upsert_batch: int = 256,
        options: CollectionOptions | None = None,
        fusion: HybridFusion | None = None,
    ) -> None:
        self._options = options or CollectionOptions()
        self._fusion = fusion or HybridFusion()
        self._client = client
        self._collection = collection
        self._dimensions = dimensions
        self._upsert_batch = upsert_batch
        self._points_per_upsert = max(1, min(upsert_batch, DENSE_FLOATS_PER_UPSERT // dimensions))
        self._ready = False
        # False for a collection made before hybrid search: dense only until re-indexed.
        self._has_sparse = True

    @property
    def collection(self) -> str:
        return self._collection

    def exists(self) -> bool:
        try:
            found = self._client.collection_exists(self._collection)
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant: {type(exc).__name__}") from exc
        self._ready = self._ready and found
        return found

    def ensure_collection(self) -> None:
        if self._ready:
            return
        try:
            if self._client.collection_exists(self._collection):
                params = self._collection_info()
                vectors = params.vectors
                size = vectors.size if isinstance(vectors, models.VectorParams) else None
                if size != self._dimensions:
                    raise EmbeddingDimensionMismatch(
                        f"collection {self._collection} holds vectors of size {size}, "
                        f"the embedder makes {self._dimensions}"
                    )
                self._has_sparse = SPARSE_VECTOR in (params.sparse_vectors or {})
                if not self._has_sparse:
                    logger.warning(
                        "collection has no bm25 vector: dense search only until re-indexed",
                        extra={"collection": self._collection},
                    )
            else:
                self._create()
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant: {type(exc).__name__}") from exc
        self._ready = True

    def _collection_info(self) -> models.CollectionParams:
        try:
            return self._client.get_collection(self._collection).config.params
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant: {type(exc).__name__}") from exc

    def _create(self) -> None:
        try:
            quantization = (
                models.ScalarQuantization(
                    scalar=models.ScalarQuantizationConfig(
                        type=models.ScalarType.INT8, always_ram=True
                    )
                )
                if self._options.quantization == "int8"
                else None
            )
            self._client.create_collection(
                self._collection,
                vectors_config=models.VectorParams(
                    size=self._dimensions,
                    distance=models.Distance.COSINE,
                    on_disk=self._options.on_disk,
                ),
                # BM25 term weights from the writer, IDF from the collection's statistics.
                sparse_vectors_config={
                    SPARSE_VECTOR: models.SparseVectorParams(
                        modifier=models.Modifier.IDF,
                        index=models.SparseIndexParams(on_disk=self._options.on_disk),
                    )
                },
                quantization_config=quantization,
            )
        except UnexpectedResponse as exc:
            if exc.status_code == 409:  # created concurrently by another worker
                return
            raise
        except ValueError:
            # Local mode raises ValueError when the collection was created concurrently.
            if not self._client.collection_exists(self._collection):
                raise
            return
        with warnings.catch_warnings():
            # Embedded mode ignores payload indexes and says so; servers use them.
            warnings.simplefilter("ignore", UserWarning)
            self._create_payload_indexes()

    def _create_payload_indexes(self) -> None:
        self._client.create_payload_index(
            self._collection,
            field_name="tenant_id",
            field_schema=models.KeywordIndexParams(
                type=models.KeywordIndexType.KEYWORD, is_tenant=True
            ),
        )
        for field_name in KEYWORD_INDEXES:
            self._client.create_payload_index(
                self._collection,
                field_name=field_name,
                field_schema=models.PayloadSchemaType.KEYWORD,
            )
        self._client.create_payload_index(
            self._collection, field_name=VISIBLE, field_schema=models.PayloadSchemaType.BOOL
        )

    def close(self) -> None:
        """Nothing to release: the client is the process's one for its server, shared by every
        store of it (docproc.wiring.qdrant_client). Closing it here left the next store of the
        same server (another environment in the process) with a closed client."""

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        if not points:
            return
        self.ensure_collection()
        if not self._has_sparse:
            # Asked again each time: a re-index may give the collection its BM25 vector in
            # place while this process (a warm container) writes.
            self._has_sparse = SPARSE_VECTOR in (self._collection_info().sparse_vectors or {})
        for start in range(0, len(points), self._points_per_upsert):
            batch = points[start : start + self._points_per_upsert]
            try:
                self._client.upsert(
                    self._collection,
                    points=[
                        models.PointStruct(id=p.id, vector=self._vectors(p), payload=p.payload)
                        for p in batch
                    ],
                    wait=True,
                )
            except (UnexpectedResponse, ResponseHandlingException) as exc:
                raise TransientError(f"qdrant upsert: {type(exc).__name__}") from exc

    def add_keyword_vector(self) -> bool:
        self.ensure_collection()
        if self._has_sparse:
            return False
        try:
            self._client.create_vector_name(
                self._collection,
                SPARSE_VECTOR,
                # (IDF as at creation; the API takes no index settings here, so the
                # index has the server's defaults whatever QDRANT_ON_DISK says)
                models.SparseVectorNameConfig(
                    sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF)
                ),
                wait=True,
            )
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant create vector: {type(exc).__name__}") from exc
        self._has_sparse = True
        return True

    def set_keyword_vectors(self, vectors: Sequence[tuple[str, SparseVector]]) -> None:
        self.ensure_collection()
        for start in range(0, len(vectors), self._upsert_batch):
            try:
                self._client.update_vectors(
                    self._collection,
                    points=[
                        models.PointVectors(
                            id=point_id,
                            vector={
                                SPARSE_VECTOR: models.SparseVector(
                                    indices=weights.indices, values=weights.values
                                )
                            },
                        )
                        for point_id, weights in vectors[start : start + self._upsert_batch]
                    ],
                    wait=True,
                )
            except (UnexpectedResponse, ResponseHandlingException) as exc:
                raise TransientError(f"qdrant update vectors: {type(exc).__name__}") from exc

    def texts(
        self, tenant_id: str, document_id: str, version: str, batch: int
    ) -> Iterator[list[tuple[str, str]]]:
        selector = models.Filter(
            must=_must(tenant_id=tenant_id, document_id=document_id, version=version)
        )
        offset: models.ExtendedPointId | None = None
        while True:
            try:
                records, offset = self._client.scroll(
                    self._collection,
                    scroll_filter=selector,
                    limit=batch,
                    offset=offset,
                    with_payload=["text"],
                    with_vectors=False,
                )
            except (UnexpectedResponse, ResponseHandlingException) as exc:
                raise TransientError(f"qdrant scroll: {type(exc).__name__}") from exc
            if records:
                yield [(str(r.id), str((r.payload or {}).get("text", ""))) for r in records]
            if offset is None:
                return

    def _vectors(self, point: VectorPoint) -> models.VectorStruct:
        # Python floats only for the points of the request being sent (DENSE_FLOATS_PER_UPSERT)
        dense = list(point.vector)
        if not self._has_sparse or point.sparse is None:
            return dense
        sparse = models.SparseVector(indices=point.sparse.indices, values=point.sparse.values)
        return {"": dense, SPARSE_VECTOR: sparse}

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
        if not tenant_id:
            raise ValueError("a search always names its tenant")
        if not self._client.collection_exists(self._collection):
            return []
        self.ensure_collection()
        condition = models.Filter(
            must=[
                *_must(tenant_id=tenant_id, case_id=case_id, document_id=document_id),
                models.FieldCondition(key=VISIBLE, match=models.MatchValue(value=True)),
            ]
        )
        queries: list[
            tuple[list[float] | models.SparseVector, str | None, models.SearchParams | None]
        ] = []
        if vector is not None:
            queries.append((list(vector), None, None))
        if sparse is not None and self._has_sparse:
            keywords = models.SparseVector(indices=sparse.indices, values=sparse.values)
            # IDF from the tenant's own points (VectorSearcher.search says why)
            tenant_corpus = models.IdfCorpusParams(
                corpus=models.Filter(must=_must(tenant_id=tenant_id))
            )
            queries.append((keywords, SPARSE_VECTOR, models.SearchParams(idf=tenant_corpus)))
        if not queries:
            return []
        if len(queries) == 1:
            ((query, using, params),) = queries
            response = self._client.query_points(
                self._collection,
                query=query,
                using=using,
                query_filter=condition,
                search_params=params,
                limit=limit,
                with_payload=True,
            )
        else:
            response = self._client.query_points(
                self._collection,
                prefetch=[
                    models.Prefetch(
                        query=query,
                        using=using,
                        filter=condition,
                        params=params,
                        limit=limit * PREFETCH_FACTOR,
                    )
                    for query, using, params in queries
                ],
                query=models.RrfQuery(
                    rrf=models.Rrf(k=self._fusion.k, weights=self._fusion.weights)
                ),
                limit=limit,
                with_payload=True,
            )
        return [
            SearchHit(id=str(point.id), score=point.score, payload=dict(point.payload or {}))
            for point in response.points
        ]

    def count(self, tenant_id: str, document_id: str, version: str | None = None) -> int:
        if not self._client.collection_exists(self._collection):
            return 0
        result = self._client.count(
            self._collection,
            count_filter=models.Filter(
                must=_must(tenant_id=tenant_id, document_id=document_id, version=version)
            ),
            exact=True,
        )
        return result.count

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        return {
            point_id: str(payload.get("chunk_hash", ""))
            for point_id, payload in self._retrieve(ids, ["chunk_hash"]).items()
        }

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {
            point_id: {field: value for field, value in payload.items() if field != VISIBLE}
            for point_id, payload in self._retrieve(ids, True).items()
        }

    def _retrieve(self, ids: Sequence[str], fields: list[str] | bool) -> dict[str, dict[str, Any]]:
        if not ids or not self._client.collection_exists(self._collection):
            return {}
        try:
            records = self._client.retrieve(
                self._collection, ids=list(ids), with_payload=fields, with_vectors=False
            )
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant retrieve: {type(exc).__name__}") from exc
        return {str(record.id): record.payload or {} for record in records}

    def publish_version(
        self, tenant_id: str, document_id: str, version: str, retire_others: bool
    ) -> None:
        """Make ``version`` searchable and (``retire_others``) remove every other version, in
        one batch request, in that order: searches see the old version, then the new one
        (during the request possibly both, never neither: a batch is ordered, not atomic)."""
        if not self._client.collection_exists(self._collection):
            return
        document = _must(tenant_id=tenant_id, document_id=document_id)
        operations: list[models.UpdateOperation] = [
            models.SetPayloadOperation(
                set_payload=models.SetPayload(
                    payload={VISIBLE: True},
                    filter=models.Filter(must=[*document, *_must(version=version)]),
                )
            )
        ]
        if retire_others:
            operations.append(
                models.DeleteOperation(
                    delete=models.FilterSelector(
                        filter=models.Filter(must=document, must_not=_must(version=version))
                    )
                )
            )
        try:
            self._client.batch_update_points(
                self._collection, update_operations=operations, wait=True
            )
        except (UnexpectedResponse, ResponseHandlingException) as exc:
            raise TransientError(f"qdrant publish: {type(exc).__name__}") from exc

    def delete_version(self, tenant_id: str, document_id: str, version: str) -> None:
        self._delete(
            models.Filter(must=_must(tenant_id=tenant_id, document_id=document_id, version=version))
        )

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        QdrantDocumentDeleter(self._client, self._collection).delete_document(
            tenant_id, document_id, keep_version
        )

    def _delete(self, selector: models.Filter) -> None:
        _delete_points(self._client, self._collection, selector)


class QdrantDocumentDeleter:
    """VectorDeleter of a collection by its name alone: Delete's, for the collections a
    re-index wrote a document into."""

    def __init__(self, client: QdrantClient, collection: str) -> None:
        self._client = client
        self._collection = collection

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        _delete_points(
            self._client,
            self._collection,
            models.Filter(
                must=_must(tenant_id=tenant_id, document_id=document_id),
                must_not=_must(version=keep_version) if keep_version else None,
            ),
        )


def _delete_points(client: QdrantClient, collection: str, selector: models.Filter) -> None:
    try:
        if not client.collection_exists(collection):
            return
        client.delete(collection, points_selector=models.FilterSelector(filter=selector), wait=True)
    except (UnexpectedResponse, ResponseHandlingException) as exc:
        raise TransientError(f"qdrant delete: {type(exc).__name__}") from exc
