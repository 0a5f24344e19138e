"""The laptop's vector store before Qdrant Edge, kept as the baseline of the store comparison
in the benchmarks (BENCHMARKS.md): not part of docproc any more.

VectorStore in one SQLite file, with memory flat in the point count.

Embedded Qdrant keeps every point in the process's memory (about 14 KB a point with its
payload), which is 6 GB for the ~400,000 chunks of a 1 GB text file. Here points live on disk
(float32 blobs beside their payload) and a search is exact cosine similarity computed by numpy
over the tenant's visible rows a batch at a time, keeping the best ``limit``: memory is one
batch whatever the collection holds. Writers in several processes share the file (WAL).

It is a stand-in, not a vector database: a search reads every candidate vector, so it suits a
laptop's thousands to a few million chunks; production uses Qdrant.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Sequence
from pathlib import Path

from docproc.errors import EmbeddingDimensionMismatch
from docproc.sqlitedb import SQLiteDatabase
from docproc.vectors.port import SearchHit, VectorPoint

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collection (
    name TEXT PRIMARY KEY,
    dimensions INTEGER NOT NULL
);
-- One table holds every collection (one per embedding model and size); the collection
-- column in the key and in every query keeps them apart, as Qdrant does.
CREATE TABLE IF NOT EXISTS points (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    case_id TEXT,
    document_id TEXT NOT NULL,
    version TEXT NOT NULL,
    visible INTEGER NOT NULL,
    chunk_hash TEXT,
    payload TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS points_by_document
    ON points (collection, tenant_id, document_id, version);
CREATE INDEX IF NOT EXISTS points_searchable ON points (collection, tenant_id, visible, case_id);
"""
# Copied out of the payload into columns that filters use; "visible" is kept only there.
_VISIBLE = "visible"
_SEARCH_BATCH = 4096
# SQLite's limit on host parameters in one statement is 32,766; ids are asked in slices.
_IDS_PER_QUERY = 900


