"""Retrieval quality on the evaluation set (tests/retrieval_set.py): dense, BM25 and hybrid
search on the laptop's store with the offline (hashing) embedder. The same table with a real
sentence-embedding model served on loopback is in BENCHMARKS.md (make bench)."""

from __future__ import annotations

from benchmarks.retrieval import CLASSES, evaluate, table
from docproc.embedding.hashing import HashingEmbedder, HashingV1Embedder
from tests.conftest import REPORT_TABLES


def test_hybrid_finds_what_the_better_of_its_two_halves_finds():
    scores = evaluate(HashingEmbedder(384))
    REPORT_TABLES["retrieval, hashing embedder: recall@5 / MRR"] = [
        (row, "") for row in table(scores)
    ]
    # Exact references are found by keywords, first
    assert scores[("bm25", "identifier")].mrr == 1.0
    # and hybrid search loses nothing either half finds in its top five, in any class
    for kind in (*CLASSES, "all"):
        best = max(scores[(mode, kind)].recall_at_5 for mode in ("dense", "bm25"))
        assert scores[("hybrid", kind)].recall_at_5 >= best, kind


def test_hashing_v2_finds_at_least_what_hashing_v1_found():
    # Given the evaluation set, searched with each version of the offline embedder
    first, default = evaluate(HashingV1Embedder(384)), evaluate(HashingEmbedder(384))
    # Then the default, hashing-v2, has each query class's answer in its top five at least as
    # often as hashing-v1 did, dense and hybrid (README: the default embedder)
    for mode in ("dense", "hybrid"):
        for kind in (*CLASSES, "all"):
            assert default[(mode, kind)].recall_at_5 >= first[(mode, kind)].recall_at_5, (
                mode,
                kind,
            )
