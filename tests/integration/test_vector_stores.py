"""The VectorStore port's contract, on Qdrant (the real client in its in-process mode, and over
REST against the loopback server the e2e functions share) and on the laptop's Qdrant Edge
store: isolation, versions, resume, collections, and hybrid (dense + BM25) search."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_edge import (
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    Memory,
    Point,
    UpdateOperation,
)

from docproc.config import LocalSettings
from docproc.embedding.sparse import Bm25Encoder
from docproc.errors import EmbeddingDimensionMismatch, VectorStoreBusy
from docproc.local.vectors_server import RemoteVectorStore, VectorStoreServer
from docproc.vectors.edge import SEGMENT_TARGET, EdgeVectorStore
from docproc.vectors.port import (
    VISIBLE,
    HybridFusion,
    VectorPoint,
    VectorStore,
    collection_name,
)
from docproc.vectors.qdrant import QdrantVectorStore
from docproc.wiring import make_edge_vector_store, make_vector_store
from tests.qdrant_server import qdrant_server


def _point(
    n: int, tenant: str, document: str, version: str, vector: list[float], visible: bool = True
) -> VectorPoint:
    return VectorPoint(
        id=f"00000000-0000-0000-0000-{n:012d}",
        vector=vector,
        payload={
            "tenant_id": tenant,
            "case_id": "c",
            "document_id": document,
            "version": version,
            "text": f"chunk {n}",
            "chunk_hash": f"h{n}",
            "visible": visible,
        },
    )


StoreFactory = Callable[[HybridFusion], VectorStore]


@pytest.fixture(params=["qdrant", "qdrant-rest", "edge"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A store of each kind, its collections apart from each other, hybrid search fusing as
    told."""
    made: list[VectorStore] = []

    def make(fusion: HybridFusion, client: QdrantClient | None = None) -> VectorStore:
        collection = f"test_col{len(made) or ''}"
        if request.param == "edge":
            # Sealed every 1,000 points, so that the tests run across sealed segments too
            store: VectorStore = EdgeVectorStore(
                tmp_path / "vectors", collection, dimensions=3, seal_every=1000, fusion=fusion
            )
        else:
            assert client is not None
            store = QdrantVectorStore(client, collection, dimensions=3, fusion=fusion)
        made.append(store)
        return store

    if request.param == "qdrant-rest":
        with qdrant_server() as server:
            yield functools.partial(make, client=server.client())
    else:
        yield functools.partial(make, client=QdrantClient(location=":memory:"))
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> VectorStore:
    return make_store(HybridFusion())


def test_collection_names_separate_models_and_sizes():
    assert collection_name("docproc", "text-embedding-3-small", 1536) == (
        "docproc_text-embedding-3-small_1536"
    )
    assert collection_name("docproc", "hashing-v1", 384) != collection_name(
        "docproc", "hashing-v1", 768
    )


def test_exists_says_whether_the_collection_was_made(store: VectorStore):
    # Given a store whose collection was never made, Then it does not exist
    assert not store.exists()
    # When it is made, Then it exists
    store.ensure_collection()
    assert store.exists()


def test_a_collection_dropped_after_it_was_ensured_is_made_again():
    # Given a store that ensured its collection, which someone then dropped
    client = QdrantClient(location=":memory:")
    store = QdrantVectorStore(client, "test_col", dimensions=3)
    store.ensure_collection()
    client.delete_collection("test_col")
    # When it is asked whether the collection exists, Then the store says no (not what it
    # remembered)
    assert not store.exists()
    # And the next ensure makes it again, so writes work
    store.ensure_collection()
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    assert store.count("acme", "d1") == 1


def test_searches_never_cross_tenants(store: VectorStore):
    store.upsert(
        [
            _point(1, "acme", "d1", "v1", [1, 0, 0]),
            _point(2, "globex", "d1", "v1", [1, 0, 0]),
        ]
    )
    hits = store.search([1, 0, 0], "acme")
    assert [h.payload["tenant_id"] for h in hits] == ["acme"]
    with pytest.raises(ValueError):
        store.search([1, 0, 0], "")


def test_upsert_with_the_same_ids_overwrites(store: VectorStore):
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    store.upsert([_point(1, "acme", "d1", "v1", [0, 1, 0])])
    assert store.count("acme", "d1") == 1


