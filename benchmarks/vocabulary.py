"""What the memory of a process that opens a Qdrant Edge shard grows with: the shard's distinct
BM25 tokens. Two shards of the same points, alike but for their sparse vectors' token ids.

    python -m benchmarks.vocabulary build FOLDER POINTS TOKENS VOCABULARY
    python -m benchmarks.vocabulary open FOLDER

``build`` writes POINTS points (random 384-dimension vectors, a payload as docproc's) whose
sparse vectors hold TOKENS token ids each, drawn from VOCABULARY ids, or with VOCABULARY 0 every
token its point's own (as a line number or a case number is). ``open``, in a process of its own,
does with the shard what Finalize does (count a document's points, publish its version, close)
and prints, as JSON, the peak of its anonymous memory, sampled by another process.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import numpy as np

from benchmarks.rss import OwnMemoryPeaks
from docproc.vectors.edge import EdgeVectorStore
from docproc.vectors.port import SparseVector, VectorPoint

COLLECTION = "vocabulary"
TENANT, DOCUMENT, VERSION = "t", "d", "v1"
BATCH = 2048


def build(folder: Path, points: int, tokens: int, vocabulary: int) -> None:
    rng = np.random.default_rng(7)
    store = EdgeVectorStore(folder, COLLECTION, 384)
    for start in range(0, points, BATCH):
        count = min(BATCH, points - start)
        vectors = rng.standard_normal((count, 384), dtype=np.float32)
        batch = []
        for offset, vector in enumerate(vectors):
            n = start + offset
            if vocabulary:
                ids = np.unique(rng.integers(0, vocabulary, tokens)).tolist()
            else:
                ids = list(range(n * tokens, (n + 1) * tokens))
            batch.append(
                VectorPoint(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, str(n))),
                    vector=vector.tolist(),
                    payload={
                        "tenant_id": TENANT,
                        "case_id": "c",
                        "document_id": DOCUMENT,
                        "version": VERSION,
                        "chunk_hash": f"h{n}",
                        "text": "x" * 500,
                        "visible": False,
                    },
                    sparse=SparseVector(ids, [1.0] * len(ids)),
                )
            )
        store.upsert(batch)
    # Sealed and acknowledged before it closes (the seal flushes, the next update acknowledges
    # the write-ahead log up to it): the process that opens it replays nothing, whatever the
    # size of the last batch.
    store.seal()
    store.delete_document(TENANT, "none")
    store.close()


def open_as_finalize(folder: Path) -> dict[str, float]:
    memory = OwnMemoryPeaks()
    store = EdgeVectorStore(folder, COLLECTION, 384)
    points = store.count(TENANT, DOCUMENT, VERSION)
    store.publish_version(TENANT, DOCUMENT, VERSION, retire_others=True)
    store.close()
    return {"points": points, "anon_peak_mb": memory.stop().anon}


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        print(json.dumps({"points": int(sys.argv[3])}))
    else:
        print(json.dumps(open_as_finalize(Path(sys.argv[2]))))
