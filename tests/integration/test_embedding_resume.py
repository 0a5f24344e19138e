"""A segment that fails part-way through embedding re-embeds, on retry, only what it had not
(an API's embeddings); the offline embedder embeds it whole again."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import openai
import pytest
from qdrant_client import QdrantClient

from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import token_counter
from docproc.embedding.hashing import HashingEmbedder
from docproc.embedding.openai import OpenAIEmbedder
from docproc.errors import TransientError
from docproc.ledger.sqlite import SQLiteLedger
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentDeps, process_segment
from docproc.vectors.edge import EdgeVectorStore
from docproc.vectors.port import VectorPoint
from docproc.vectors.qdrant import QdrantVectorStore
from tests.fakes import InMemoryObjectStore
from tests.stub_openai import stub_openai

KEY = "uploads/acme/case/doc/notes.txt"


@pytest.mark.parametrize("in_flight", [1, 3])
def test_retry_embeds_only_the_chunks_not_yet_stored(tmp_path: Path, in_flight: int):
    text = "".join(f"Paragraph {i}: the tenant pays rent on the first day.\n\n" for i in range(400))
    store = InMemoryObjectStore({KEY: text.encode()})
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    plan = plan_document(KEY, None, store, ledger, PlanOptions())
    task = plan.first_task
    with stub_openai() as stub:
        client = openai.OpenAI(api_key="sk-test", base_url=stub.url, max_retries=1, timeout=5)
        embedder = OpenAIEmbedder(
            client,
            "text-embedding-3-small",
            8,
            token_counter("text-embedding-3-small"),
            batch_size=4,
        )
        deps = SegmentDeps(
            store=store,
            ledger=ledger,
            chunker=Chunker("text-embedding-3-small", 64, 0),
            embedder=embedder,
            vectors=QdrantVectorStore(QdrantClient(location=":memory:"), "c", 8),
            embed_batch_size=4,
            batches_in_flight=in_flight,
        )
        # Given the API rate-limits for good after three requests. With requests in flight
        # the stub counts them as they arrive: the fourth batch (sent once the first is back)
        # can arrive before the third, which then fails, and batches are stored in order, so
        # what is stored is the whole batches before the first that failed, at least the first.
        stub.rate_limit_after = 3
        with pytest.raises(TransientError):
            process_segment(task, deps)
        first = stub.inputs_embedded
        stored = deps.vectors.count("acme", "doc")
        assert stored >= 4 and stored % 4 == 0
        if in_flight == 1:
            assert first == stored == 12
        assert ledger.get_segment("acme", "doc", plan.document.version, 0).status == "failed"

        # When the limit lifts and the state machine retries the segment
        stub.rate_limit_after = None
        result = process_segment(task, deps)

        # Then only the chunks that were not stored are embedded, and the segment is whole
        assert stub.inputs_embedded - first == result.chunks - stored
        assert result.attempt == 2
        assert deps.vectors.count("acme", "doc") == result.chunks

    # And after a kill (no failure recorded), a re-run embeds nothing that is stored
    ledger.delete_document("acme", "doc")
    with stub_openai() as fresh:
        client = openai.OpenAI(api_key="sk-test", base_url=fresh.url, max_retries=0, timeout=5)
        embedder = OpenAIEmbedder(
            client, "text-embedding-3-small", 8, token_counter("text-embedding-3-small")
        )
        again = process_segment(task, dataclasses.replace(deps, embedder=embedder))
        assert again.chunks == result.chunks and fresh.inputs_embedded == 0


class _FailingOnce(EdgeVectorStore):
    """The laptop's store, counting the look-ups of what it holds, whose ``fail_at``-th upsert
    fails once (a store gone away part-way through a segment)."""

    def __init__(self, root: Path, fail_at: int) -> None:
        super().__init__(root, "c", 64)
        self.look_ups = self.upserts = 0
        self.fail_at = fail_at

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        self.look_ups += 1
        return super().existing(ids)

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        self.upserts += 1
        if self.upserts == self.fail_at:
            raise TransientError("the store went away")
        super().upsert(points)


@pytest.mark.parametrize("in_flight", [1, 3])
def test_the_offline_embedder_stores_a_retried_segment_whole_without_asking_what_is_stored(
    tmp_path: Path, in_flight: int
):
    # Given a text segment of many batches, the offline embedder, and a store whose third
    # upsert fails
    text = "".join(f"Paragraph {i}: the tenant pays rent on the first day.\n\n" for i in range(400))
    store = InMemoryObjectStore({KEY: text.encode()})
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    task = plan_document(KEY, None, store, ledger, PlanOptions()).first_task
    assert task is not None
    vectors = _FailingOnce(tmp_path / "vectors", fail_at=3)
    deps = SegmentDeps(
        store=store,
        ledger=ledger,
        chunker=Chunker("text-embedding-3-small", 64, 0),
        embedder=HashingEmbedder(64),
        vectors=vectors,
        embed_batch_size=4,
        batches_in_flight=in_flight,
        embeds_offline=True,
    )
    with pytest.raises(TransientError):
        process_segment(task, deps)
    assert vectors.count("acme", "doc") == 8  # the two batches before the failure

    # When the segment is retried
    result = process_segment(task, deps)

    # Then every chunk is one point, and the store was never asked what it held
    assert result.attempt == 2 and result.chunks > 3 * 4
    assert vectors.count("acme", "doc") == result.chunks
    assert vectors.look_ups == 0
    vectors.close()
