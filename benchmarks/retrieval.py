"""Retrieval quality of dense, BM25 and hybrid search on the evaluation set (tests/retrieval_set):
recall@5 and mean reciprocal rank (of the first hit that is the expected passage, within 10),
per query class and overall. One passage is one chunk; the store is the laptop's (Qdrant Edge).
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from docproc.embedding.port import Embedder
from docproc.embedding.sparse import Bm25Encoder
from docproc.vectors.edge import EdgeVectorStore
from docproc.vectors.port import VectorPoint
from tests.retrieval_set import PASSAGES, QUERIES

MODES = ("dense", "bm25", "hybrid")
CLASSES = ("identifier", "keywords", "paraphrase")
RANKED = 10


@dataclass(frozen=True)
class Score:
    queries: int
    recall_at_5: float
    mrr: float


def evaluate(embedder: Embedder) -> dict[tuple[str, str], Score]:
    """(mode, query class or "all") -> Score."""
    sparse = Bm25Encoder()
    names = list(PASSAGES)
    texts = [PASSAGES[name] for name in names]
    with tempfile.TemporaryDirectory(prefix="docproc-retrieval-") as folder:
        store = EdgeVectorStore(Path(folder), "eval", embedder.dimensions)
        store.upsert(
            [
                VectorPoint(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                    vector=vector,
                    payload={"tenant_id": "eval", "document_id": name, "visible": True},
                    sparse=keywords,
                )
                for name, vector, keywords in zip(
                    names, embedder.embed(texts), sparse.encode_documents(texts), strict=True
                )
            ]
        )
        ranks: dict[str, list[tuple[str, int | None]]] = {mode: [] for mode in MODES}
        query_vectors = embedder.embed([query for _, query, _ in QUERIES])
        for (kind, query, expected), vector in zip(QUERIES, query_vectors, strict=True):
            keywords = sparse.encode_query(query)
            for mode in MODES:
                hits = store.search(
                    vector if mode != "bm25" else None,
                    "eval",
                    sparse=keywords if mode != "dense" else None,
                    limit=RANKED,
                )
                found = [(hit.payload["document_id"], hit.score) for hit in hits]
                ranks[mode].append((kind, _rank(found, expected)))
        store.close()
    scores = {}
    for mode in MODES:
        for kind in (*CLASSES, "all"):
            chosen = [rank for k, rank in ranks[mode] if kind in ("all", k)]
            scores[(mode, kind)] = Score(
                queries=len(chosen),
                recall_at_5=sum(1 for r in chosen if r is not None and r <= 5) / len(chosen),
                mrr=sum(1 / r for r in chosen if r is not None) / len(chosen),
            )
    return scores


def _rank(found: list[tuple[str, float]], expected: str) -> int | None:
    """The expected passage's rank (from 1) among the hits, with every other hit of an equal
    score counted ahead of it: the engine orders equal scores arbitrarily (BM25 gives the same
    score to passages matching the same words alike, and their order changes from one build of
    the store to the next), so the evaluation takes the worst order, which is the same every
    run and never flatters."""
    for name, score in found:
        if name == expected:
            return 1 + sum(
                1 for other, other_score in found if other != name and other_score >= score
            )
    return None


def table(scores: dict[tuple[str, str], Score]) -> list[str]:
    """Markdown rows: one per mode, recall@5 / MRR per class."""
    rows = [
        "| mode | "
        + " | ".join(f"{k} ({scores[('dense', k)].queries})" for k in (*CLASSES, "all"))
        + " |",
        "|---|" + "---|" * (len(CLASSES) + 1),
    ]
    for mode in MODES:
        cells = [
            f"{scores[(mode, k)].recall_at_5:.2f} / {scores[(mode, k)].mrr:.2f}"
            for k in (*CLASSES, "all")
        ]
        rows.append(f"| {mode} | " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    from docproc.embedding.hashing import HashingEmbedder

    print("\n".join(table(evaluate(HashingEmbedder(384)))))


EVAL_PYTHON = Path(__file__).resolve().parents[1] / ".venv-eval" / "bin" / "python"


class minilm_server:
    """all-MiniLM-L6-v2 behind an OpenAI-compatible server on loopback (the make target
    `eval-venv` installs it: torch is large, the project itself does not need it); yields
    docproc's own OpenAI embedder pointed at it."""

    def __enter__(self) -> Embedder:
        import socket
        import subprocess

        import openai

        from docproc.chunking.tokens import token_counter
        from docproc.embedding.openai import OpenAIEmbedder

        if not EVAL_PYTHON.exists():
            raise RuntimeError("the real-model evaluation needs `make eval-venv` first")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = Path(__file__).with_name("embedding_server.py")
        # -P: the script's folder stays off sys.path, or benchmarks/profile.py would shadow the
        # standard library's profile module (torch imports cProfile).
        self._process = subprocess.Popen(
            [str(EVAL_PYTHON), "-P", str(server), str(port)], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the embedding server did not start")
        client = openai.OpenAI(api_key="unused", base_url=f"http://127.0.0.1:{port}/v1")
        return OpenAIEmbedder(
            client,
            model="all-MiniLM-L6-v2",
            dimensions=384,
            count_tokens=token_counter("text-embedding-3-small"),
            batch_size=64,
            send_dimensions=False,
            encoding_format="base64",
        )

    def __exit__(self, *_: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