def test_older_versions_are_deleted_and_the_kept_one_stays(store: VectorStore):
    store.upsert(
        [
            _point(1, "acme", "d1", "v1", [1, 0, 0]),
            _point(2, "acme", "d1", "v2", [1, 0, 0]),
            _point(3, "acme", "d2", "v1", [1, 0, 0]),
        ]
    )
    store.delete_document("acme", "d1", keep_version="v2")
    assert store.count("acme", "d1", "v1") == 0
    assert store.count("acme", "d1", "v2") == 1
    assert store.count("acme", "d2") == 1


def test_dimension_mismatch_is_caught_before_any_upsert():
    client = QdrantClient(location=":memory:")
    QdrantVectorStore(client, "shared", dimensions=3).ensure_collection()
    other = QdrantVectorStore(client, "shared", dimensions=5)
    with pytest.raises(EmbeddingDimensionMismatch):
        other.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0, 0, 0])])
    assert client.count("shared").count == 0


def test_a_new_version_is_invisible_until_published_then_replaces_the_old(store):
    # Given a searchable version 1
    store.upsert(
        [_point(1, "acme", "d1", "v1", [1, 0, 0]), _point(2, "acme", "d1", "v1", [0, 1, 0])]
    )
    # When version 2 is being ingested (staged points)
    store.upsert([_point(3, "acme", "d1", "v2", [1, 0, 0], visible=False)])
    # Then searches still see version 1 only
    assert {h.payload["version"] for h in store.search([1, 0, 0], "acme")} == {"v1"}
    # When version 2 is published
    store.publish_version("acme", "d1", "v2", retire_others=True)
    # Then searches see version 2 only, and version 1 is gone
    assert {h.payload["version"] for h in store.search([1, 0, 0], "acme")} == {"v2"}
    assert store.count("acme", "d1", "v1") == 0


def test_existing_reports_stored_ids_with_their_hashes(store):
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    assert store.existing(
        ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000009"]
    ) == {"00000000-0000-0000-0000-000000000001": "h1"}


def test_payloads_returns_the_payload_of_stored_ids(store):
    # Given one stored point
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    # When its payload and a missing point's are asked for
    found = store.payloads(
        ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000009"]
    )
    # Then the stored one comes back as written (but for the visibility flag, each store's
    # own), the missing one not at all
    written = _point(1, "acme", "d1", "v1", []).payload
    assert found == {
        "00000000-0000-0000-0000-000000000001": {k: v for k, v in written.items() if k != VISIBLE}
    }


def test_edge_store_refuses_a_collection_of_another_size(tmp_path: Path):
    first = EdgeVectorStore(tmp_path / "vectors", "shared", dimensions=3)
    first.ensure_collection()
    first.close()
    other = EdgeVectorStore(tmp_path / "vectors", "shared", dimensions=5)
    with pytest.raises(EmbeddingDimensionMismatch):
        other.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0, 0, 0])])


def test_an_edge_shard_is_one_process_s_until_it_closes(tmp_path: Path):
    # Given a shard open in one store (as one process has it)
    first = EdgeVectorStore(tmp_path / "vectors", "shared", dimensions=3)
    first.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    # When another opens it, to write or to search
    other = EdgeVectorStore(tmp_path / "vectors", "shared", dimensions=3)
    # Then it is refused with a typed error naming the holder, and nothing of the first's is lost
    with pytest.raises(VectorStoreBusy, match=f"pid {os.getpid()}"):
        other.upsert([_point(2, "acme", "d2", "v1", [0, 1, 0])])
    with pytest.raises(VectorStoreBusy):
        other.search([1, 0, 0], "acme")
    assert first.count("acme", "d1") == 1
    # And once the first closes, the other has it
    first.close()
    other.upsert([_point(2, "acme", "d2", "v1", [0, 1, 0])])
    assert {hit.payload["document_id"] for hit in other.search([1, 1, 0], "acme")} == {"d1", "d2"}
    other.close()


