"""The VectorStore port's contract, on Qdrant (the real client in its in-process mode, and over
REST against the loopback server the e2e functions share) and on the laptop's SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from docproc.errors import EmbeddingDimensionMismatch
from docproc.vectors.port import VectorPoint, VectorStore, collection_name
from docproc.vectors.qdrant import QdrantVectorStore
from docproc.vectors.sqlite import SQLiteVectorStore
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


@pytest.fixture(params=["qdrant", "qdrant-rest", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "sqlite":
        yield SQLiteVectorStore(tmp_path / "vectors.sqlite3", "test_col", dimensions=3)
    elif request.param == "qdrant-rest":
        with qdrant_server() as server:
            yield QdrantVectorStore(server.client(), "test_col", dimensions=3)
    else:
        yield QdrantVectorStore(QdrantClient(location=":memory:"), "test_col", dimensions=3)


def test_collection_names_separate_models_and_sizes():
    assert collection_name("docproc", "text-embedding-3-small", 1536) == (
        "docproc_text-embedding-3-small_1536"
    )
    assert collection_name("docproc", "hashing-v1", 384) != collection_name(
        "docproc", "hashing-v1", 768
    )


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


def test_sqlite_store_refuses_a_collection_of_another_size(tmp_path: Path):
    path = tmp_path / "vectors.sqlite3"
    SQLiteVectorStore(path, "shared", dimensions=3).ensure_collection()
    other = SQLiteVectorStore(path, "shared", dimensions=5)
    with pytest.raises(EmbeddingDimensionMismatch):
        other.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0, 0, 0])])


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


def test_sqlite_collections_in_one_file_stay_apart(tmp_path: Path):
    # Given two embedders' collections in the laptop's one file (another model, another size)
    path = tmp_path / "vectors.sqlite3"
    small = SQLiteVectorStore(path, "docproc_hashing-v1_3", dimensions=3)
    large = SQLiteVectorStore(path, "docproc_text-embedding-3-small_5", dimensions=5)
    small.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0])])
    large.upsert([_point(1, "acme", "d1", "v1", [1, 0, 0, 0, 0])])
    # Then each searches, counts and deletes only its own points
    assert len(small.search([1, 0, 0], "acme")) == 1
    assert len(large.search([1, 0, 0, 0, 0], "acme")) == 1
    small.delete_document("acme", "d1")
    assert small.count("acme", "d1") == 0 and large.count("acme", "d1") == 1
