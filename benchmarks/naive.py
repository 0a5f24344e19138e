"""The naive one-process pipeline docproc replaces: open, extract all, chunk all, embed all,
upsert all. The baseline for the small-file and end-to-end comparisons, with docproc's own
chunker, embedder and store (Qdrant Edge, dense and BM25 vectors), so that a comparison
measures the pipeline and nothing else.

    python -m benchmarks.naive FILE STORE_FOLDER
"""

from __future__ import annotations

import json
import resource
import sys
import time
import uuid
from pathlib import Path

import pymupdf

from docproc.chunking.chunker import Chunker
from docproc.embedding.hashing import HashingEmbedder
from docproc.embedding.sparse import Bm25Encoder
from docproc.extract.pages import PageText
from docproc.vectors.edge import EdgeVectorStore
from docproc.vectors.port import VectorPoint


class NaivePipeline:
    """Kept warm like a long-lived service: the store, chunker and embedders are reused."""

    def __init__(self, store_folder: str) -> None:
        self.store = EdgeVectorStore(Path(store_folder), "naive", 384)
        self.chunker = Chunker("text-embedding-3-small", 512, overlap=64)
        self.embedder = HashingEmbedder(384)
        self.sparse = Bm25Encoder()

    def ingest(self, path: str) -> int:
        chunks = [piece.text for piece in self.chunker.chunk_pages(self.pages(path))]
        vectors = self.embedder.embed(chunks)
        keywords = self.sparse.encode_documents(chunks)
        self.store.upsert(
            [
                VectorPoint(
                    id=str(uuid.uuid4()),
                    vector=vector,
                    payload={"tenant_id": "naive", "text": chunk, "visible": True},
                    sparse=sparse,
                )
                for chunk, vector, sparse in zip(chunks, vectors, keywords, strict=True)
            ]
        )
        return len(chunks)

    @staticmethod
    def pages(path: str) -> list[PageText]:
        document = pymupdf.open(path)
        pages = [PageText(number, page.get_text()) for number, page in enumerate(document, 1)]
        document.close()
        return pages

    def close(self) -> None:
        self.store.close()


def main(path: str, store_folder: str) -> dict[str, object]:
    started = time.perf_counter()
    pipeline = NaivePipeline(store_folder)
    chunks = pipeline.ingest(path)
    pipeline.close()
    return {
        "chunks": chunks,
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