def test_a_served_edge_shard_answers_other_processes_until_its_server_closes(tmp_path: Path):
    # Given a shard served by the process that has it, announced in a file beside it
    store = EdgeVectorStore(tmp_path / "vectors", "shared", dimensions=3)
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    announce = tmp_path / "vectors" / "shared.serving"
    server = VectorStoreServer(store, threading.Lock(), announce=announce)
    # When a client finds it there and searches
    remote = RemoteVectorStore.announced(announce)
    assert remote is not None
    # Then the served store answers
    assert [hit.payload["document_id"] for hit in remote.search([1, 0, 0], "acme")] == ["d1"]
    # And once the server closes, its announcement is gone and every late call is refused, not
    # served by a store opened again, nor answered by what the closing connection sent last
    server.close()
    assert not announce.exists() and RemoteVectorStore.announced(announce) is None
    with pytest.raises(VectorStoreBusy):
        remote.search([1, 0, 0], "acme")
    with pytest.raises(VectorStoreBusy):
        remote.upsert([_point(2, "acme", "d1", "v1", [0, 1, 0])])
    with pytest.raises(VectorStoreBusy):
        remote.search([1, 0, 0], "acme")
    # and a client that connects after it closed is refused too
    with pytest.raises(VectorStoreBusy):
        RemoteVectorStore(server.address, server.authkey).search([1, 0, 0], "acme")
    store.close()


def test_search_returns_the_true_nearest_in_order_across_many_batches(store: VectorStore):
    # Given more points than one scoring batch, with random directions
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(5000, 3)).astype(np.float32)
    store.upsert([_point(n, "acme", "d1", "v1", vectors[n].tolist()) for n in range(5000)])
    query = [0.3, -0.5, 0.8]
    # When searching for the 7 nearest
    hits = store.search(query, "acme", limit=7)
    # Then they are exactly the 7 of highest cosine similarity, best first
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = np.argsort(-(unit @ (np.array(query) / np.linalg.norm(query))))[:7]
    assert [int(h.id.rsplit("-", 1)[1]) for h in hits] == expected.tolist()
    assert hits[0].score == pytest.approx(float(unit[expected[0]] @ query / np.linalg.norm(query)))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_filters_by_case_and_document(store: VectorStore):
    store.upsert(
        [
            _point(1, "acme", "d1", "v1", [1, 0, 0]),
            _point(2, "acme", "d2", "v1", [1, 0, 0]),
        ]
    )
    assert [
        h.payload["document_id"] for h in store.search([1, 0, 0], "acme", document_id="d2")
    ] == ["d2"]
    assert store.search([1, 0, 0], "acme", case_id="other-case") == []


def test_edge_collections_in_one_folder_stay_apart(tmp_path: Path):
    # Given two embedders' collections in the laptop's one folder (another model, another size)
    root = tmp_path / "vectors"
    small = EdgeVectorStore(root, "docproc_hashing-v1_3", dimensions=3)
    large = EdgeVectorStore(root, "docproc_text-embedding-3-small_5", dimensions=5)
    small.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    large.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0, 0, 0])])
    # Then each searches, counts and deletes only its own points
    assert len(small.search([1, 0, 0], "acme")) == 1
    assert len(large.search([1, 0, 0, 0, 0], "acme")) == 1
    small.delete_document("acme", "d1")
    assert small.count("acme", "d1") == 0 and large.count("acme", "d1") == 1


# --- hybrid search: a BM25 sparse vector beside the dense one --------------------------------

BM25 = Bm25Encoder()
CLAUSES = [
    "The tenant pays the security deposit before the lease begins.",
    "Invoice INV-20931 was paid by wire transfer in March.",
    "The landlord returns the deposit within thirty days after move-out.",
    "Case number 2026-CV-00417 was filed in the district court.",
]


def _texts(
    store: VectorStore,
    dense: list[list[float]],
    fillers: Sequence[list[float]] = (),
    keywords: bool = True,
) -> None:
    """CLAUSES, each with its dense vector; then, with ``fillers``' vectors, clauses that share
    no word with them. Each with its BM25 vector unless not ``keywords``."""
    texts = CLAUSES + [f"Exhibit {n} is attached as filed." for n in range(len(fillers))]
    store.upsert(
        [
            VectorPoint(
                id=f"00000000-0000-0000-0000-{n:012d}",
                vector=vector,
                payload={
                    "tenant_id": "acme",
                    "case_id": "c",
                    "document_id": f"d{n}",
                    "version": "v1",
                    "text": text,
                    "chunk_hash": f"h{n}",
                    "visible": True,
                },
                sparse=BM25.encode_documents([text])[0] if keywords else None,
            )
            for n, (text, vector) in enumerate(zip(texts, [*dense, *fillers], strict=True))
        ]
    )


