"""The Reindex state machine in moto's engine: completed documents' chunks, read from the
collection in use, embedded into another model's collection, with nothing extracted or chunked
again, resumable per segment."""

from __future__ import annotations

import json

import pytest
from qdrant_client import QdrantClient, models

from benchmarks.generators import text_pdf
from docproc.embedding.sparse import Bm25Encoder
from docproc.local.cli import main
from docproc.models import reindex_manifest_key
from tests.e2e.harness import BUCKET, DeployedStack
from tests.e2e.test_backfill import command_line_logging  # noqa: F401 (a fixture)
from tests.e2e.test_delete import document_points


def _objects(stack: DeployedStack, suffix: str) -> dict[str, str]:
    """Keys under work/ ending in ``suffix`` -> ETag and last-modified: a rewrite shows."""
    listed = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="work/").get("Contents", [])
    return {
        item["Key"]: f"{item['ETag']}@{item['LastModified'].isoformat()}"
        for item in listed
        if item["Key"].endswith(suffix)
    }


def _ingest_two_documents(stack: DeployedStack, tmp_path) -> None:
    pdf = text_pdf(tmp_path / "record.pdf", pages=120)  # 3 segments of 50 pages
    for key, body in (
        ("uploads/acme/case-1/record-1/record.pdf", pdf.read_bytes()),
        ("uploads/acme/case-1/notes-1/notes.txt", b"The arbitration seat is Geneva.\n" * 40),
    ):
        (event,) = stack.upload(key, body)
        assert stack.run(event)["status"] == "SUCCEEDED"


@pytest.mark.built_artifacts
def test_reindex_embeds_every_completed_segment_into_the_new_collection_once(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
):
    # Given two documents ingested on the stack's model (hashing, 384 dimensions), their
    # chunk files since expired with work/
    _ingest_two_documents(stack, tmp_path)
    (in_use,) = [c.name for c in qdrant.get_collections().collections]
    points = qdrant.count(in_use).count
    for chunk_file in _objects(stack, ".chunks.jsonl"):
        stack.s3.delete_object(Bucket=BUCKET, Key=chunk_file)
    stack.invocations.clear()
    # When the Reindex state machine runs into a 256-dimension collection
    execution = stack.reindex("text-embedding-3-large", 256)
    # Then it succeeds, reporting both documents and their four segments
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    report = json.loads(execution["output"])["report"]
    assert (report["documents"], report["segments"], report["dry_run"]) == (2, 4, False)
    assert report["tokens"] > 0 and report["collection"].endswith("_256")
    # And only the Reindex function ran: one plan, then one invocation per segment
    actions = [payload["action"] for name, payload in stack.invocations]
    assert {name for name, _ in stack.invocations} == {"ReindexFunction"}
    assert sorted(actions) == ["plan"] + ["segment"] * 4
    # And the new collection holds every chunk once, the same points with the same payloads
    # as the one in use, which is untouched
    assert _payloads(qdrant, report["collection"]) == _payloads(qdrant, in_use)
    assert qdrant.count(in_use).count == points
    # And no chunk file was written (nothing extracted or chunked), and each segment has its
    # marker
    assert _objects(stack, ".chunks.jsonl") == {}
    markers = _objects(stack, ".json")
    markers = {k: v for k, v in markers.items() if "/reindexed/" in k}
    assert len(markers) == 4
    # And its plan and its Map Run's results lie under jobs/, apart from the documents' outputs
    plan, results = stack.object_keys("jobs/")
    assert plan == reindex_manifest_key(report["collection"], execution["name"])
    assert results.startswith("jobs/reindex/results/")
    # Given two segments' points gone from the new collection, and the marker of one of them
    # (as if its run had been cut short before the marker)
    cut_short, done = sorted(markers)[:2]
    stack.s3.delete_object(Bucket=BUCKET, Key=cut_short)
    for marker in (cut_short, done):
        qdrant.delete(report["collection"], points_selector=_segment_points(marker))
    # When the re-index runs again
    again = stack.reindex("text-embedding-3-large", 256)
    # Then only the segment without a marker is embedded again
    assert again["status"] == "SUCCEEDED", again.get("cause")
    new = report["collection"]
    assert qdrant.count(new, count_filter=_segment_points(cut_short)).count > 0
    assert qdrant.count(new, count_filter=_segment_points(done)).count == 0
    # Given the new collection dropped (its markers stay behind)
    qdrant.delete_collection(new)
    # When the re-index runs again
    rebuilt = stack.reindex("text-embedding-3-large", 256)
    # Then Plan made the collection anew and every segment was embedded into it
    assert rebuilt["status"] == "SUCCEEDED", rebuilt.get("cause")
    assert qdrant.count(new).count == points


