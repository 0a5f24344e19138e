"""Offline embedders: feature hashing of words and word pairs.

What they are: deterministic, dependency-free lexical embeddings. Each lower-cased word and
each pair of adjacent words is hashed to one of ``dimensions`` buckets with a hashed sign;
counts are dampened (1 + log tf) and the vector is L2-normalised, so cosine similarity
approximates weighted word overlap. Same text, same vector, on any machine.

Two versions, each with collections of its own (the model name is part of a collection's):

- ``hashing-v2``, the default: a whole batch is embedded in a few passes of numpy over its
  code points (~3x faster than v1). A word is a run of letters, digits, marks and ``_``
  (marks too, unlike Python's ``\\w``, so a Devanagari vowel sign or a combining accent does
  not cut a word in two), found in the lower-cased text; its hash is a polynomial over its
  code points modulo 2**64, finished by SplitMix64's mixer; a pair's hash mixes its words'.
- ``hashing-v1``, the first release: words are Python's ``\\w+`` runs, each feature's string
  is hashed with BLAKE2b. Kept so that the collections it made stay searchable, and can be
  re-indexed into v2 without extracting anything again (README: the offline embedder).

What they are not: a semantic model. They do not know that "car" and "automobile" are
related, and quality drops as collisions grow. Use them for laptops, tests and air-gapped
demos; use EMBEDDER=openai (or any OpenAI-compatible server) for real retrieval quality.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from docproc.config import HASHING_V1, HASHING_V2
from docproc.embedding.port import Embedder

_U64 = npt.NDArray[np.uint64]


def hashing_embedder(model: str, dimensions: int) -> Embedder:
    """The offline embedder of that name (``EmbeddingModelSettings.model_name``)."""
    if model == HASHING_V1:
        return HashingV1Embedder(dimensions)
    return HashingEmbedder(dimensions)


class HashingEmbedder:
    """hashing-v2: every text of a batch at once, in array passes (no Python per word)."""

    # Code points embedded per pass: bounds the pass's arrays (~45 bytes a code point, ~3 MB)
    # whatever the batch size; a longer text is a pass of its own. Larger passes were slower
    # here (2**18: 0.23 s for 8 MB of chunks, 2**16: 0.18 s).
    PASS_CODE_POINTS = 1 << 16

    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions
        # _POLY ** i and its inverse ** i modulo 2**64, for i below the longest pass so far: one
        # attribute, replaced whole, so a thread that embeds while another grows the tables
        # never sees a long table beside a short one.
        self._power_tables: tuple[_U64, _U64] = (np.empty(0, dtype=np.uint64),) * 2

    @property
    def model_name(self) -> str:
        return HASHING_V2

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for batch in _passes(texts, self.PASS_CODE_POINTS):
            vectors.extend(self._embed_pass(batch).tolist())
        return vectors

    def _embed_pass(self, texts: list[str]) -> npt.NDArray[np.float64]:
        lowered = [text.lower() for text in texts]
        # NUL between texts: not a word character, so no word runs from one text into the next.
        code_points = np.frombuffer(
            "\0".join(lowered).encode("utf-32-le", "surrogatepass"), dtype="<u4"
        )
        in_word = _word_characters()[np.minimum(code_points, _BMP)]
        edges = np.flatnonzero(np.diff(in_word.view(np.int8), prepend=0, append=0))
        starts, ends = edges[0::2], edges[1::2]
        # A word's hash, for all words at once: sum of c[i] * P**(i - start) over the word,
        # from prefix sums of c[i] * P**i, shifted down by P**-start (P is odd: invertible).
        powers, inverse_powers = self._powers_below(len(code_points))
        prefix = np.zeros(len(code_points) + 1, dtype=np.uint64)
        np.cumsum(code_points.astype(np.uint64) * powers, out=prefix[1:])
        words = _mix((prefix[ends] - prefix[starts]) * inverse_powers[starts])
        # Which text each word is in, and its pairs with the next word of the same text.
        text_starts = np.cumsum([0] + [len(text) + 1 for text in lowered[:-1]])
        text_of_word = np.searchsorted(text_starts, starts, side="right") - 1
        paired = text_of_word[1:] == text_of_word[:-1]
        pairs = _mix(words[:-1] * _PAIR + words[1:])[paired]
        features = np.concatenate([words, pairs]) >> np.uint64(64 - _FEATURE_BITS)
        owners = np.concatenate([text_of_word, text_of_word[:-1][paired]]).astype(np.uint64)
        # Term frequency per (text, feature): one sort for the whole pass.
        keys, counts = np.unique(owners << np.uint64(_FEATURE_BITS) | features, return_counts=True)
        owner = (keys >> np.uint64(_FEATURE_BITS)).astype(np.intp)
        feature = keys & np.uint64((1 << _FEATURE_BITS) - 1)
        bucket = ((feature >> np.uint64(1)) % np.uint64(self._dimensions)).astype(np.intp)
        weight = np.where(feature & np.uint64(1), 1.0, -1.0) * (1.0 + np.log(counts))
        summed = (
            np.bincount(
                owner * self._dimensions + bucket,
                weights=weight,
                minlength=len(texts) * self._dimensions,
            )
            .astype(np.float64, copy=False)  # integers when there is no feature at all
            .reshape(len(texts), self._dimensions)
        )
        norms = np.sqrt(np.einsum("ij,ij->i", summed, summed))
        # No words, or every feature cancelled out: a fixed unit vector keeps cosine defined.
        empty = norms == 0.0
        norms[empty] = 1.0
        summed /= norms[:, None]
        summed[empty, 0] = 1.0
        return summed

    def _powers_below(self, count: int) -> tuple[_U64, _U64]:
        powers, inverse_powers = self._power_tables
        if len(powers) < count:
            size = max(count, 2 * len(powers), 1024)
            powers = _cumulative_powers(_POLY, size)
            inverse_powers = _cumulative_powers(_POLY_INVERSE, size)
            self._power_tables = (powers, inverse_powers)
        return powers[:count], inverse_powers[:count]


# An odd multiplier (the 64-bit FNV prime) and its inverse modulo 2**64.
_POLY = 0x100000001B3
_POLY_INVERSE = pow(_POLY, -1, 1 << 64)
# The golden ratio's 64 bits: mixes a pair's first word before adding the second.
_PAIR = np.uint64(0x9E3779B97F4A7C15)
# A feature is its hash's top 44 bits; the 20 bits above them name its text in the pass (a
# pass of 2**16 code points holds at most 2**16 texts, a separator each; one longer text is
# a pass alone).
_FEATURE_BITS = 44
_BMP = 0x10000


def _mix(values: _U64) -> _U64:
    """SplitMix64's finaliser: every input bit moves every output bit."""
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: _U64 = values ^ (values >> np.uint64(31))
    return mixed


