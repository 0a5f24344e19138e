"""An offline embedder: feature hashing of words and word pairs.

What it is: a deterministic, dependency-free lexical embedding. Each lower-cased word and
each pair of adjacent words is hashed (BLAKE2b) to one of ``dimensions`` buckets with a
hashed sign; counts are dampened (1 + log tf) and the vector is L2-normalised, so cosine
similarity approximates weighted word overlap. Same text, same vector, on any machine.

What it is not: a semantic model. It does not know that "car" and "automobile" are related,
and quality drops as collisions grow. Use it for laptops, tests and air-gapped demos; use
EMBEDDER=openai (or any OpenAI-compatible server) for real retrieval quality.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
# Words and word pairs repeat across a document: each is hashed once and remembered (~150
# bytes each, so at most ~10 MB: past this many the memory is dropped and started again).
_REMEMBERED = 1 << 16
_HASH = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


class HashingEmbedder:
    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions
        # feature -> its bucket and sign as one int: bucket * 2, plus 1 when the sign is +1
        self._codes: dict[str, int] = {}

    @property
    def model_name(self) -> str:
        return "hashing-v1"

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
        # Loops run in C where they can (map, Counter): this is the laptop's hot path.
        words = list(map(str.lower, _WORD.findall(text)))
        features = Counter(words)
        features.update(map(" ".join, itertools.pairwise(words)))
        if not features:
            # Empty or punctuation-only text: a fixed unit vector keeps cosine defined.
            return self._unit()
        known = list(map(self._codes.get, features))
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
            return self._unit()  # every feature cancelled out
        normalised: list[float] = (summed / norm).tolist()
        return normalised

    def _unit(self) -> list[float]:
        vector = [0.0] * self._dimensions
        vector[0] = 1.0
        return vector
