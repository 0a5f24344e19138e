"""The embedder port: texts in, one vector per text out, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from docproc.vectors.port import SparseVector


class Embedder(Protocol):
    @property
    def model_name(self) -> str:
        """Identifies the vector space: vectors of different models never share a collection."""
        ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Vectors for ``texts``, in order. TransientError when worth retrying later.

        Any sequence of floats: an embeddings API's are float32 arrays, as it sends them (a
        Python float is 24 bytes, and a segment holds several batches at once)."""
        ...


class SparseEncoder(Protocol):
    """Text to sparse (keyword) vectors, beside the dense embedder: hybrid search."""

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]: ...

    def encode_query(self, text: str) -> SparseVector: ...
