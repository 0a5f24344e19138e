"""BM25 sparse vectors: the keyword half of hybrid search.

Qdrant Edge's ``Bm25`` tokenises (lowercase, English stop words and stemming) and hashes
terms into the same token ids, with the same term-frequency weights, as Qdrant server's
``qdrant/bm25`` inference; the collection applies IDF (its sparse vector has the IDF modifier).
So vectors written here, in Lambda or on a laptop, are matched by a query encoded here or by
the server (``models.Document(text=..., model="qdrant/bm25")``) alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from qdrant_edge import Bm25

from docproc.vectors.port import SparseVector


class Bm25Encoder:
    def __init__(self) -> None:
        self._bm25 = Bm25()

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        out = []
        for text in texts:
            vector = self._bm25.embed_document(text)
            out.append(SparseVector(indices=list(vector.indices), values=list(vector.values)))
        return out

    def encode_query(self, text: str) -> SparseVector:
        vector = self._bm25.embed_query(text)
        return SparseVector(indices=list(vector.indices), values=list(vector.values))