def _cumulative_powers(base: int, count: int) -> _U64:
    """base ** 0 .. base ** (count - 1), modulo 2**64 (uint64 products wrap)."""
    powers = np.empty(count, dtype=np.uint64)
    powers[0] = 1
    np.cumprod(np.full(count - 1, base, dtype=np.uint64), out=powers[1:])
    return powers


@functools.cache
def _word_characters() -> npt.NDArray[np.bool_]:
    """Whether each code point of the Basic Multilingual Plane is in a word, and at index
    0x10000, one for every code point above it (all counted in: emoji, rare ideographs).
    Built on first use: ~10 ms, a table of all of Unicode would take ten times that."""
    table = np.fromiter(
        (
            char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"
            for char in map(chr, range(_BMP))
        ),
        dtype=np.bool_,
        count=_BMP,
    )
    return np.append(table, True)


def _passes(texts: Sequence[str], code_points: int) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for text in texts:
        if batch and size + len(text) > code_points:
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += len(text) + 1
    if batch:
        yield batch


_WORD = re.compile(r"\w+", re.UNICODE)
# Words and word pairs repeat across a document: each is hashed once and remembered (~150
# bytes each, so at most ~10 MB: past this many the memory is dropped and started again).
_REMEMBERED = 1 << 16
_HASH = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


class HashingV1Embedder:
    """hashing-v1, as first released: each feature's string hashed with BLAKE2b."""

    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions
        # feature -> its bucket and sign as one int: bucket * 2, plus 1 when the sign is +1
        self._codes: dict[str, int] = {}

    @property
    def model_name(self) -> str:
        return HASHING_V1

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _codes_of(self, features: list[str]) -> list[int]:
        """Hash features not seen yet, all at once: each call below is C (a feature's BLAKE2b
        digest read as a little-endian integer), with no Python frame per feature."""
        if len(self._codes) + len(features) > _REMEMBERED:
            self._codes.clear()
        digests = map(_DIGEST, map(_HASH, map(str.encode, features)))
        values = np.frombuffer(b"".join(digests), dtype="<u8")
        codes: list[int] = (((values >> 1) % self._dimensions) * 2 + (values & 1)).tolist()
        self._codes.update(zip(features, codes, strict=True))
        return codes

    def _embed_one(self, text: str) -> list[float]:
        words = list(map(str.lower, _WORD.findall(text)))
        features = Counter(words)
        features.update(map(" ".join, itertools.pairwise(words)))
        if not features:
            return _unit(self._dimensions)
        known: list[Any] = list(map(self._codes.get, features))
        if None in known:
            unseen = [
                feature for feature, code in zip(features, known, strict=True) if code is None
            ]
            hashed = iter(self._codes_of(unseen))
            known = [next(hashed) if code is None else code for code in known]
        count = len(known)
        codes = np.fromiter(known, dtype=np.intp, count=count)
        signs = np.where(codes & 1, 1.0, -1.0)
        counts = np.fromiter(features.values(), dtype=np.float64, count=count)
        summed = np.bincount(
            codes >> 1, weights=signs * (1.0 + np.log(counts)), minlength=self._dimensions
        )
        norm = float(np.sqrt(summed @ summed))
        if norm == 0.0:
            return _unit(self._dimensions)  # every feature cancelled out
        normalised: list[float] = (summed / norm).tolist()
        return normalised


def _unit(dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    vector[0] = 1.0
    return vector
