"""A 50 MB text file in S3 (moto server), cut into byte ranges, each read with Range GETs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import boto3
import pytest

from benchmarks.generators import text_file
from docproc.chunking.chunker import Chunker
from docproc.embedding.hashing import HashingEmbedder
from docproc.extract.text import BLOCK_BYTES, BOUNDARY_WINDOW
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import SegmentTask
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import SegmentDeps, process_segment
from docproc.storage.s3 import S3ObjectStore
from docproc.vectors.port import VectorPoint
from tests.moto_server import moto_server

KEY = "uploads/acme/case-t/big-text/log.txt"
SEGMENT = 4 * 1024 * 1024

# Processes one segment against the S3 endpoint; reports the peak of Python allocations and
# the bytes its Range GETs fetched.
WORKER = """
import json, sys, tracemalloc
from pathlib import Path
import boto3
from docproc.chunking.chunker import Chunker
from docproc.embedding.hashing import HashingEmbedder
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import SegmentTask
from docproc.pipeline.process_segment import SegmentDeps, process_segment
from docproc.storage.s3 import S3ObjectStore

class CountingStore(S3ObjectStore):
    fetched = largest = 0

    def read_range(self, key, start, end, version_id=None):
        data = super().read_range(key, start, end, version_id)
        CountingStore.fetched += len(data)
        CountingStore.largest = max(CountingStore.largest, len(data))
        return data

class Discard:
    def ensure_collection(self): pass
    def upsert(self, points): pass
    def existing(self, ids): return {}

endpoint, bucket, ledger_path, task_json = sys.argv[1:5]
deps = SegmentDeps(
    store=CountingStore(boto3.client("s3", endpoint_url=endpoint), bucket),
    ledger=SQLiteLedger(Path(ledger_path)),
    chunker=Chunker("text-embedding-3-small", 512, 0),
    embedder=HashingEmbedder(64),
    vectors=Discard(),
)
task = SegmentTask.model_validate_json(task_json)
tracemalloc.start()
result = process_segment(task, deps)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({
    "peak": peak,
    "chunks": result.chunks,
    "fetched": CountingStore.fetched,
    "largest": CountingStore.largest,
}))
"""


class _Discard:
    """A vector sink that keeps nothing: this test is about reading and chunking."""

    def ensure_collection(self) -> None:
        pass

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        pass

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def test_fifty_megabytes_in_ranges_with_flat_memory(s3_endpoint: str, tmp_path: Path):
    # Given a 50 MB text file in S3
    source = text_file(tmp_path / "log.txt", 50 * 1024 * 1024)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="docs")
    client.upload_file(str(source), "docs", KEY)
    store = S3ObjectStore(client, "docs")
    ledger_path = tmp_path / "ledger.sqlite3"

    # When it is planned with 4 MiB segments
    plan = plan_document(
        KEY, None, store, SQLiteLedger(ledger_path), PlanOptions(segment_bytes=SEGMENT)
    )
    tasks = [SegmentTask.model_validate(t) for t in json.loads(store.get_bytes(plan.manifest.key))]

    # Then there are >= 6 segments, and a worker holds about one segment, not the file
    assert len(tasks) >= 6
    measured = {0, len(tasks) // 2, len(tasks) - 1}
    for task in (tasks[i] for i in sorted(measured)):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                WORKER,
                s3_endpoint,
                "docs",
                str(ledger_path),
                task.model_dump_json(),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["chunks"] > 0
        # It fetched its own range (moved to line starts: at most a window further) and the
        # probes at its ends and between its blocks (a window and a byte each), nothing more
        length = task.segment.byte_end - task.segment.byte_start
        probes = 2 + (length - 1) // BLOCK_BYTES
        bound = length + (probes + 1) * (BOUNDARY_WINDOW + 1)
        assert length <= report["fetched"] <= bound, report["fetched"]
        # a block at a time: its text is never a whole segment's (8 MB as one str here, this
        # text's euro signs making it two bytes a character)
        assert report["largest"] <= BLOCK_BYTES + BOUNDARY_WINDOW + 1, report["largest"]
        # and held one segment at a time: a block's bytes and text, the chunks and their
        # JSONL (21 MiB measured; 25 with the segment read whole; the whole object would be
        # 50 MiB of bytes alone)
        assert report["peak"] < 8 * SEGMENT, f"segment peak {report['peak'] / 2**20:.1f} MiB"

    deps = SegmentDeps(
        store=store,
        ledger=SQLiteLedger(ledger_path),
        chunker=Chunker("text-embedding-3-small", 512, 0),
        embedder=HashingEmbedder(64),
        vectors=_Discard(),
    )
    for index, task in enumerate(tasks):
        if index not in measured:
            process_segment(task, deps)

    # And with no overlap every input line is in exactly one chunk, in order
    lines: list[str] = []
    for task in tasks:
        body = store.get_bytes(task.document.chunks_key(task.segment.index))
        for line in body.decode().splitlines():
            lines.extend(json.loads(line)["text"].split("\n"))
    expected = source.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    assert lines == expected
