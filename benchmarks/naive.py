"""The naive one-process pipeline docproc replaces: open, extract all, chunk all, embed all,
upsert all. The baseline for the small-file and end-to-end comparisons.

    python -m benchmarks.naive FILE QDRANT_PATH
"""

from __future__ import annotations

import json
import sys
import time
import uuid

import pymupdf
from qdrant_client import QdrantClient, models
from semantic_text_splitter import TextSplitter

from docproc.embedding.hashing import HashingEmbedder
from docproc.observability import peak_rss_mb


def main(path: str, qdrant_path: str) -> dict[str, object]:
    started = time.perf_counter()
    document = pymupdf.open(path)
    text = "\n\n".join(page.get_text() for page in document)
    splitter = TextSplitter.from_tiktoken_model("text-embedding-3-small", 512, overlap=64)
    chunks = splitter.chunks(text)
    embedder = HashingEmbedder(384)
    vectors = embedder.embed(chunks)
    client = QdrantClient(path=qdrant_path)
    if not client.collection_exists("naive"):
        client.create_collection(
            "naive", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
        )
    client.upsert(
        "naive",
        points=[
            models.PointStruct(id=str(uuid.uuid4()), vector=vector, payload={"text": chunk})
            for chunk, vector in zip(chunks, vectors, strict=True)
        ],
        wait=True,
    )
    client.close()
    return {
        "chunks": len(chunks),
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
