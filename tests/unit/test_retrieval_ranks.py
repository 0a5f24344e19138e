"""How the retrieval evaluation ranks the expected passage among the hits
(benchmarks/retrieval.py)."""

from __future__ import annotations

from benchmarks.retrieval import _rank


def test_a_passage_tied_with_others_is_ranked_after_all_of_them():
    # Given hits where the expected passage shares its score with two others, listed first
    hits = [("a", 9.0), ("expected", 4.0), ("b", 4.0), ("c", 4.0), ("d", 1.0)]
    # Then it ranks after both: the engine orders equal scores arbitrarily, and the evaluation
    # must neither change from run to run nor gain from a lucky order
    assert _rank(hits, "expected") == 4
    assert _rank(list(reversed(hits[:4])) + hits[4:], "expected") == 4


def test_a_passage_with_a_score_of_its_own_keeps_its_place_and_a_missing_one_has_none():
    hits = [("a", 9.0), ("expected", 5.0), ("b", 4.0)]
    assert _rank(hits, "expected") == 2
    assert _rank(hits, "absent") is None
