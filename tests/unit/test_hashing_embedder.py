"""The offline embedders' vectors are part of every laptop collection: a version's vectors must
not change, and hashing-v2's array passes must compute exactly what its definition says."""

from __future__ import annotations

import itertools
import math
import sys
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docproc.embedding import hashing
from docproc.embedding.hashing import HashingEmbedder, HashingV1Embedder

TEXTS = ["Notice of termination: case 2024-CV-0193, Straße İstanbul.", "the the the cat"]
# Made by each version as first released, 16 dimensions: bucket -> value.
GOLDEN = {
    # commit f25c3e8
    HashingV1Embedder: [
        {0: 0.301511, 1: -0.301511, 3: -0.603023, 5: -0.301511, 6: 0.301511}
        | {12: 0.301511, 13: 0.301511, 14: 0.301511},
        {2: 0.556075, 9: 0.328427, 12: -0.328427, 15: -0.68924},
    ],
    # the commit that made it the default
    HashingEmbedder: [
        {2: -0.333333, 3: -0.333333, 7: -0.666667, 9: -0.333333, 10: -0.333333, 13: -0.333333},
        {2: -0.328427, 6: -0.68924, 7: 0.328427, 14: 0.556075},
    ],
}


def _nonzero(vector: list[float]) -> dict[int, float]:
    return {index: round(value, 6) for index, value in enumerate(vector) if value}


@pytest.mark.parametrize("version", list(GOLDEN))
def test_the_same_text_gets_the_vector_it_always_had(version: type):
    # Given the texts whose vectors this version made when it was released
    embedder = version(16)
    # When they are embedded now
    vectors = embedder.embed(TEXTS)
    # Then each vector is the one it was, bucket by bucket
    assert [_nonzero(vector) for vector in vectors] == GOLDEN[version]


def test_forgetting_the_remembered_features_changes_no_vector(monkeypatch: pytest.MonkeyPatch):
    # Given a v1 embedder that remembers at most 3 features (its memory is dropped often)
    monkeypatch.setattr(hashing, "_REMEMBERED", 3)
    forgetful = HashingV1Embedder(16)
    # When the same texts are embedded twice, the memory dropped in between
    first, again = forgetful.embed(TEXTS), forgetful.embed(TEXTS)
    # Then every vector is the golden one both times
    assert [_nonzero(vector) for vector in first + again] == GOLDEN[HashingV1Embedder] * 2


@pytest.mark.parametrize("version", list(GOLDEN))
@pytest.mark.parametrize("text", ["", "  ", "!?", "—"])
def test_text_without_words_gets_a_fixed_unit_vector(version: type, text: str):
    assert version(8).embed([text]) == [[1.0, 0, 0, 0, 0, 0, 0, 0]]


# hashing-v2 as its docstring defines it, one text at a time in plain Python integers.
_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _in_word(char: str) -> bool:
    return (
        char.isalnum()
        or char == "_"
        or unicodedata.category(char).startswith("M")
        or ord(char) > 0xFFFF
    )


def _words(text: str) -> list[str]:
    words, current = [], ""
    for char in text.lower() + " ":
        if _in_word(char):
            current += char
        elif current:
            words.append(current)
            current = ""
    return words


def _word_hash(word: str) -> int:
    return _mix(sum(ord(char) * 0x100000001B3**at for at, char in enumerate(word)) & _MASK)


def _reference_vector(text: str, dimensions: int) -> list[float]:
    hashes = [_word_hash(word) for word in _words(text)]
    pairs = [_mix((a * 0x9E3779B97F4A7C15 + b) & _MASK) for a, b in itertools.pairwise(hashes)]
    vector = [0.0] * dimensions
    for feature, count in Counter(value >> 20 for value in hashes + pairs).items():
        sign = 1.0 if feature & 1 else -1.0
        vector[(feature >> 1) % dimensions] += sign * (1.0 + math.log(count))
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:
        return [1.0] + [0.0] * (dimensions - 1)
    return [value / norm for value in vector]


# Letters of several scripts and cases (İ lower-cases to two code points; Greek sigma,
# Cyrillic ie), digits (an Arabic-Indic three too), marks (combining and Devanagari vowel
# signs), an astral letter (mathematical bold A) and an emoji, `_`, punctuation, NUL (the
# passes' own separator) and every kind of space. Each text is doubled, so its words and
# pairs repeat (tf above 1).
_ALPHABET = [
    *"aZßİé文ह\u093f\u0301_3.,'-\0 \t\n\u00a0\u2028",
    *"\u03a3\u03c3",
    *"\u0435\u0663\u2019\u2014\U0001d400\U0001f600",
]
_TEXTS = st.lists(
    st.text(alphabet=st.sampled_from(_ALPHABET), max_size=40).map(lambda text: text * 2),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(texts=_TEXTS, pass_code_points=st.integers(min_value=1, max_value=200))
def test_v2_embeds_each_text_as_its_definition_says_in_passes_of_any_size(
    texts: list[str], pass_code_points: int
):
    # Given texts embedded together, in passes of any size (one text, several, or all)
    embedder = HashingEmbedder(16)
    embedder.PASS_CODE_POINTS = pass_code_points
    # When they are embedded by hashing-v2's array passes
    vectors = embedder.embed(texts)
    # Then each text's vector is its definition's, computed alone: no word or pair runs from
    # one text into the next, and a word's hash is its own code points' wherever it starts
    assert len(vectors) == len(texts)
    for text, vector in zip(texts, vectors, strict=True):
        assert np.allclose(vector, _reference_vector(text, 16), rtol=0, atol=1e-12), text


def test_v2_shared_by_threads_embeds_as_it_does_alone():
    # Given embedders each shared by threads (in-process handlers serve a Map's segments at
    # once), each thread embedding a pass longer than any before it, so each grows the power
    # tables the embedder keeps, with the interpreter switching threads as often as it can
    texts = [[f"word{n} " * (64 * size) for n in range(2)] for size in range(1, 33)]
    alone = [HashingEmbedder(16).embed(batch) for batch in texts]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(10):
            shared = HashingEmbedder(16)
            # When the threads embed at once
            with ThreadPoolExecutor(max_workers=8) as pool:
                vectors = list(pool.map(shared.embed, texts))
            # Then every thread gets the vectors a fresh embedder gives (none read a grown
            # table beside one not grown yet)
            assert vectors == alone
    finally:
        sys.setswitchinterval(interval)
