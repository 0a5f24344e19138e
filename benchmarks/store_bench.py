"""The vector-store comparison: the same points written to a store in one process, as the
laptop runner writes them (batches of 256, the store in the process), then searched.

    python -m benchmarks.store_bench edge|edge-dense|sqlite POINTS_FOLDER STORE_FOLDER

prints {"points", "write_seconds", "anon_peak_mb", "rss_peak_mb", "search_p50_ms", ...}.
``edge`` writes each point's dense and BM25 vectors, as docproc does; ``edge-dense`` and
``sqlite`` the dense vector alone (the SQLite store has no sparse vectors), like for like.
``points_of`` makes POINTS_FOLDER from a text file: its chunks (docproc's chunker, 512 tokens),
their hashing-embedder vectors (vectors.npy) and BM25 vectors and payloads (points.jsonl), and
how many distinct BM25 terms they hold (terms.json).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.rss import OwnMemoryPeaks, disk_mb

BATCH = 256
TENANTS = ("acme", "globex", "initech", "umbrella")
QUERIES = 100


def points_of(text_path: Path, folder: Path) -> Path:
    from docproc.chunking.chunker import Chunker
    from docproc.embedding.hashing import HashingEmbedder
    from docproc.embedding.sparse import Bm25Encoder

    folder.mkdir(parents=True, exist_ok=True)
    chunker = Chunker("text-embedding-3-small", 512, 64)
    embedder, bm25 = HashingEmbedder(384), Bm25Encoder()
    vectors: list[np.ndarray] = []
    terms: set[int] = set()
    with (folder / "points.jsonl").open("w") as out, text_path.open("rb") as source:
        offset, ordinal = 0, 0
        while block := source.read(8 * 1024 * 1024):
            block += source.readline()  # whole lines
            texts = [piece.text for piece in chunker.chunk_text(block.decode(), offset)]
            offset += len(block)
            for start in range(0, len(texts), BATCH):
                batch = texts[start : start + BATCH]
                vectors.append(np.asarray(embedder.embed(batch), dtype=np.float32))
                for text, sparse in zip(batch, bm25.encode_documents(batch), strict=True):
                    terms.update(sparse.indices)
                    tenant = TENANTS[ordinal % len(TENANTS)]
                    payload = {
                        "tenant_id": tenant,
                        "case_id": "bench",
                        "document_id": f"doc-{ordinal // 1000}",
                        "version": "v1",
                        "text": text,
                        "chunk_hash": str(ordinal),
                        "visible": True,
                    }
                    out.write(
                        json.dumps(
                            {
                                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, str(ordinal))),
                                "payload": payload,
                                "sparse": [sparse.indices, sparse.values],
                            }
                        )
                        + "\n"
                    )
                    ordinal += 1
    np.save(folder / "vectors.npy", np.concatenate(vectors))
    (folder / "terms.json").write_text(json.dumps({"distinct_bm25_terms": len(terms)}))
    return folder


def distinct_terms(folder: Path) -> int:
    """How many distinct BM25 terms (sparse dimensions) the points of ``folder`` hold."""
    return int(json.loads((folder / "terms.json").read_text())["distinct_bm25_terms"])


def _store(kind: str, folder: Path) -> Any:
    if kind in ("edge", "edge-dense"):
        from docproc.vectors.edge import EdgeVectorStore

        return EdgeVectorStore(folder, "bench", 384)
    from benchmarks.sqlite_store import SQLiteVectorStore

    folder.mkdir(parents=True, exist_ok=True)
    return SQLiteVectorStore(folder / "vectors.sqlite3", "bench", 384)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(kind: str, points_folder: Path, store_folder: Path) -> dict[str, Any]:
    from docproc.embedding.sparse import Bm25Encoder
    from docproc.vectors.port import SparseVector, VectorPoint

    vectors = np.load(points_folder / "vectors.npy", mmap_mode="r")
    memory = OwnMemoryPeaks()
    store = _store(kind, store_folder)
    started = time.perf_counter()
    count = 0
    batch: list[VectorPoint] = []
    with (points_folder / "points.jsonl").open() as lines:
        for index, line in enumerate(lines):
            row = json.loads(line)
            batch.append(
                VectorPoint(
                    id=row["id"],
                    vector=vectors[index].tolist(),
                    payload=row["payload"],
                    sparse=SparseVector(*row["sparse"]) if kind == "edge" else None,
                )
            )
            if len(batch) == BATCH:
                store.upsert(batch)
                count += len(batch)
                batch = []
    if batch:
        store.upsert(batch)
        count += len(batch)
    write_seconds = time.perf_counter() - started
    rng = np.random.default_rng(3)
    bm25 = Bm25Encoder()
    latencies, hybrid = [], []
    for query in range(QUERIES):
        vector = vectors[int(rng.integers(len(vectors)))].tolist()
        tenant = TENANTS[query % len(TENANTS)]
        began = time.perf_counter()
        store.search(vector, tenant, limit=10)
        latencies.append((time.perf_counter() - began) * 1000)
        if kind == "edge":
            sparse = bm25.encode_query("agreement warranty clause court")
            began = time.perf_counter()
            store.search(vector, tenant, sparse=sparse, limit=10)
            hybrid.append((time.perf_counter() - began) * 1000)
    corpus_cost = _idf_corpus_cost(store, vectors) if kind == "edge" else {}
    store.close()
    memory.stop()
    disk = disk_mb(store_folder)
    result = {
        "points": count,
        "write_seconds": round(write_seconds, 2),
        "anon_peak_mb": round(memory.anon, 1),
        "rss_peak_mb": round(memory.rss, 1),
        "search_p50_ms": round(statistics.median(latencies), 2),
        "search_p95_ms": round(_percentile(latencies, 0.95), 2),
        "disk_mb": round(disk, 1),
    }
    if hybrid:
        result["hybrid_p50_ms"] = round(statistics.median(hybrid), 2)
        result["hybrid_p95_ms"] = round(_percentile(hybrid, 0.95), 2)
    result.update(corpus_cost)
    return result


def _idf_corpus_cost(store: Any, vectors: np.ndarray) -> dict[str, float]:
    """What counting BM25's IDF over the tenant's points costs a hybrid query of the Edge
    store's shape (a dense and a BM25 prefetch of 50 with the tenant filter, fused by RRF):
    with that IDF corpus and without it (over the whole shard), in turns, QUERIES of each on
    the same shard."""
    from qdrant_edge import (
        FieldCondition,
        Filter,
        Fusion,
        IdfParams,
        MatchValue,
        Prefetch,
        Query,
        QueryRequest,
        SearchParams,
    )
    from qdrant_edge import SparseVector as EdgeSparseVector

    from docproc.embedding.sparse import Bm25Encoder
    from docproc.vectors.port import SPARSE_VECTOR

    shard = store._open
    sparse = Bm25Encoder().encode_query("agreement warranty clause court")
    keywords = Query.Nearest(EdgeSparseVector(sparse.indices, sparse.values), using=SPARSE_VECTOR)
    rng = np.random.default_rng(5)
    seconds: dict[str, list[float]] = {"tenant": [], "shard": []}
    for query in range(QUERIES):
        dense = Query.Nearest(vectors[int(rng.integers(len(vectors)))].tolist())
        tenant = Filter(
            must=[FieldCondition(key="tenant_id", match=MatchValue(value=TENANTS[query % 4]))]
        )
        for corpus in ("tenant", "shard") if query % 2 else ("shard", "tenant"):
            params = SearchParams(idf=IdfParams(corpus=tenant)) if corpus == "tenant" else None
            request = QueryRequest(
                prefetches=[
                    Prefetch(limit=50, query=dense, filter=tenant),
                    Prefetch(limit=50, query=keywords, filter=tenant, params=params),
                ],
                query=Fusion.Rrf(k=2, weights=[1.0, 1.0]),  # type: ignore[arg-type]
                limit=10,
                with_payload=True,
            )
            began = time.perf_counter()
            shard.query(request)
            seconds[corpus].append((time.perf_counter() - began) * 1000)
    return {
        f"hybrid_idf_{corpus}_p50_ms": round(statistics.median(values), 2)
        for corpus, values in seconds.items()
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
