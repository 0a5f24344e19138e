"""The naive one-process pipeline docproc replaces: open, extract all, chunk all, embed all,
upsert all. The baseline for the small-file and end-to-end comparisons.

    python -m benchmarks.naive FILE QDRANT_PATH
"""

from __future__ import annotations

import json
import resource
import sys
import time
import uuid

import pymupdf
from qdrant_client import QdrantClient, models
from semantic_text_splitter import TextSplitter

from docproc.embedding.hashing import HashingEmbedder


class NaivePipeline:
    """Kept warm like a long-lived service: the client, splitter and embedder are reused."""

    def __init__(self, qdrant_path: str) -> None:
        self.client = QdrantClient(path=qdrant_path)
        self.splitter = TextSplitter.from_tiktoken_model("text-embedding-3-small", 512, overlap=64)
        self.embedder = HashingEmbedder(384)
        if not self.client.collection_exists("naive"):
            self.client.create_collection(
                "naive",
                vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE),
            )

    def ingest(self, path: str) -> int:
        document = pymupdf.open(path)
        text = "\n\n".join(page.get_text() for page in document)
        document.close()
        chunks = self.splitter.chunks(text)
        vectors = self.embedder.embed(chunks)
        self.client.upsert(
            "naive",
            points=[
                models.PointStruct(id=str(uuid.uuid4()), vector=vector, payload={"text": chunk})
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
            wait=True,
        )
        return len(chunks)

    def close(self) -> None:
        self.client.close()


def main(path: str, qdrant_path: str) -> dict[str, object]:
    started = time.perf_counter()
    pipeline = NaivePipeline(qdrant_path)
    chunks = pipeline.ingest(path)
    pipeline.close()
    return {
        "chunks": chunks,
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