def _payloads(qdrant: QdrantClient, collection: str) -> dict[str, dict[str, object]]:
    """Every point of ``collection``: id -> payload."""
    records, _ = qdrant.scroll(collection, limit=10_000, with_payload=True)
    return {str(record.id): record.payload or {} for record in records}


def _segment_points(marker_key: str) -> models.Filter:
    """The points of the segment whose marker this is: work/{tenant}/{document}/{version}/
    reindexed/{collection}/NNNNN.json."""
    parts = marker_key.split("/")
    return models.Filter(
        must=[
            models.FieldCondition(key="document_id", match=models.MatchValue(value=parts[2])),
            models.FieldCondition(
                key="segment", match=models.MatchValue(value=int(parts[-1].split(".")[0]))
            ),
        ]
    )


@pytest.mark.built_artifacts
def test_a_segment_that_fails_fails_the_reindex_unless_its_share_is_tolerated(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
):
    # Given two documents ingested (four segments), one point of the collection in use whose
    # payload is no longer a chunk (its text removed by hand)
    _ingest_two_documents(stack, tmp_path)
    (in_use,) = [c.name for c in qdrant.get_collections().collections]
    (point, *_), _ = qdrant.scroll(in_use, limit=1, with_payload=True, with_vectors=True)
    assert point.vector is not None and point.payload is not None
    del point.payload["text"]
    qdrant.upsert(
        in_use, [models.PointStruct(id=point.id, vector=point.vector, payload=point.payload)]
    )
    # When the Reindex state machine runs, tolerating no failed segment
    failed = stack.reindex("text-embedding-3-large", 256)
    # Then it fails as a Map Run past its threshold fails, not as a success short of a segment
    assert failed["status"] == "FAILED"
    assert failed["error"] == "States.ExceedToleratedFailureThreshold"
    # When it runs again, tolerating one segment in four
    tolerated = stack.reindex("text-embedding-3-large", 256, tolerated=25)
    # Then it succeeds, with every other segment's points in the new collection
    assert tolerated["status"] == "SUCCEEDED", tolerated.get("cause")
    collection = json.loads(tolerated["output"])["report"]["collection"]
    markers = [key for key in _objects(stack, ".json") if "/reindexed/" in key]
    assert len(markers) == 3
    assert 0 < qdrant.count(collection).count < qdrant.count(_in_use(qdrant, collection)).count


def _in_use(qdrant: QdrantClient, other_than: str) -> str:
    (name,) = [c.name for c in qdrant.get_collections().collections if c.name != other_than]
    return name