def test_bm25_finds_an_exact_identifier(store: VectorStore):
    # Given four clauses whose dense vectors say nothing (all alike)
    _texts(store, [[1, 0, 0]] * 4)
    # When searched by keywords alone
    hits = store.search(None, "acme", sparse=BM25.encode_query("2026-CV-00417"))
    # Then the clause with that case number comes first
    assert hits[0].payload["document_id"] == "d3"
    assert [
        h.payload["document_id"]
        for h in store.search(None, "acme", sparse=BM25.encode_query("invoice INV-20931"))
    ][:1] == ["d1"]


def _set_clauses_keywords(store: VectorStore) -> None:
    store.set_keyword_vectors(
        [
            (f"00000000-0000-0000-0000-{n:012d}", weights)
            for n, weights in enumerate(BM25.encode_documents(CLAUSES))
        ]
    )


def test_points_written_without_bm25_weights_get_them_in_place(store: VectorStore):
    # Given clauses written with their dense vectors alone
    _texts(store, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]], keywords=False)
    keywords = BM25.encode_query("2026-CV-00417")
    assert store.search(None, "acme", sparse=keywords) == []
    dense = store.search([0, 1, 0], "acme", limit=4)
    # When their BM25 vectors are set
    _set_clauses_keywords(store)
    # Then keyword search finds the case number, and the dense vectors are as they were
    assert store.search(None, "acme", sparse=keywords)[0].payload["document_id"] == "d3"
    assert store.search([0, 1, 0], "acme", limit=4) == dense


@pytest.mark.parametrize("transport", ["in-process", "rest"])
def test_a_collection_from_before_hybrid_search_gets_its_bm25_vector_in_place(transport: str):
    with contextlib.ExitStack() as stack:
        if transport == "rest":
            client = stack.enter_context(qdrant_server()).client()
        else:
            client = QdrantClient(location=":memory:")
        # Given a collection made with dense vectors only, and clauses written to it
        client.create_collection(
            "legacy", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
        )
        store = QdrantVectorStore(client, "legacy", dimensions=3)
        _texts(store, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]])
        # And a process that opened it then (a warm container) and goes on writing
        warm = QdrantVectorStore(client, "legacy", dimensions=3)
        warm.ensure_collection()
        # When it is given its BM25 vector, and the clauses theirs
        assert store.add_keyword_vector() is True
        _set_clauses_keywords(store)
        # Then the collection has it, with the IDF modifier, and keyword search finds
        sparse = client.get_collection("legacy").config.params.sparse_vectors or {}
        assert set(sparse) == {"bm25"} and sparse["bm25"].modifier == models.Modifier.IDF
        hits = store.search(None, "acme", sparse=BM25.encode_query("invoice INV-20931"))
        assert hits[0].payload["document_id"] == "d1"
        # And asked again, it has it already
        assert store.add_keyword_vector() is False
        # And what the warm process writes from now on has its BM25 vector too
        late = dataclasses.replace(
            _point(9, "acme", "late", "v1", [1, 0, 0]),
            sparse=BM25.encode_documents(["Purchase order PO-7781 is approved."])[0],
        )
        warm.upsert([late])
        hits = store.search(None, "acme", sparse=BM25.encode_query("PO-7781"))
        assert [hit.payload["document_id"] for hit in hits] == ["late"]
        store.close()


def test_hybrid_fuses_both_rankings(store: VectorStore):
    # Given dense vectors that point at clause 0 and keywords that point at clause 2
    _texts(store, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]])
    query = BM25.encode_query("landlord returns deposit thirty days")
    # When searched by both
    hits = store.search([1, 0, 0], "acme", sparse=query, limit=4)
    top_two = {h.payload["document_id"] for h in hits[:2]}
    # Then the best of each side is among the first two (reciprocal rank fusion)
    assert top_two == {"d0", "d2"}
    # And each side alone ranks its own first
    assert store.search([1, 0, 0], "acme", limit=1)[0].payload["document_id"] == "d0"
    assert store.search(None, "acme", sparse=query, limit=1)[0].payload["document_id"] == "d2"


