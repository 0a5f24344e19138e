"""A segment's batches are looked up and embedded at once, up to the limit, through the real
openai and qdrant clients, and store what one batch at a time stores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import openai

from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import token_counter
from docproc.embedding.openai import OpenAIEmbedder
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import SegmentResult
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentDeps, process_segment
from docproc.vectors.qdrant import QdrantVectorStore
from tests.fakes import InMemoryObjectStore
from tests.loopback import UnderWay
from tests.qdrant_server import qdrant_server
from tests.stub_openai import stub_openai

KEY = "uploads/acme/case/doc/notes.txt"
TEXT = "".join(f"Clause {i}: the lessee pays rent on day {i % 28 + 1}.\n\n" for i in range(300))


@dataclass
class Ingested:
    result: SegmentResult
    # point id -> chunk hash, for every chunk of the chunk file that the store holds
    stored: dict[str, str]
    embedding: UnderWay
    store: UnderWay


def _ingest(tmp_path: Path, in_flight: int) -> Ingested:
    """The text ingested with ``in_flight`` batches under way; the API and the store each hold
    their first requests until that many have arrived."""
    store = InMemoryObjectStore({KEY: TEXT.encode()})
    ledger = SQLiteLedger(tmp_path / f"ledger-{in_flight}.sqlite3")
    task = plan_document(KEY, None, store, ledger, PlanOptions()).first_task
    assert task is not None
    with stub_openai() as stub, qdrant_server() as qdrant:
        # Each request answered after 0.05 s, as an API (a Qdrant server) would after its work.
        for under_way in (stub.under_way, qdrant.points):
            under_way.delay_seconds = 0.05
            under_way.gather = in_flight
        client = openai.OpenAI(api_key="sk-test", base_url=stub.url, max_retries=0, timeout=5)
        vectors = QdrantVectorStore(qdrant.client(), "c", 8)
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
        return Ingested(result, vectors.existing(ids), stub.under_way, qdrant.points)


def test_batches_overlap_up_to_the_limit_and_store_the_same_points(tmp_path: Path):
    # Given a text segment of many batches, an API and a store that take a while to answer
    # When it is processed with three batches in flight, and with one
    overlapped = _ingest(tmp_path, in_flight=3)
    one_by_one = _ingest(tmp_path, in_flight=1)

    # Then three embedding requests were under way at once (never more), and three of the
    # store's (each batch's look-up of what it holds); one at a time without it
    assert overlapped.result.chunks >= 40
    assert overlapped.embedding.most_at_once == 3
    assert overlapped.store.most_at_once == 3
    assert one_by_one.embedding.most_at_once == one_by_one.store.most_at_once == 1
    # And every chunk was stored, with the same ids and content as one at a time
    assert len(overlapped.stored) == overlapped.result.chunks
    assert overlapped.stored == one_by_one.stored
    assert overlapped.result.chunks == one_by_one.result.chunks
