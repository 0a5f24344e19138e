"""The offline embedder's vectors are part of every laptop collection: they must not change."""

from __future__ import annotations

import pytest

from docproc.embedding import hashing
from docproc.embedding.hashing import HashingEmbedder

# Made by hashing-v1 as first released (commit f25c3e8), 16 dimensions: bucket -> value.
GOLDEN = {
    "Notice of termination: case 2024-CV-0193, Straße İstanbul.": {
        0: 0.301511,
        1: -0.301511,
        3: -0.603023,
        5: -0.301511,
        6: 0.301511,
        12: 0.301511,
        13: 0.301511,
        14: 0.301511,
    },
    "the the the cat": {2: 0.556075, 9: 0.328427, 12: -0.328427, 15: -0.68924},
}


def _nonzero(vector: list[float]) -> dict[int, float]:
    return {index: round(value, 6) for index, value in enumerate(vector) if value}


def test_the_same_text_gets_the_vector_it_always_had():
    # Given the texts whose vectors hashing-v1 made when it was released
    embedder = HashingEmbedder(16)
    # When they are embedded now
    vectors = embedder.embed(list(GOLDEN))
    # Then each vector is the one it was, bucket by bucket
    assert [_nonzero(vector) for vector in vectors] == list(GOLDEN.values())


def test_forgetting_the_remembered_features_changes_no_vector(monkeypatch: pytest.MonkeyPatch):
    # Given an embedder that remembers at most 3 features (its memory is dropped often)
    monkeypatch.setattr(hashing, "_REMEMBERED", 3)
    forgetful = HashingEmbedder(16)
    # When the same texts are embedded twice, the memory dropped in between
    first, again = forgetful.embed(list(GOLDEN)), forgetful.embed(list(GOLDEN))
    # Then every vector is the golden one both times
    assert [_nonzero(vector) for vector in first + again] == list(GOLDEN.values()) * 2


@pytest.mark.parametrize("text", ["", "  ", "!?", "—"])
def test_text_without_words_gets_a_fixed_unit_vector(text: str):
    assert HashingEmbedder(8).embed([text]) == [[1.0, 0, 0, 0, 0, 0, 0, 0]]