def test_a_tenant_s_keyword_scores_do_not_depend_on_another_tenant_s_documents(
    store: VectorStore,
):
    # Given acme's clauses, where "deposit" is in two and "invoice" in one, and dense vectors
    # that rank the invoice clause third (no two fused scores alike)
    _texts(store, [[1, 0, 0], [0.8, 0.2, 0], [0.9, 0.1, 0], [0, 1, 0]])
    query = BM25.encode_query("deposit invoice")

    def acme_searches() -> dict[str, list[tuple[str, float]]]:
        """Keywords alone, and with the dense query (hybrid)"""
        searches = {
            "bm25": store.search(None, "acme", sparse=query),
            "hybrid": store.search([1, 0, 0], "acme", sparse=query),
        }
        return {
            mode: [(hit.payload["document_id"], hit.score) for hit in hits]
            for mode, hits in searches.items()
        }

    before = acme_searches()
    # When another tenant stores many documents that say "invoice"
    invoices = BM25.encode_documents([f"Invoice {n} is due." for n in range(50)])
    store.upsert(
        [
            dataclasses.replace(_point(100 + n, "globex", f"g{n}", "v1", [0, 1, 0]), sparse=words)
            for n, words in enumerate(invoices)
        ]
    )
    # Then acme's searches rank and score as before: "invoice", the rarer word in acme's
    # documents, still weighs more than "deposit" (counted over the collection it would weigh
    # almost nothing, and acme's invoice clause would fall behind the deposit ones)
    after = acme_searches()
    assert before["bm25"][0][0] == "d1"
    for mode in ("bm25", "hybrid"):
        assert [name for name, _ in after[mode]] == [name for name, _ in before[mode]]
        assert [score for _, score in after[mode]] == pytest.approx(
            [score for _, score in before[mode]]
        )


@pytest.mark.parametrize(("weights", "first"), [((3.0, 1.0), "d0"), ((1.0, 3.0), "d2")])
def test_of_two_passages_each_found_by_one_side_the_heavier_side_s_comes_first(
    make_store: StoreFactory, weights: tuple[float, float], first: str
):
    # Given clause 0 nearest the query's dense vector and clause 2, the only one with the
    # query's keywords, farthest from it (past the five candidates dense search fetches for
    # one hit), in a store that weighs one side three times the other
    store = make_store(HybridFusion(*weights))
    fillers = [[1.0, 0.2 * (n + 1), 0.0] for n in range(5)]
    _texts(store, [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, 1, 1]], fillers=fillers)
    # When searched by both for one hit
    hits = store.search(
        [1, 0, 0], "acme", sparse=BM25.encode_query("landlord returns thirty days"), limit=1
    )
    # Then it is the first of the heavier-weighted side
    assert [hit.payload["document_id"] for hit in hits] == [first]


@pytest.mark.parametrize("kind", ["edge", "qdrant"])
@pytest.mark.parametrize(
    ("environment", "first", "score"),
    [
        # the first rank of the heavier side, weight w: 1 / (1 / w + k - 1)
        ({}, "d2", 1 / (1 / 3 + 4)),
        ({"HYBRID_DENSE_WEIGHT": "9"}, "d0", 1 / (1 / 9 + 4)),
        ({"HYBRID_RRF_K": "2"}, "d2", 1 / (1 / 3 + 1)),
    ],
)
def test_the_stores_docproc_builds_fuse_with_the_configured_weights(
    tmp_path: Path, kind: str, environment: dict[str, str], first: str, score: float
):
    # Given the laptop's settings (the offline embedder: dense 1, BM25 3, k 5), or a weight or
    # k set, and the passages of the test above in vectors of the collection's size
    settings = LocalSettings(EMBEDDING_DIMENSIONS=8, **environment)
    store = (
        make_edge_vector_store(tmp_path, settings, settings)
        if kind == "edge"
        else make_vector_store(QdrantClient(location=":memory:"), settings, settings)
    )
    fillers = [[1.0, 0.2 * (n + 1), 0.0] for n in range(5)]
    dense = [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, 1, 1]]
    _texts(
        store, [[*v, 0, 0, 0, 0, 0] for v in dense], fillers=[[*v, 0, 0, 0, 0, 0] for v in fillers]
    )
    # When searched by both for one hit
    hits = store.search(
        [1, 0, 0, 0, 0, 0, 0, 0],
        "acme",
        sparse=BM25.encode_query("landlord returns thirty days"),
        limit=1,
    )
    store.close()
    # Then the heavier side's first comes first, scored with the configured weight and k
    assert [hit.payload["document_id"] for hit in hits] == [first]
    assert hits[0].score == pytest.approx(score, rel=1e-5)