class SQLiteVectorStore:
    def __init__(self, path: Path, collection: str, dimensions: int) -> None:
        self._database = SQLiteDatabase(path, _SCHEMA)
        self._collection = collection
        self._dimensions = dimensions
        self._ready = False

    @property
    def collection(self) -> str:
        return self._collection

    def ensure_collection(self) -> None:
        if self._ready:
            return
        with self._database.transaction() as db:
            row = db.execute(
                "SELECT dimensions FROM collection WHERE name = ?", (self._collection,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO collection (name, dimensions) VALUES (?, ?)",
                    (self._collection, self._dimensions),
                )
            elif row[0] != self._dimensions:
                raise EmbeddingDimensionMismatch(
                    f"collection {self._collection} holds vectors of size {row[0]}, "
                    f"the embedder makes {self._dimensions}"
                )
        self._ready = True

    def close(self) -> None:
        self._database.close()

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        self.ensure_collection()
        rows = []
        for point in points:
            if len(point.vector) != self._dimensions:
                raise EmbeddingDimensionMismatch(
                    f"point {point.id} has {len(point.vector)} dimensions, "
                    f"the collection {self._dimensions}"
                )
            payload = dict(point.payload)
            visible = bool(payload.pop(_VISIBLE, True))
            rows.append(
                (
                    self._collection,
                    point.id,
                    payload["tenant_id"],
                    payload.get("case_id"),
                    payload["document_id"],
                    payload["version"],
                    int(visible),
                    payload.get("chunk_hash"),
                    json.dumps(payload, ensure_ascii=False),
                    _unit_float32(point.vector),
                )
            )
        with self._database.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO points (collection, id, tenant_id, case_id, document_id, "
                "version, visible, chunk_hash, payload, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        db = self._database.connection()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            part = list(ids[start : start + _IDS_PER_QUERY])
            marks = ",".join("?" * len(part))
            for point_id, chunk_hash in db.execute(
                f"SELECT id, chunk_hash FROM points WHERE collection = ? AND id IN ({marks})",
                [self._collection, *part],
            ):
                found[point_id] = chunk_hash or ""
        return found

    def search(
        self,
        vector: list[float],
        tenant_id: str,
        *,
        case_id: str | None = None,
        document_id: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        if not tenant_id:
            raise ValueError("a search always names its tenant")
        if len(vector) != self._dimensions:
            raise EmbeddingDimensionMismatch(
                f"query has {len(vector)} dimensions, the collection {self._dimensions}"
            )
        # numpy loads for searches only: segment workers, which only write, stay smaller.
        import numpy as np

        query = np.frombuffer(_unit_float32(vector), dtype=np.float32)
        where, params = self._where(tenant_id=tenant_id, case_id=case_id, document_id=document_id)
        cursor = self._database.connection().execute(
            f"SELECT rowid, vector FROM points WHERE {where} AND visible = 1",
            params,
        )
        best_ids = np.empty(0, dtype=np.int64)
        best_scores = np.empty(0, dtype=np.float32)
        while rows := cursor.fetchmany(_SEARCH_BATCH):
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
            scores = matrix.reshape(len(rows), self._dimensions) @ query
            best_ids = np.concatenate([best_ids, ids])
            best_scores = np.concatenate([best_scores, scores])
            if len(best_scores) > limit:
                keep = np.argpartition(-best_scores, limit)[:limit]
                best_ids, best_scores = best_ids[keep], best_scores[keep]
        order = np.argsort(-best_scores, kind="stable")
        return self._hits([int(best_ids[i]) for i in order], [float(best_scores[i]) for i in order])

    def _hits(self, rowids: list[int], scores: list[float]) -> list[SearchHit]:
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        rows = {
            rowid: (point_id, visible, payload)
            for rowid, point_id, visible, payload in self._database.connection().execute(
                f"SELECT rowid, id, visible, payload FROM points WHERE rowid IN ({marks})",
                rowids,
            )
        }
        hits = []
        for rowid, score in zip(rowids, scores, strict=True):
            if rowid not in rows:  # deleted between the two reads
                continue
            point_id, visible, payload = rows[rowid]
            payload = {**json.loads(payload), _VISIBLE: bool(visible)}
            hits.append(SearchHit(id=point_id, score=score, payload=payload))
        return hits

    def count(self, tenant_id: str, document_id: str, version: str | None = None) -> int:
        where, params = self._where(tenant_id=tenant_id, document_id=document_id, version=version)
        row = (
            self._database.connection()
            .execute(f"SELECT count(*) FROM points WHERE {where}", params)
            .fetchone()
        )
        return int(row[0])

    def publish_version(
        self, tenant_id: str, document_id: str, version: str, retire_others: bool
    ) -> None:
        """One transaction: searches see the old version, then the new one."""
        where, params = self._where(tenant_id=tenant_id, document_id=document_id, version=version)
        with self._database.transaction() as db:
            db.execute(f"UPDATE points SET visible = 1 WHERE {where}", params)
            if retire_others:
                others, others_params = self._document_except(tenant_id, document_id, version)
                db.execute(f"DELETE FROM points WHERE {others}", others_params)

    def delete_version(self, tenant_id: str, document_id: str, version: str) -> None:
        self._delete(self._where(tenant_id=tenant_id, document_id=document_id, version=version))

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        self._delete(self._document_except(tenant_id, document_id, keep_version))

    def _document_except(
        self, tenant_id: str, document_id: str, keep_version: str | None
    ) -> tuple[str, list[str]]:
        where, params = self._where(tenant_id=tenant_id, document_id=document_id)
        if keep_version is None:
            return where, params
        return f"{where} AND version != ?", [*params, keep_version]

    def _where(self, **conditions: str | None) -> tuple[str, list[str]]:
        """``column = ?`` for this collection and each condition given (column names are this
        module's own, never input)."""
        given = {"collection": self._collection}
        given.update({column: value for column, value in conditions.items() if value is not None})
        return " AND ".join(f"{column} = ?" for column in given), list(given.values())

    def _delete(self, condition: tuple[str, list[str]]) -> None:
        where, params = condition
        with self._database.transaction() as db:
            db.execute(f"DELETE FROM points WHERE {where}", params)


def _unit_float32(vector: Sequence[float]) -> bytes:
    """Unit length, so cosine similarity is a dot product (Qdrant normalises cosine vectors
    too), as float32 bytes."""
    norm = math.sqrt(math.fsum(x * x for x in vector)) or 1.0
    return array("f", [x / norm for x in vector]).tobytes()