def _dense_only_collection_of_two_documents(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
) -> tuple[str, int]:
    """The stack's collection, made as before hybrid search (dense vectors only), with two
    documents ingested into it: its name and its number of points."""
    legacy = "docproc_hashing-v2_384"
    qdrant.create_collection(
        legacy, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    _ingest_two_documents(stack, tmp_path)
    return legacy, qdrant.count(legacy).count


def _first_by_bm25(qdrant: QdrantClient, collection: str, text: str) -> str | None:
    """The document of the best BM25 match for ``text`` in ``collection``."""
    keywords = Bm25Encoder().encode_query(text)
    hits = qdrant.query_points(
        collection,
        query=models.SparseVector(indices=keywords.indices, values=keywords.values),
        using="bm25",
        limit=1,
    ).points
    return str(hits[0].payload["document_id"]) if hits and hits[0].payload else None


def test_a_collection_from_before_hybrid_search_moves_to_a_new_prefix_with_bm25(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
):
    # Given the stack's collection made before hybrid search (dense vectors only), and two
    # documents ingested into it
    legacy, points = _dense_only_collection_of_two_documents(stack, qdrant, tmp_path)
    # When the Reindex state machine runs with the same model under another collection prefix
    execution = stack.reindex("text-embedding-3-small", 384, collection_prefix="hybrid")
    # Then the new collection holds every chunk, with the BM25 vector beside the dense one
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    new = json.loads(execution["output"])["report"]["collection"]
    assert new == "hybrid_hashing-v2_384" and qdrant.count(new).count == points > 0
    assert set(qdrant.get_collection(new).config.params.sparse_vectors or {}) == {"bm25"}
    assert _first_by_bm25(qdrant, new, "arbitration seat Geneva") == "notes-1"
    # And the collection in use is as it was
    assert not qdrant.get_collection(legacy).config.params.sparse_vectors
    assert qdrant.count(legacy).count == points


def test_a_collection_from_before_hybrid_search_gets_bm25_vectors_in_place(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
):
    # Given the stack's collection made before hybrid search (dense vectors only), and two
    # documents ingested into it
    legacy, points = _dense_only_collection_of_two_documents(stack, qdrant, tmp_path)
    before, _ = qdrant.scroll(legacy, limit=points, with_vectors=True)
    stack.invocations.clear()
    # When the Reindex state machine sets their BM25 vectors in place
    execution = stack.reindex("text-embedding-3-small", 384, bm25_only=True)
    # Then it succeeds on the collection in use, with only the Reindex function run
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    report = json.loads(execution["output"])["report"]
    assert report["collection"] == legacy and report["documents"] == 2
    # (one plan, then one item a document)
    actions = sorted(payload["action"] for _, payload in stack.invocations)
    assert {name for name, _ in stack.invocations} == {"ReindexFunction"}
    assert actions == ["plan", "segment", "segment"]
    # And the collection has the sparse vector, every point its weights beside its dense
    # vector as it was
    assert set(qdrant.get_collection(legacy).config.params.sparse_vectors or {}) == {"bm25"}
    after, _ = qdrant.scroll(legacy, limit=points, with_vectors=True)
    assert len(after) == points
    dense = {point.id: point.vector for point in before}  # unnamed: a list each
    for point in after:
        assert isinstance(point.vector, dict) and point.vector[""] == dense[point.id]
        assert point.vector["bm25"]
    assert _first_by_bm25(qdrant, legacy, "arbitration seat Geneva") == "notes-1"


def test_deleting_an_upload_deletes_its_points_from_the_collections_it_was_reindexed_into(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path
):
    # Given two documents re-indexed into a new model's collection
    _ingest_two_documents(stack, tmp_path)
    execution = stack.reindex("text-embedding-3-large", 256)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    new = json.loads(execution["output"])["report"]["collection"]
    in_use = _in_use(qdrant, new)
    # And their re-index markers expired with work/ (the ledger still names the collection)
    markers = [key for key in _objects(stack, ".json") if "/reindexed/" in key]
    assert markers
    stack.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key} for key in markers]})
    # When one upload is deleted
    (result,) = stack.delete("uploads/acme/case-1/notes-1/notes.txt")
    # Then its points are gone from both collections, the other document's stay
    assert result["skipped"] is False
    for collection in (in_use, new):
        assert document_points(qdrant, collection, "notes-1") == 0
        assert document_points(qdrant, collection, "record-1") > 0