def test_a_collection_from_before_hybrid_search_keeps_working_dense_only():
    # Given a collection made with dense vectors only (docproc before hybrid search)
    client = QdrantClient(location=":memory:")
    client.create_collection(
        "legacy", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
    )
    store = QdrantVectorStore(client, "legacy", dimensions=3)
    # When points with sparse vectors are written and a hybrid query is asked
    _texts(store, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]])
    hits = store.search([1, 0, 0], "acme", sparse=BM25.encode_query("deposit"), limit=1)
    # Then the dense half answers; the sparse vectors were left out, not refused
    assert hits[0].payload["document_id"] == "d0"
    assert store.count("acme", "d0") == 1


@pytest.mark.parametrize(
    ("dimensions", "per_request"), [(1536, [64, 64, 64, 64, 44]), (384, [256, 44])]
)
def test_an_upsert_request_holds_a_bounded_number_of_floats(
    dimensions: int, per_request: list[int]
):
    # Given a Qdrant server and a store of the default model's size (1536) or of 384 dims
    with qdrant_server() as server:
        store = QdrantVectorStore(server.client(), "sized", dimensions=dimensions)
        # When a segment's batch of 300 points is written
        rng = np.random.default_rng(5)
        store.upsert(
            [
                _point(n, "acme", "d", "v1", rng.standard_normal(dimensions).tolist())
                for n in range(300)
            ]
        )
        # Then each request carries at most 98,304 floats (64 points of 1536 dims) and at
        # most QDRANT_UPSERT_BATCH points, and every point is stored
        assert server.upserts == per_request
        assert store.count("acme", "d") == 300


def test_an_upsert_s_request_is_freed_when_it_returns_not_at_the_next_garbage_collection():
    # Given a Qdrant server, a store of the default model's size on the client docproc makes,
    # and the cyclic garbage collector held off (as between its runs in a segment worker)
    rng = np.random.default_rng(7)
    points = [_point(n, "acme", "d", "v1", rng.standard_normal(1536).tolist()) for n in range(64)]
    with qdrant_server() as server:
        store = QdrantVectorStore(server.client(), "freed", dimensions=1536)
        store.upsert(points)  # the collection, the connection and the client's caches
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            # When three more requests of ~2 MB of JSON each are sent
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(3):
                store.upsert(points)
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
            gc.enable()
        # Then none of them is still held (httpx binds a response's stream to the response, a
        # reference cycle that kept each request's body until the collector ran: 5.9 MB here)
        assert kept < 512 * 1024


def test_edge_keeps_versions_staged_across_processes_and_publishes_without_rewriting(
    tmp_path: Path,
):
    def opened() -> EdgeVectorStore:
        return EdgeVectorStore(tmp_path, "test_col", dimensions=3, seal_every=1000)

    counted = tmp_path / "test_col" / "docproc-unsealed-points"
    # Given a store sealed every 1,000 points, written by processes in turn (each opens and
    # closes the shard): version 1 (10 points) and 590 staged points of version 2, and a
    # staged version of another document that happens to have the same version string
    first = opened()
    first.upsert([_point(n, "acme", "d1", "v1", [1, 0, 0]) for n in range(1, 11)])
    first.upsert([_point(n, "acme", "d1", "v2", [0, 1, 0], False) for n in range(100, 690)])
    first.upsert([_point(n, "acme", "d2", "v2", [0, 1, 0], False) for n in range(2000, 2005)])
    first.close()
    assert counted.read_text() == "605"
    # When the next process writes 500 more, the count goes on from the last one's: a seal
    second = opened()
    second.upsert([_point(n, "acme", "d1", "v2", [0, 1, 0], False) for n in range(690, 1190)])
    # Then it too sees version 1 only
    assert {h.payload["version"] for h in second.search([0, 1, 0], "acme", limit=2000)} == {"v1"}
    second.close()
    assert counted.read_text() == "0"
    # When a third process publishes version 2 of d1 (1,090 points, most of them sealed)
    third = opened()
    third.publish_version("acme", "d1", "v2", retire_others=True)
    # Then every point of it is searchable, version 1 is gone, d2 stays staged
    assert third.count("acme", "d1", "v2") == 1090
    assert third.count("acme", "d1", "v1") == 0
    hits = third.search([0, 1, 0], "acme", limit=2000)
    assert len(hits) == 1090
    assert {(h.payload["document_id"], h.payload["version"]) for h in hits} == {("d1", "v2")}
    assert all("visible" not in h.payload for h in hits)
    third.close()
    # And no point was rewritten to publish it: nothing new in the appendable segment
    assert counted.read_text() == "0"
    # When d2 is deleted, its staged version leaves the list with its points
    fourth = opened()
    fourth.delete_document("acme", "d2")
    fourth.close()
    fifth = opened()
    fifth.ensure_collection()
    fifth.close()
    assert json.loads((tmp_path / "test_col" / "docproc-staged-versions.json").read_text()) == []


