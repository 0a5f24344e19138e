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

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions

    @property
    def model_name(self) -> str:
        return "hashing-v1"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        words = [word.lower() for word in _WORD.findall(text)]
        features = Counter(words)
        features.update(f"{a} {b}" for a, b in itertools.pairwise(words))
        vector = [0.0] * self._dimensions
        for feature, count in features.items():
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            sign = 1.0 if value & 1 else -1.0
            vector[(value >> 1) % self._dimensions] += sign * (1.0 + math.log(count))
        norm = math.sqrt(sum(component * component for component in vector))
        if norm == 0.0:
            # Empty or punctuation-only text: a fixed unit vector keeps cosine defined.
            vector[0] = 1.0
            return vector
        return [component / norm for component in vector]
