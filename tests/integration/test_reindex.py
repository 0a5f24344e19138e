"""`docproc reindex`: chunk files embedded again into another model's collection."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from qdrant_client import models

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.errors import StoredChunkInvalid
from docproc.ledger.records import utc_now
from docproc.local.runner import LocalEnvironment, SegmentFailures, ingest
from docproc.models import point_id
from docproc.pipeline.reindex import reindex
from docproc.vectors.port import VectorPoint, VectorStore
from tests.builders import document_ref
from tests.integration.test_laptop_runner import run
from tests.integration.test_reindex_during_delete import (
    ingested_for_reindex,
    reindex_deps,
    reindex_into,
)
from tests.qdrant_server import QdrantServer, qdrant_server
from tests.stub_openai import stub_openai


def _chunk_files(home: Path) -> dict[str, str]:
    """Every chunk file under the state folder: path -> sha256 and mtime."""
    return {
        str(path.relative_to(home)): f"{hashlib.sha256(path.read_bytes()).hexdigest()}"
        f"@{path.stat().st_mtime_ns}"
        for path in sorted((home / "objects").rglob("*.chunks.jsonl"))
    }


def test_reindex_embeds_the_chunk_files_again_into_the_new_models_collection(tmp_path: Path):
    home = tmp_path / "home"
    # Given two ingested documents on the default model (hashing, 384 dimensions)
    run(home, "ingest", str(text_pdf(tmp_path / "record.pdf", pages=60)), "--document-id", "rec")
    notes = tmp_path / "notes.txt"
    notes.write_text("The arbitration clause names Geneva as the seat.\n" * 30)
    run(home, "ingest", str(notes))
    chunk_files = _chunk_files(home)
    old_hits = json.loads(run(home, "search", "arbitration Geneva", "--json").stdout)
    # When a dry run asks what a re-index to 256 dimensions would do
    dry = json.loads(
        run(home, "reindex", "--model", "m2", "--dimensions", "256", "--dry-run", "--json").stdout
    )
    # Then it reports the work and its tokens, and does nothing
    assert dry["dry_run"] and dry["documents"] == 2 and dry["segments"] == 3
    assert dry["tokens"] > 0 and dry["chunks"] == 0
    assert dry["collection"].endswith("_256")
    # When it runs
    done = json.loads(run(home, "reindex", "--model", "m2", "--dimensions", "256", "--json").stdout)
    # Then every chunk of every segment went into the new collection
    assert done["segments"] == 3 and done["segments_skipped"] == 0 and done["chunks"] > 0
    # And no chunk file was rewritten (nothing was extracted or chunked again)
    assert _chunk_files(home) == chunk_files
    # And the collection in use still answers as before
    assert json.loads(run(home, "search", "arbitration Geneva", "--json").stdout) == old_hits
    # And search on the new model finds the documents in its own collection
    new_hits = json.loads(
        run(home, "search", "arbitration Geneva", "--json", EMBEDDING_DIMENSIONS="256").stdout
    )
    assert new_hits and new_hits[0]["document_id"] == "notes"
    # When it runs again, nothing is redone
    again = json.loads(
        run(home, "reindex", "--model", "m2", "--dimensions", "256", "--json").stdout
    )
    assert again["segments_skipped"] == 3 and again["chunks"] == 0
    # When the new collection is deleted (its markers stay behind) and the re-index runs again
    shutil.rmtree(home / "vectors" / done["collection"])
    rebuilt = json.loads(
        run(home, "reindex", "--model", "m2", "--dimensions", "256", "--json").stdout
    )
    # Then every segment is embedded into the new one: the markers were the old collection's
    assert rebuilt["segments_skipped"] == 0 and rebuilt["chunks"] == done["chunks"]


@pytest.mark.parametrize(
    ("reindex", "configuration", "error"),
    [
        # into the collection in use: nothing to re-index
        (("--model", "any", "--dimensions", "384"), {}, "ReindexTargetInUse"),
        # from a collection in use nothing was ingested into: nothing to read the chunks from
        (
            ("--model", "m2", "--dimensions", "256"),
            {"EMBEDDING_DIMENSIONS": "128"},
            "ReindexSourceMissing",
        ),
        # BM25 vectors for a collection that does not exist
        (("--bm25-only", "--collection-prefix", "nothing"), {}, "ReindexTargetMissing"),
    ],
)
def test_a_reindex_that_cannot_be_done_is_refused_typed(
    tmp_path: Path, reindex: tuple[str, ...], configuration: dict[str, str], error: str
):
    # Given a document ingested
    home = tmp_path / "home"
    notes = tmp_path / "notes.txt"
    notes.write_text("one line\n")
    run(home, "ingest", str(notes))
    # When a re-index that cannot be done is asked for
    result = run(home, "reindex", *reindex, "--json", check=False, **configuration)
    # Then it is refused, typed, and no collection is made
    assert result.returncode == 1 and error in result.stderr
    assert [shard.name for shard in (home / "vectors").iterdir() if shard.is_dir()] == [
        "docproc_hashing-v2_384"
    ]


def test_a_hashing_v1_collection_is_reindexed_into_hashing_v2(tmp_path: Path):
    home = tmp_path / "home"
    notes = tmp_path / "notes.txt"
    notes.write_text("The arbitration clause names Geneva as the seat.\n" * 30)
    # Given a document ingested by hashing-v1, the offline embedder's first version
    run(home, "ingest", str(notes), EMBEDDING_MODEL="hashing-v1")
    query = ("search", "arbitration Geneva", "--mode", "dense", "--json")
    v1_hits = json.loads(run(home, *query, EMBEDDING_MODEL="hashing-v1").stdout)
    assert [hit["document_id"] for hit in v1_hits] == ["notes"]
    # When it is re-indexed into the default, hashing-v2, as README says
    done = json.loads(
        run(home, "reindex", "--model", "hashing-v2", "--json", EMBEDDING_MODEL="hashing-v1").stdout
    )
    # Then hashing-v2's collection holds its chunks and the default search finds it there
    assert done["collection"] == "docproc_hashing-v2_384" and done["chunks"] == 1
    v2_hits = json.loads(run(home, *query).stdout)
    assert [hit["document_id"] for hit in v2_hits] == ["notes"]
    # with hashing-v2's vectors (its own cosine), not copies of hashing-v1's
    assert v2_hits[0]["score"] != v1_hits[0]["score"]


def test_reindex_through_an_embeddings_api_keeps_requests_in_flight(tmp_path: Path):
    home = tmp_path / "home"
    notes = tmp_path / "notes.txt"
    notes.write_text(
        "".join(f"Clause {i}: the lessee pays rent in Geneva.\n\n" for i in range(200))
    )
    # Given a document ingested offline, and an embeddings API that takes a while to answer
    run(home, "ingest", str(notes), CHUNK_TOKENS="64", CHUNK_OVERLAP="0")
    chunks = sum(
        len(path.read_text().splitlines()) for path in (home / "objects").rglob("*.chunks.jsonl")
    )
    with stub_openai() as api:
        api.under_way.delay_seconds = 0.05
        api.under_way.gather = 3
        openai = {
            "EMBEDDER": "openai",
            "OPENAI_BASE_URL": api.url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_REQUESTS_IN_FLIGHT": "3",
            "EMBED_BATCH_SIZE": "4",
        }
        # When it is re-indexed into that API's model, in batches of 4, 3 requests in flight
        # (the collection in use still named: the one the document was ingested into)
        in_use = {"EMBEDDING_MODEL": "hashing-v2", "EMBEDDING_DIMENSIONS": "384"}
        new_model = ("reindex", "--model", "text-embedding-3-small", "--dimensions", "8")
        done = json.loads(run(home, *new_model, "--json", **openai, **in_use).stdout)
        # Then the requests overlapped, never more than 3, and every chunk reached the
        # laptop's store (upserted in turn by a thread of their own)
        assert api.under_way.most_at_once == 3
        assert done["chunks"] == chunks > 12
        hits = json.loads(
            run(
                home, "search", "lessee Geneva", "--json", EMBEDDING_DIMENSIONS="8", **openai
            ).stdout
        )
    assert hits and hits[0]["document_id"] == "notes"


def _dense_only_collection_with_notes(server: QdrantServer, home: Path, tmp_path: Path) -> str:
    """The default collection on ``server``, made as before hybrid search (dense vectors only),
    and a document with an invoice number ingested into it by ``docproc ingest``."""
    legacy = "docproc_hashing-v2_384"
    server.engine.create_collection(
        legacy, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    notes = tmp_path / "notes.txt"
    notes.write_text(
        "Invoice INV-20931 is due within thirty days.\n\n"
        + "The arbitration clause names Geneva as the seat.\n" * 30
    )
    run(home, "ingest", str(notes), QDRANT_URL=server.url)
    return legacy


def test_a_collection_from_before_hybrid_search_is_reindexed_into_one_with_bm25(tmp_path: Path):
    home = tmp_path / "home"
    with qdrant_server() as server:
        qdrant = {"QDRANT_URL": server.url}
        # Given a Qdrant collection made before hybrid search (dense vectors only), and a
        # document ingested into it
        legacy = _dense_only_collection_with_notes(server, home, tmp_path)
        keywords = ("search", "INV-20931", "--mode", "bm25", "--json")
        assert json.loads(run(home, *keywords, **qdrant).stdout) == []
        points = server.engine.count(legacy).count
        # When it is re-indexed with the same model under a new collection prefix
        done = json.loads(
            run(
                home,
                *("reindex", "--model", "hashing-v2", "--collection-prefix", "hybrid", "--json"),
                **qdrant,
            ).stdout
        )
        # Then the new collection holds every chunk, each with its BM25 vector
        new = "hybrid_hashing-v2_384"
        assert done["collection"] == new and done["chunks"] == points > 0
        assert set(server.engine.get_collection(new).config.params.sparse_vectors or {}) == {"bm25"}
        # And keyword search there finds the identifier
        hits = json.loads(run(home, *keywords, QDRANT_COLLECTION_PREFIX="hybrid", **qdrant).stdout)
        assert hits[0]["document_id"] == "notes" and "INV-20931" in hits[0]["text"]
        # And the collection in use is as it was: dense only, the same points
        assert not server.engine.get_collection(legacy).config.params.sparse_vectors
        assert server.engine.count(legacy).count == points


def test_a_collection_prefix_that_cannot_name_a_collection_is_refused(tmp_path: Path):
    result = run(
        tmp_path / "home",
        *("reindex", "--model", "hashing-v2", "--collection-prefix", "new prefix"),
        check=False,
    )
    assert result.returncode == 2 and "--collection-prefix" in result.stderr


def test_a_reindex_run_again_keeps_only_the_version_completed_since(tmp_path: Path):
    home = tmp_path / "home"
    notes = tmp_path / "notes.txt"
    notes.write_text("The arbitration clause names Geneva as the seat.\n" * 30)
    new_model = ("--model", "m2", "--dimensions", "256", "--json")
    # Given a document re-indexed into another model's collection
    run(home, "ingest", str(notes))
    first = json.loads(run(home, "reindex", *new_model).stdout)
    # And a new version of it completed since (the collection in use retired the first)
    notes.write_text("The arbitration clause names Zurich as the seat.\n" * 30)
    run(home, "ingest", str(notes))
    # When the re-index runs again
    again = json.loads(run(home, "reindex", *new_model).stdout)
    # Then it embedded the new version, and the new collection holds it alone, as the
    # collection in use does
    assert again["chunks"] == first["chunks"] > 0
    query = ("search", "arbitration seat", "--top-k", "50", "--json")
    in_use = json.loads(run(home, *query).stdout)
    moved = json.loads(run(home, *query, EMBEDDING_DIMENSIONS="256").stdout)
    assert {hit["version"] for hit in moved} == {hit["version"] for hit in in_use}
    assert len({hit["version"] for hit in moved}) == 1
    assert all("Zurich" in hit["text"] for hit in moved)


def test_a_deleted_document_leaves_no_point_in_the_collections_it_was_reindexed_into(
    tmp_path: Path,
):
    home = tmp_path / "home"
    # Given three documents of two cases, re-indexed into another model's collection
    for name, case in (("one", "c-1"), ("two", "c-1"), ("other", "c-2")):
        notes = tmp_path / f"{name}.txt"
        notes.write_text(f"The arbitration clause of {name} names Geneva as the seat.\n" * 30)
        run(home, "ingest", str(notes), "--case", case)
    run(home, "reindex", "--model", "m2", "--dimensions", "256")
    # By a docproc from before the ledger recorded the collections: only markers name it
    with sqlite3.connect(home / "ledger.sqlite3") as ledger:
        assert ledger.execute("DELETE FROM collections").rowcount == 2
    query = ("search", "arbitration Geneva", "--top-k", "50", "--json")
    # When one document is deleted, then the rest of its case
    run(home, "delete", "one")
    run(home, "delete", "--case", "c-1")
    # Then neither the collection in use nor the re-indexed one holds their points
    for dimensions in ("384", "256"):
        hits = json.loads(run(home, *query, EMBEDDING_DIMENSIONS=dimensions).stdout)
        assert {hit["document_id"] for hit in hits} == {"other"}


def test_deletions_reach_both_collections_of_a_reindex_after_its_markers_expired_and_a_switch(
    tmp_path: Path,
):
    home = tmp_path / "home"
    # Given three documents re-indexed from the collection in use (384) into another (256)
    for name in ("one", "two", "other"):
        notes = tmp_path / f"{name}.txt"
        notes.write_text(f"The arbitration clause of {name} names Geneva as the seat.\n" * 30)
        run(home, "ingest", str(notes))
    run(home, "reindex", "--model", "m2", "--dimensions", "256")
    # And the re-index markers expired with work/ (the search is not switched yet)
    markers = sorted((home / "objects" / "work").rglob("reindexed"))
    assert len(markers) == 3
    for folder in markers:
        shutil.rmtree(folder)
    query = ("search", "arbitration Geneva", "--top-k", "50", "--json")
    # When one document is deleted, then search is switched to 256 and another is deleted
    run(home, "delete", "one")
    run(home, "delete", "two", EMBEDDING_DIMENSIONS="256")
    # Then neither is left in either collection: the new one, and the one it was read from
    for dimensions in ("384", "256"):
        hits = json.loads(run(home, *query, EMBEDDING_DIMENSIONS=dimensions).stdout)
        assert {hit["document_id"] for hit in hits} == {"other"}


def test_a_collection_from_before_hybrid_search_gets_bm25_vectors_in_place(tmp_path: Path):
    home = tmp_path / "home"
    with qdrant_server() as server:
        qdrant = {"QDRANT_URL": server.url}
        # Given the collection in use made before hybrid search (dense vectors only), and a
        # document ingested into it
        legacy = _dense_only_collection_with_notes(server, home, tmp_path)
        keywords = ("search", "INV-20931", "--mode", "bm25", "--json")
        dense = ("search", "arbitration seat", "--mode", "dense", "--json")
        assert json.loads(run(home, *keywords, **qdrant).stdout) == []
        dense_before = json.loads(run(home, *dense, **qdrant).stdout)
        points = server.engine.count(legacy).count
        # When its BM25 vectors are set in place
        done = json.loads(run(home, "reindex", "--bm25-only", "--json", **qdrant).stdout)
        # Then the collection in use has the sparse vector and every point its weights, with
        # nothing paid for embeddings
        assert done["collection"] == legacy and done["estimated_cost_usd"] == 0
        assert done["chunks"] == points > 0
        assert set(server.engine.get_collection(legacy).config.params.sparse_vectors or {}) == {
            "bm25"
        }
        hits = json.loads(run(home, *keywords, **qdrant).stdout)
        assert hits[0]["document_id"] == "notes" and "INV-20931" in hits[0]["text"]
        # And its dense vectors and points are as they were
        assert json.loads(run(home, *dense, **qdrant).stdout) == dense_before
        assert server.engine.count(legacy).count == points
        # And run again, it does nothing more
        again = json.loads(run(home, "reindex", "--bm25-only", "--json", **qdrant).stdout)
        assert again["segments_skipped"] == again["documents"] == done["documents"] == 1
        assert again["chunks"] == 0


def test_bm25_vectors_are_set_from_the_points_own_text_when_chunk_files_have_expired(
    tmp_path: Path,
):
    home = tmp_path / "home"
    with qdrant_server() as server:
        # Given a dense-only collection with a document ingested long ago: its segment rows
        # and chunk files have since expired
        legacy = _dense_only_collection_with_notes(server, home, tmp_path)
        env = LocalEnvironment(LocalSettings(DOCPROC_HOME=home, QDRANT_URL=server.url))
        assert env.ledger.delete_expired_segments(utc_now() + timedelta(days=365)) == 1
        env.close()
        for chunk_file in (home / "objects" / "work").rglob("*.chunks.jsonl"):
            chunk_file.unlink()
        # When its BM25 vectors are set in place
        done = json.loads(
            run(home, "reindex", "--bm25-only", "--json", QDRANT_URL=server.url).stdout
        )
        # Then every point has them, from its own text: keyword search finds the identifier
        assert done["chunks"] == server.engine.count(legacy).count > 0
        keywords = ("search", "INV-20931", "--mode", "bm25", "--json")
        hits = json.loads(run(home, *keywords, QDRANT_URL=server.url).stdout)
        assert hits[0]["document_id"] == "notes" and "INV-20931" in hits[0]["text"]


# The chunks are looked up by id a batch at a time: with 4, a segment's 5 chunks end in a
# short batch; with 5, in a full one followed by an empty one.
@pytest.mark.parametrize("batch", ["4", "5"])
def test_documents_whose_segment_rows_and_chunk_files_expired_are_reindexed_whole(
    tmp_path: Path, batch: str
):
    home = tmp_path / "home"
    # Given a document ingested long ago (its segment rows since expired), one ingested now,
    # and one of three segments, one of whose rows went before the others'
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=home, SEGMENT_PAGES=5))
    for name in ("old", "new"):
        notes = tmp_path / f"{name}.txt"
        notes.write_text(f"The arbitration clause of {name} names Geneva as the seat.\n" * 30)
        ingest(env, notes, document_id=name)
        if name == "old":
            assert env.ledger.delete_expired_segments(utc_now() + timedelta(days=365)) == 1
    part = ingest(env, text_pdf(tmp_path / "record.pdf", pages=15), document_id="part")
    assert part.segments_total == 3
    in_use = {name: set(_version_texts(env.vectors, name, env)) for name in ("old", "new", "part")}
    env.close()
    with sqlite3.connect(home / "ledger.sqlite3") as ledger:
        ledger.execute("DELETE FROM segments WHERE document_id = 'part' AND idx = 1")
    # And every chunk file gone with work/
    for chunk_file in (home / "objects" / "work").rglob("*.chunks.jsonl"):
        chunk_file.unlink()
    # When they are re-indexed, the chunks looked up ``batch`` at a time
    report = json.loads(
        run(
            home,
            "reindex",
            "--model",
            "m2",
            "--dimensions",
            "256",
            "--json",
            EMBED_BATCH_SIZE=batch,
        ).stdout
    )
    # Then every document is in the new collection whole: the same points with the same
    # chunks as the collection in use, read from its points
    assert (report["documents"], report["segments"]) == (3, 5)
    target = LocalEnvironment(LocalSettings(DOCPROC_HOME=home, EMBEDDING_DIMENSIONS=256))
    for name, texts in in_use.items():
        assert set(_version_texts(target.vectors, name, target)) == texts
    assert report["chunks"] == sum(len(texts) for texts in in_use.values())
    target.close()
    query = ("search", "arbitration Geneva", "--top-k", "50", "--json")
    hits = json.loads(run(home, *query, EMBEDDING_DIMENSIONS="256").stdout)
    assert {hit["document_id"] for hit in hits} >= {"old", "new"}


def _version_texts(
    vectors: VectorStore, document_id: str, env: LocalEnvironment
) -> list[tuple[str, str]]:
    """A document's completed version's points in ``vectors``: (point id, chunk text)."""
    record = env.ledger.get_document("local", document_id)
    assert record is not None and record.completed_version is not None
    return [
        pair
        for batch in vectors.texts("local", document_id, record.completed_version, 256)
        for pair in batch
    ]


def test_a_stored_point_that_is_not_a_chunk_fails_its_segment_typed(tmp_path: Path):
    # Given a document's segment, one of whose points in the collection in use has lost its
    # text (changed by hand)
    env, target, item = ingested_for_reindex(tmp_path)
    (first,) = env.vectors.payloads([point_id("local", "notes", item.version, 0, 0)]).items()
    id_, payload = first
    env.vectors.upsert([VectorPoint(id=id_, vector=[1.0] * 384, payload={**payload, "text": None})])
    # When the segment is re-indexed
    with pytest.raises(StoredChunkInvalid) as raised:
        reindex_into(env, target, item, target.embedder)
    # Then it fails typed (not retried), naming the point and the field, never the text
    assert id_ in str(raised.value) and "(text)" in str(raised.value)
    assert "Geneva" not in str(raised.value)
    assert not target.store.exists(item.marker_key(target.vectors.collection))
    env.close()
    target.close()


def test_documents_whose_newer_upload_failed_or_is_under_way_are_reindexed_as_search_sees_them(
    tmp_path: Path, corpus: Path
):
    home = tmp_path / "home"
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=home))
    for name in ("lease", "memo"):
        notes = tmp_path / f"{name}.txt"
        notes.write_text(f"The arbitration clause of the {name} names Geneva as the seat.\n" * 30)
        ingest(env, notes, document_id=name)
    # Given a newer upload of the lease that failed (its pages cannot be read)
    broken = corpus / "malformed" / "T02-02_005_page-tree-no-kids.pdf"
    with pytest.raises(SegmentFailures):
        ingest(env, broken, document_id="lease")
    # And a newer upload of the memo under way (planned, four segments, none done)
    newer = document_ref("memo", "next").model_copy(
        update={"tenant_id": "local", "case_id": "default"}
    )
    env.ledger.start_document(newer, 4, None)
    statuses = {name: env.ledger.get_document("local", name) for name in ("lease", "memo")}
    assert {name: row.status for name, row in statuses.items() if row} == {
        "lease": "failed",
        "memo": "processing",
    }
    env.close()
    # When the collection is re-indexed
    report = json.loads(
        run(home, "reindex", "--model", "m2", "--dimensions", "256", "--json").stdout
    )
    # Then both are in it, with the versions search sees: their completed ones
    assert (report["documents"], report["segments"], report["chunks"]) == (2, 2, 2)
    query = ("search", "arbitration Geneva", "--json")
    hits = json.loads(run(home, *query, EMBEDDING_DIMENSIONS="256").stdout)
    assert {hit["document_id"] for hit in hits} == {"lease", "memo"}
    assert {hit["version"] for hit in hits} == {
        row.completed_version for row in statuses.values() if row
    }


def test_a_row_from_before_completed_totals_were_kept_is_reported_not_guessed(tmp_path: Path):
    home = tmp_path / "home"
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=home))
    notes = tmp_path / "memo.txt"
    notes.write_text("The arbitration clause names Geneva as the seat.\n" * 30)
    ingest(env, notes, document_id="memo")
    newer = document_ref("memo", "next").model_copy(
        update={"tenant_id": "local", "case_id": "default"}
    )
    env.ledger.start_document(newer, 4, None)
    env.close()
    # Given its row as an earlier docproc wrote it: a newer upload under way, and nothing
    # kept of the completed version's totals
    with sqlite3.connect(home / "ledger.sqlite3") as ledger:
        ledger.execute(
            "UPDATE documents SET body = json_remove(body, '$.completed_segments_total', "
            "'$.completed_tokens_total') WHERE document_id = 'memo'"
        )
    # When the collection is re-indexed
    result = run(home, "reindex", "--model", "m2", "--dimensions", "256")
    # Then the document is counted and said, not re-indexed with the newer version's totals
    assert "1 documents not re-indexed" in result.stderr
    report = json.loads(
        run(home, "reindex", "--model", "m2", "--dimensions", "256", "--json").stdout
    )
    counts = (report["documents"], report["documents_without_totals"], report["segments"])
    assert counts == (0, 1, 0)


def test_a_laptop_reindex_reports_its_progress_item_by_item(tmp_path: Path):
    # Given a document of three segments and one of one
    env, target, _ = ingested_for_reindex(tmp_path)
    ingest(env, text_pdf(tmp_path / "record.pdf", pages=120), document_id="record")
    # When they are re-indexed with a progress callback
    calls: list[tuple[int, int]] = []
    report = reindex(
        reindex_deps(env, target, target.embedder),
        progress=lambda done, total: calls.append((done, total)),
    )
    # Then it was told after each of the four segments, out of four
    assert report.segments == 4
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    env.close()
    target.close()