def _write_in_batches(store: EdgeVectorStore, points: int, batch: int) -> None:
    """Points 0..points-1 of acme's d1 v1, upserted ``batch`` at a time."""
    for start in range(0, points, batch):
        store.upsert(
            [_point(n, "acme", "d1", "v1", [1, 0, 0]) for n in range(start, start + batch)]
        )


def test_edge_seals_its_appendable_segment_whatever_the_size_of_its_vectors(tmp_path: Path):
    # Given a store of 3-dimensional vectors (12 bytes a point) sealed every 1,000 points
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3, seal_every=1000)
    # When 2,500 points are written
    _write_in_batches(store, points=2500, batch=250)
    # Then two seals made two immutable segments, beside the appendable one
    assert store._open.info().segments_count == 3
    assert store.count("acme", "d1") == 2500
    store.close()


def test_edge_counts_points_written_from_several_threads_at_once_toward_each_seal(
    tmp_path: Path,
):
    # Given a store sealed every 100 points, written as a segment with batches in flight
    # writes: from several threads at once, each also asking what is stored
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3, seal_every=100)
    store.ensure_collection()

    def write(thread: int) -> None:
        for batch in range(10):
            start = thread * 1000 + batch * 25
            points = [_point(n, "acme", "d1", "v1", [1, 0, 0]) for n in range(start, start + 25)]
            store.existing([point.id for point in points])
            store.upsert(points)

    # When 4 threads write 250 points each
    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every point is stored, and counted once toward the seals: 10 sealed segments of
    # 100 points, beside the appendable one, empty
    assert store.count("acme", "d1") == 1000
    assert store._open.info().segments_count == 11
    store.close()


def test_edge_seals_a_shard_made_with_an_older_sealing_threshold(tmp_path: Path):
    # Given a shard made when a seal changed nothing below 20,000 KB of vectors
    made = EdgeVectorStore(tmp_path, "test_col", dimensions=3, seal_every=1000)
    now = made._config()
    older = EdgeConfig(
        vectors=now.vectors,
        sparse_vectors=now.sparse_vectors,
        hnsw_config=now.hnsw_config,
        payload_memory=now.payload_memory,
        optimizers=EdgeOptimizersConfig(indexing_threshold=20_000, default_segment_number=64),
    )
    EdgeShard.create(str(tmp_path / "test_col"), older).close()
    # When this code opens it and writes 1,000 points
    made.upsert([_point(n, "acme", "d1", "v1", [1, 0, 0]) for n in range(1000)])
    # Then the seal made an immutable segment of them
    assert made._open.info().segments_count == 2
    made.close()


def test_edge_keeps_its_payload_indexes_on_disk(tmp_path: Path):
    # Given a new store
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3)
    # When it makes its shard
    store.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    # Then every payload index the filters use is memory-mapped, none held in memory
    schema = store._open.info().payload_schema
    assert set(schema) == {"tenant_id", "case_id", "document_id", "version"}
    assert {field: index.params.memory for field, index in schema.items()} == dict.fromkeys(
        schema, Memory.Cold
    )
    store.close()


# Counts the malloc arenas in use after 4 threads each allocate (glibc's malloc_info report),
# in a process of its own: the setting is process-wide. With "claim", a store claims its shard
# first.
_ARENAS_OF_THREADS = """
import ctypes, sys, threading
from pathlib import Path

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
if sys.argv[1] == "claim":
    from docproc.vectors.edge import EdgeVectorStore

    EdgeVectorStore(Path(sys.argv[2]), "test_col", 3).claim()
barrier = threading.Barrier(5)

def allocate():
    libc.malloc(4096)  # kept, so the thread's arena stays in use
    barrier.wait()

threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
barrier.wait()
for thread in threads:
    thread.join()
report = Path(sys.argv[2]) / "malloc-info.xml"
out = libc.fopen(str(report).encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(out))
libc.fclose(ctypes.c_void_p(out))
print(report.read_text().count("<heap nr="))
"""


