"""A segment that fails part-way through embedding re-embeds, on retry, only what it had not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openai
import pytest
from qdrant_client import QdrantClient

from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import token_counter
from docproc.embedding.openai import OpenAIEmbedder
from docproc.errors import TransientError
from docproc.ledger.sqlite import SQLiteLedger
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentDeps, process_segment
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
