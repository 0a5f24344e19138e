"""Retrieval quality on the evaluation set (tests/retrieval_set.py): dense, BM25 and hybrid
search on the laptop's store with the offline (hashing) embedder, hybrid search fusing as docproc
does for it. The same table with a real sentence-embedding model served on loopback is in
BENCHMARKS.md (make bench). Each figure is a mean over builds of the store (the engine orders
equal BM25 scores differently in each); a claim about every build uses the lowest build's."""

from __future__ import annotations

import pytest

from benchmarks.retrieval import CLASSES, Score, evaluate, table
from docproc.config import HASHING_HYBRID_FUSION
from docproc.embedding.hashing import HashingEmbedder, HashingV1Embedder
from docproc.vectors.port import HybridFusion
from tests.conftest import REPORT_TABLES


@pytest.fixture(scope="module")
def scores() -> dict[tuple[str, str], Score]:
    measured = evaluate(HashingEmbedder(384), HASHING_HYBRID_FUSION)
    REPORT_TABLES["retrieval, hashing embedder: recall@5 / MRR"] = [
        (row, "") for row in table(measured)
    ]
    return measured


def test_exact_references_come_first_in_keyword_and_in_hybrid_search(scores):
    # Given the evaluation set's case, invoice, policy and part numbers and names
    # Then BM25 ranks each one's passage first, and fusing it with the dense side keeps it there
    assert scores[("bm25", "identifier")].mrr == 1.0
    assert scores[("hybrid", "identifier")].mrr == 1.0
    # and a query in the passage's own words finds it in hybrid's top five
    assert scores[("hybrid", "keywords")].recall_at_5 == 1.0


def test_hybrid_finds_more_than_the_embedder_alone_in_every_build(scores):
    for kind in ("paraphrase", "all"):
        assert scores[("hybrid", kind)].recall_low > scores[("dense", kind)].recall_at_5, kind


def test_weighing_bm25_above_the_offline_embedder_finds_more_than_weighing_them_alike(scores):
    # Given the same set fused with equal weights (Qdrant's plain RRF)
    alike = evaluate(HashingEmbedder(384), HybridFusion())
    # Then docproc's weights for the offline embedder find more requests in other words, and
    # more overall, than equal weights do (0.35 and 0.75 against 0.30 and 0.73 when measured)
    for kind in ("paraphrase", "all"):
        assert scores[("hybrid", kind)].recall_at_5 > alike[("hybrid", kind)].recall_at_5, kind


@pytest.mark.xfail(
    strict=True,
    reason="#16's bar, not met: on paraphrases BM25 alone finds more than hybrid (BENCHMARKS.md)",
)
def test_hybrid_finds_what_the_better_of_its_two_halves_finds(scores):
    for kind in (*CLASSES, "all"):
        best = max(scores[(mode, kind)].recall_at_5 for mode in ("dense", "bm25"))
        assert scores[("hybrid", kind)].recall_at_5 >= best, kind


def test_hashing_v2_finds_what_hashing_v1_found_but_for_paraphrases_found_by_luck(scores):
    # Given the evaluation set, searched with each version of the offline embedder
    first = evaluate(HashingV1Embedder(384), HASHING_HYBRID_FUSION)
    # Then the default, hashing-v2, has each query class's answer in its top five at least as
    # often as hashing-v1 did in dense search, and every exact reference and keyword query in
    # hybrid search (README: the default embedder)
    for kind in (*CLASSES, "all"):
        assert scores[("dense", kind)].recall_at_5 >= first[("dense", kind)].recall_at_5, kind
    for kind in ("identifier", "keywords"):
        assert scores[("hybrid", kind)].recall_at_5 >= first[("hybrid", kind)].recall_at_5, kind
    # And paraphrases, found by either mostly by luck, at most three fewer in hybrid search (the
    # fourth part of the set took v2 from level with v1 to two behind; under weighted rank
    # fusion, 29.1 against 31.2 of 84 on average over the builds)
    queries = scores[("hybrid", "paraphrase")].queries
    found = scores[("hybrid", "paraphrase")].recall_at_5 * queries
    assert found >= first[("hybrid", "paraphrase")].recall_at_5 * queries - 3