def test_a_tenant_named_reindex_keeps_its_documents_apart_from_the_re_index_s_state(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a tenant named "reindex" with a document named "results": its work/ prefix,
    # work/reindex/results/, is where a re-index kept its Map results before jobs/
    key = "uploads/reindex/case-1/results/notes.txt"
    (event,) = stack.upload(key, b"The arbitration seat is Geneva.\n" * 40)
    assert stack.run(event)["status"] == "SUCCEEDED"
    # And a re-index of it
    execution = stack.reindex("text-embedding-3-large", 256)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    collection = json.loads(execution["output"])["report"]["collection"]
    assert document_points(qdrant, collection, "results") > 0
    jobs = stack.object_keys("jobs/")
    # When the document is deleted
    (deleted,) = stack.delete(key)
    assert deleted["skipped"] is False
    # Then its points and outputs are gone, and what the re-index keeps is not
    assert document_points(qdrant, collection, "results") == 0
    assert stack.object_keys("work/") == []
    assert len(jobs) == 2 and stack.object_keys("jobs/") == jobs


def test_reindex_into_the_collection_in_use_fails_typed(stack: DeployedStack, tmp_path):
    # Given an ingested document
    _ingest_two_documents(stack, tmp_path)
    # When the re-index names the model and size in use
    execution = stack.reindex("text-embedding-3-small", 384)
    # Then it fails at Plan with the typed error, having written nothing
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ReindexTargetInUse"
    assert not [k for k in stack.object_keys("jobs/")]


def test_docproc_reindex_dry_run_reports_from_the_cloud(
    stack: DeployedStack,
    qdrant: QdrantClient,
    tmp_path,
    monkeypatch,
    capsys,
    command_line_logging,  # noqa: F811
):
    # Given an ingested stack
    _ingest_two_documents(stack, tmp_path)
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path / "home"))
    arn = stack.state_machine_arns["ReindexStateMachine"]
    collections = qdrant.get_collections().collections
    capsys.readouterr()  # what the ingests logged
    # When an operator asks `docproc reindex --dry-run` of the stack
    code = main(
        [
            *("reindex", "--model", "m2", "--dimensions", "512", "--dry-run", "--json"),
            *("--state-machine-arn", arn),
        ]
    )
    # Then it prints the cloud's plan: both documents, their tokens, and did nothing
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["documents"] == 2 and report["segments"] == 4
    assert report["tokens"] > 0 and report["chunks"] == 0
    assert qdrant.get_collections().collections == collections
    assert not [k for k in stack.object_keys("jobs/")]


def test_docproc_reindex_bm25_only_runs_in_the_cloud_on_the_collection_in_use(
    stack: DeployedStack,
    qdrant: QdrantClient,
    tmp_path,
    monkeypatch,
    capsys,
    command_line_logging,  # noqa: F811
):
    # Given the stack's collection made before hybrid search, with two documents in it
    legacy, _ = _dense_only_collection_of_two_documents(stack, qdrant, tmp_path)
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path / "home"))
    arn = ("--state-machine-arn", stack.state_machine_arns["ReindexStateMachine"])
    capsys.readouterr()  # what the ingests logged
    # When an operator asks `docproc reindex --bm25-only --dry-run` of the stack
    assert main(["reindex", "--bm25-only", "--dry-run", "--json", *arn]) == 0
    # Then the cloud's plan names the collection in use, at no embedding cost, and changed
    # nothing
    report = json.loads(capsys.readouterr().out)
    assert report["collection"] == legacy and report["documents"] == 2
    assert report["dry_run"] and report["estimated_cost_usd"] == 0
    assert not qdrant.get_collection(legacy).config.params.sparse_vectors
    # When it is run for real
    assert main(["reindex", "--bm25-only", "--json", *arn]) == 0
    execution = stack.wait(json.loads(capsys.readouterr().out)["execution_arn"])
    # Then the collection in use has its BM25 vectors
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert _first_by_bm25(qdrant, legacy, "arbitration seat Geneva") == "notes-1"
