"""A segment's embedding requests overlap, up to the limit, through the real openai client, and
store what one request at a time stores."""

from __future__ import annotations

import json
from pathlib import Path

import openai
from qdrant_client import QdrantClient

from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import token_counter
from docproc.embedding.openai import OpenAIEmbedder
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import SegmentResult
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentDeps, process_segment
from docproc.vectors.qdrant import QdrantVectorStore
from tests.fakes import InMemoryObjectStore
from tests.stub_openai import StubOpenAI, stub_openai

KEY = "uploads/acme/case/doc/notes.txt"
TEXT = "".join(f"Clause {i}: the lessee pays rent on day {i % 28 + 1}.\n\n" for i in range(300))


def _ingest(tmp_path: Path, in_flight: int) -> tuple[SegmentResult, dict[str, str], StubOpenAI]:
    """The text ingested with ``in_flight`` requests under way; the stub holds the first ones
    until that many have arrived."""
    store = InMemoryObjectStore({KEY: TEXT.encode()})
    ledger = SQLiteLedger(tmp_path / f"ledger-{in_flight}.sqlite3")
    task = plan_document(KEY, None, store, ledger, PlanOptions()).first_task
    assert task is not None
    vectors = QdrantVectorStore(QdrantClient(location=":memory:"), "c", 8)
    with stub_openai() as stub:
        # Each request answered after 0.05 s, as an API would after its own work.
        stub.delay_seconds = 0.05
        stub.gather = in_flight
        client = openai.OpenAI(api_key="sk-test", base_url=stub.url, max_retries=0, timeout=5)
        deps = SegmentDeps(
            store=store,
            ledger=ledger,
            chunker=Chunker("text-embedding-3-small", 64, 0),
            embedder=OpenAIEmbedder(
                client, "text-embedding-3-small", 8, token_counter("text-embedding-3-small")
            ),
            vectors=vectors,
            embed_batch_size=4,
            batches_in_flight=in_flight,
        )
        result = process_segment(task, deps)
    lines = store.get_bytes(result.output_key).decode().splitlines()
    ids = [json.loads(line)["point_id"] for line in lines]
    return result, vectors.existing(ids), stub


def test_requests_overlap_up_to_the_limit_and_store_the_same_points(tmp_path: Path):
    # Given a text segment of many batches, and an API that takes a while to answer
    # When it is processed with three requests in flight, and with one
    overlapped, stored, stub = _ingest(tmp_path, in_flight=3)
    one_by_one, stored_one_by_one, stub_one_by_one = _ingest(tmp_path, in_flight=1)

    # Then three requests were under way at once (never more), one at a time without it
    assert overlapped.chunks >= 40
    assert stub.most_at_once == 3
    assert stub_one_by_one.most_at_once == 1
    # And every chunk was stored, with the same ids and content as one at a time
    assert len(stored) == overlapped.chunks
    assert stored == stored_one_by_one
    assert overlapped.chunks == one_by_one.chunks
