"""Retrieval quality of dense, BM25 and hybrid search on the evaluation set (tests/retrieval_set):
recall@5 and mean reciprocal rank (of the first hit that is the expected passage, within 10),
per query class and overall. One passage is one chunk; the store is the laptop's (Qdrant Edge).

Qdrant orders points of equal BM25 score differently in each build of a store, and rank fusion
turns that order into different hybrid results. So every figure is the mean over BUILDS builds
of the store, with the lowest and highest build's recall beside it: what a user can expect,
not one lucky or unlucky build.
"""

from __future__ import annotations

import statistics
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from docproc.embedding.port import Embedder
from docproc.embedding.sparse import Bm25Encoder
from docproc.vectors.edge import EdgeVectorStore
from docproc.vectors.port import SPARSE_VECTOR, HybridFusion, SparseVector, VectorPoint
from tests.retrieval_set import PASSAGES, QUERIES

MODES = ("dense", "bm25", "hybrid")
CLASSES = ("identifier", "keywords", "paraphrase")
RANKED = 10
BUILDS = 10

Ranks = dict[str, list[tuple[str, int | None]]]


@dataclass(frozen=True)
class Score:
    queries: int
    # means over the builds
    recall_at_5: float
    mrr: float
    # the lowest and highest build's recall@5
    recall_low: float
    recall_high: float


def evaluate(
    embedder: Embedder, fusion: HybridFusion, builds: int = BUILDS
) -> dict[tuple[str, str], Score]:
    """(mode, query class or "all") -> Score, hybrid search fusing as ``fusion`` says."""
    sparse = Bm25Encoder()
    names = list(PASSAGES)
    texts = [PASSAGES[name] for name in names]
    points = [
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
    queries = [
        (kind, expected, vector, sparse.encode_query(query))
        for (kind, query, expected), vector in zip(
            QUERIES, embedder.embed([query for _, query, _ in QUERIES]), strict=True
        )
    ]
    per_build = [
        _scores(_ranks(points, queries, embedder.dimensions, fusion)) for _ in range(builds)
    ]
    scores = {}
    for key, first in per_build[0].items():
        recalls = [build[key][0] for build in per_build]
        scores[key] = Score(
            queries=first[2],
            recall_at_5=statistics.fmean(recalls),
            mrr=statistics.fmean(build[key][1] for build in per_build),
            recall_low=min(recalls),
            recall_high=max(recalls),
        )
    return scores


def _ranks(
    points: list[VectorPoint],
    queries: list[tuple[str, str, list[float], SparseVector]],
    dimensions: int,
    fusion: HybridFusion,
) -> Ranks:
    """Each mode's rank of each query's expected passage, in a store built anew."""
    ranks: Ranks = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="docproc-retrieval-") as folder:
        store = EdgeVectorStore(Path(folder), "eval", dimensions, fusion=fusion)
        store.upsert(points)
        for kind, expected, vector, keywords in queries:
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
    return ranks


def _scores(ranks: Ranks) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(mode, class) -> (recall@5, MRR, queries) of one build (or of whatever ``ranks`` is
    keyed by)."""
    scores = {}
    for mode in ranks:
        for kind in (*CLASSES, "all"):
            chosen = [rank for k, rank in ranks[mode] if kind in ("all", k)]
            scores[(mode, kind)] = (
                sum(1 for r in chosen if r is not None and r <= 5) / len(chosen),
                sum(1 / r for r in chosen if r is not None) / len(chosen),
                len(chosen),
            )
    return scores


def bm25_beside_another_tenant(other_texts: list[str]) -> dict[tuple[str, str], Score]:
    """(IDF corpus, query class or "all") -> BM25's Score on the evaluation set, its passages one
    tenant's and ``other_texts`` another tenant's, in one store: IDF counted over the searching
    tenant's points ("tenant": docproc's search) or over the whole store ("store")."""
    from qdrant_edge import FieldCondition, Filter, MatchValue, Query, QueryRequest
    from qdrant_edge import SparseVector as EdgeSparseVector

    sparse = Bm25Encoder()
    tenants = [("eval", name, PASSAGES[name]) for name in PASSAGES]
    tenants += [("other", f"other-{n}", text) for n, text in enumerate(other_texts)]
    ranks: Ranks = {"tenant": [], "store": []}
    with tempfile.TemporaryDirectory(prefix="docproc-retrieval-") as folder:
        store = EdgeVectorStore(Path(folder), "eval", 1)
        for start in range(0, len(tenants), 1024):
            batch = tenants[start : start + 1024]
            keywords = sparse.encode_documents([text for _, _, text in batch])
            store.upsert(
                [
                    VectorPoint(
                        id=str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                        vector=[1.0],
                        payload={"tenant_id": tenant, "document_id": name, "visible": True},
                        sparse=vector,
                    )
                    for (tenant, name, _), vector in zip(batch, keywords, strict=True)
                ]
            )
        # Over the tenant's points: docproc's own search. Over the store's: the same query,
        # sent to the shard without the corpus.
        shard = store._open
        tenant = Filter(must=[FieldCondition(key="tenant_id", match=MatchValue(value="eval"))])
        for kind, query, expected in QUERIES:
            encoded = sparse.encode_query(query)
            hits = store.search(None, "eval", sparse=encoded, limit=RANKED)
            whole_store = QueryRequest(
                query=Query.Nearest(
                    EdgeSparseVector(encoded.indices, encoded.values), using=SPARSE_VECTOR
                ),
                filter=tenant,
                limit=RANKED,
                with_payload=True,
            )
            for corpus, found in (
                ("tenant", [(str(hit.payload["document_id"]), hit.score) for hit in hits]),
                (
                    "store",
                    [
                        (str((point.payload or {})["document_id"]), point.score)
                        for point in shard.query(whole_store)
                    ],
                ),
            ):
                ranks[corpus].append((kind, _rank(found, expected)))
        store.close()
    return {
        key: Score(queries=n, recall_at_5=recall, mrr=mrr, recall_low=recall, recall_high=recall)
        for key, (recall, mrr, n) in _scores(ranks).items()
    }


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
        cells = [_cell(scores[(mode, k)]) for k in (*CLASSES, "all")]
        rows.append(f"| {mode} | " + " | ".join(cells) + " |")
    return rows


def _cell(score: Score) -> str:
    """Recall@5 / MRR, and the builds' range of recall@5 where they differ."""
    spread = ""
    if f"{score.recall_low:.2f}" != f"{score.recall_high:.2f}":
        spread = f" ({score.recall_low:.2f}-{score.recall_high:.2f})"
    return f"{score.recall_at_5:.2f}{spread} / {score.mrr:.2f}"


if __name__ == "__main__":
    from docproc.config import HASHING_HYBRID_FUSION
    from docproc.embedding.hashing import HashingEmbedder

    print("\n".join(table(evaluate(HashingEmbedder(384), HASHING_HYBRID_FUSION))))


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