def _arenas_of_threads(tmp_path: Path, claim: bool) -> int:
    folder = tmp_path / ("claimed" if claim else "unclaimed")
    folder.mkdir()
    ran = subprocess.run(
        [sys.executable, "-c", _ARENAS_OF_THREADS, "claim" if claim else "none", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(ran.stdout)


def test_the_process_that_holds_an_edge_shard_allocates_from_one_malloc_arena(tmp_path: Path):
    # Given a process whose threads each allocate from an arena of their own (glibc's default)
    if _arenas_of_threads(tmp_path, claim=False) < 2:
        pytest.skip("this C library does not give threads arenas of their own")
    # When a process claims a shard before its threads allocate
    arenas = _arenas_of_threads(tmp_path, claim=True)
    # Then they all allocate from the one arena, whose freed pages a trim gives back: the
    # runner's threads write to the shard, and each arena would keep pages of its own
    assert arenas == 1


def test_edge_does_not_merge_sealed_segments_past_its_target_number_of_segments(tmp_path: Path):
    # Given a store of 3-dimensional vectors sealed every 100 points
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3, seal_every=100)
    # When more seals are made than the segments Qdrant's optimizers aim at (64)
    seals = SEGMENT_TARGET + 6
    _write_in_batches(store, points=seals * 100, batch=100)
    # Then each is a segment of its own, none merged into a larger one that a seal would build
    # in memory, beside the appendable segment
    assert store._open.info().segments_count == seals + 1
    assert store.count("acme", "d1") == seals * 100
    store.close()


def test_edge_journals_staging_and_folds_the_journal_into_the_list_at_the_next_opening(
    tmp_path: Path,
):
    listed = tmp_path / "test_col" / "docproc-staged-versions.json"
    journal = tmp_path / "test_col" / "docproc-staged-versions.journal"
    # Given a process that staged v1 and v2 of d1 and published v1, and was killed before it
    # closed the shard, in the middle of appending a third change
    first = EdgeVectorStore(tmp_path, "test_col", dimensions=3)
    first.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0], False)])
    first.upsert([_point(2, "acme", "d1", "v2", [0, 1, 0], False)])
    first.publish_version("acme", "d1", "v1", retire_others=False)
    assert json.loads(listed.read_text()) == []  # the list was not rewritten per change
    first._open.flush()
    with journal.open("a") as torn:
        torn.write('["-", "acme", "d1", "v2"')
    first.close()
    # When the next process opens the shard
    second = EdgeVectorStore(tmp_path, "test_col", dimensions=3)
    hits = second.search([1, 1, 0], "acme", limit=10)
    # Then v1 is searchable, v2 is still staged (the cut-short line is not applied), and the
    # journal is now in the list
    assert [h.payload["version"] for h in hits] == ["v1"]
    assert json.loads(listed.read_text()) == [["acme", "d1", "v2"]]
    assert not journal.exists()
    second.close()


def test_edge_finds_the_staged_versions_of_a_shard_made_before_the_list(tmp_path: Path):
    # Given a shard whose points carry the server's staging flag and no list beside it, as
    # shards made before it: v1 published, v2 staged
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3)
    store.ensure_collection()
    store.close()
    (tmp_path / "test_col" / "docproc-staged-versions.json").unlink()
    shard = EdgeShard.load(str(tmp_path / "test_col"))
    shard.update(
        UpdateOperation.upsert_points(
            [
                Point(id=point.id, vector={"": point.vector}, payload=point.payload)
                for point in [
                    _point(1, "acme", "d1", "v1", [1, 0, 0], visible=True),
                    _point(2, "acme", "d1", "v2", [1, 0, 0], visible=False),
                ]
            ]
        )
    )
    shard.flush()
    shard.close()
    # When the store opens it
    store = EdgeVectorStore(tmp_path, "test_col", dimensions=3)
    # Then the staged version stays hidden until it is published
    assert {h.payload["version"] for h in store.search([1, 0, 0], "acme")} == {"v1"}
    store.publish_version("acme", "d1", "v2", retire_others=True)
    assert {h.payload["version"] for h in store.search([1, 0, 0], "acme")} == {"v2"}
    store.close()
