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
    # Then docproc's fusion for the offline embedder finds more requests in other words, and
    # more overall, than equal weights do (0.34 and 0.73 against 0.30 and 0.72 when measured)
    for kind in ("paraphrase", "all"):
        assert scores[("hybrid", kind)].recall_at_5 > alike[("hybrid", kind)].recall_at_5, kind


def test_hybrid_finds_on_average_what_the_better_of_its_two_halves_finds_but_for_one_query(
    scores,
):
    # Given the offline embedder, whose better half is BM25 in every class
    # Then hybrid search finds, on average over the builds, at most one query fewer than the
    # better half in any class (#16's bar is none fewer: BENCHMARKS.md reports it per class;
    # on paraphrases the mean of ten builds moves by about a query around BM25's, from one
    # evaluation to the next). BM25 weighted 1:2 with k=2, the fusion before, found three to
    # four fewer paraphrases.
    for kind in (*CLASSES, "all"):
        queries = scores[("hybrid", kind)].queries
        best = max(scores[(mode, kind)].recall_at_5 for mode in ("dense", "bm25"))
        assert scores[("hybrid", kind)].recall_at_5 * queries >= best * queries - 1, kind


def test_hashing_v2_finds_what_hashing_v1_found_but_for_paraphrases_found_by_luck(scores):
    # Given the evaluation set, searched with each version of the offline embedder
    first = evaluate(HashingV1Embedder(384), HASHING_HYBRID_FUSION)
    # Then the default, hashing-v2, finds every exact reference and keyword query hashing-v1
    # found, in dense and in hybrid search (README: the default embedder)
    for mode in ("dense", "hybrid"):
        for kind in ("identifier", "keywords"):
            assert scores[(mode, kind)].recall_at_5 >= first[(mode, kind)].recall_at_5, (mode, kind)
    # And paraphrases, found by either mostly by luck, at most two fewer in each mode (the
    # fourth part of the set took v2's hybrid search from level with v1 to two behind, the
    # fifth its dense search: 15 against 17 of 111; hybrid, under the fifth part's fusion, 37.5
    # against 38.0 on average over the builds)
    queries = scores[("hybrid", "paraphrase")].queries
    for mode in ("dense", "hybrid"):
        found = scores[(mode, "paraphrase")].recall_at_5 * queries
        assert found >= first[(mode, "paraphrase")].recall_at_5 * queries - 2, mode
