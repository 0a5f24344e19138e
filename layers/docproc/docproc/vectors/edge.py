"""VectorStore on Qdrant Edge: Qdrant's engine inside this process, on disk. The laptop's store.

One shard (a directory) per collection, under ``DOCPROC_HOME/vectors/``. The points are the
server's: the same payload and payload indexes, the dense vector and the ``bm25`` sparse
vector (the shard applies IDF), filtered and fused by the same engine. One process opens a
shard: the runner's parent owns it and serves its workers, and searches from other commands
(local/vectors_server.py).

Memory. Vectors, payloads and sealed segments are memory-mapped (``Memory.Cold``): the pages
the kernel caches of them count in RSS as file-backed pages, which it reclaims under pressure.
What the process holds itself (anonymous memory) is the appendable segment: above all the
sparse inverted index, which grows with every point written to it. So every ``seal_every``
points the store seals it: ``optimize()`` writes the appendable segment out as an immutable
one on disk, and a flush lets go of what that allocated. What stays is each sealed segment's
map of the BM25 terms in it, which Qdrant keeps in memory whatever the storage: it grows with
the vocabulary (BENCHMARKS.md, Vector stores).

Search is exact: no HNSW graph (``m=0``) but a scan of the vectors the payload indexes select
(the tenant's visible points), tens of milliseconds for a laptop's hundreds of thousands of
chunks; building a graph would add minutes to an ingest.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    Fusion,
    HnswIndexConfig,
    IdfParams,
    KeywordIndexParams,
    MatchValue,
    Memory,
    Modifier,
    Point,
    PointVectors,
    Prefetch,
    Query,
    QueryRequest,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from docproc.errors import EmbeddingDimensionMismatch, VectorStoreBusy
from docproc.malloc import release_freed_memory, share_one_malloc_arena
from docproc.vectors.port import (
    KEYWORD_INDEXES,
    PREFETCH_FACTOR,
    SPARSE_VECTOR,
    VISIBLE,
    HybridFusion,
    SearchHit,
    SparseVector,
    VectorPoint,
)

# Points written before the appendable segment is sealed. What a writer holds peaks during a
# seal, at about three times what the appendable segment's sparse index held (the new segment's
# index is built in memory), so the peak follows this number. Writing 416k chunks of the
# benchmark's 1 GB text, its own memory peaked at 327 MB sealing every 16,384 points and at 261
# MB every 8,192, in the same time (116.8 vs 115.1 s); a dense search with a tenant filter
# went from 7.9 to 11.1 ms (26 segments to scan, then 51). Every 4,096 wrote 30% slower.
SEAL_EVERY = 8_192
# Segments Qdrant's optimizers aim at: past it, a seal also merges (see _merged_segment_limit_kb).
SEGMENT_TARGET = 64
# Qdrant Edge's own record of a shard's configuration: present once the shard was created.
_CONFIG_FILE = "edge_config.json"
# How many points the appendable segment holds, kept beside the shard between processes (each
# `docproc` command, each stage of a benchmark, opens it anew). A process killed before it
# closes the shard leaves the count short by its own points: the seal comes that much later.
_UNSEALED_FILE = "docproc-unsealed-points"
# The staged versions, one JSON list of [tenant, document, version]; absent from a shard made
# before it, whose staged points say ``visible: false`` (found once, at the first opening).
_STAGED_FILE = "docproc-staged-versions.json"
# What changed in that list since it was written, a line per change (["+" or "-", tenant,
# document, version]), appended as versions are staged and published: an append is one write,
# where replacing the list is a rename over a file, which ext4 makes wait for the new file's
# data (~0.5 ms, twice per document). Folded into the list at each opening and every
# _JOURNAL_LIMIT lines.
_STAGED_JOURNAL = "docproc-staged-versions.journal"
_JOURNAL_LIMIT = 4096
# Beside each shard, ``<collection>.lock``: locked (flock) by the process that has the shard
# open, and naming it. A second process is refused before it changes anything, with a typed
# error; Qdrant Edge's own lock (on its write-ahead log) fails it only at the first write, part
# way through its work, and with an untyped one. The kernel drops a killed process's lock.
_LOCK_SUFFIX = ".lock"
# Points read per request when a shard from before the list of staged versions is first opened.
_MIGRATION_PAGE = 4096


def _match(value: str | bool) -> MatchValue:
    # qdrant-edge-py 0.9 reads a Python bool as an integer (True -> 1), which matches no
    # boolean payload; numpy's bool_ is read as a boolean.
    matched: Any = np.bool_(value) if isinstance(value, bool) else value
    return MatchValue(value=matched)


def _conditions(**values: str | bool | None) -> list[Any]:
    return [
        FieldCondition(key=key, match=_match(value))
        for key, value in values.items()
        if value is not None
    ]


def _persisted_size(config: Path) -> int:
    """The dense vectors' size in a shard's persisted configuration."""
    return int(json.loads(config.read_text())["vectors"][""]["size"])


def _pages(shard: EdgeShard, condition: Filter, payload: list[str], limit: int) -> Iterator[Any]:
    """The points ``condition`` selects, ``limit`` at a time (non-empty lists of records), with
    those payload fields and no vectors."""
    offset = None
    while True:
        records, offset = shard.scroll(
            ScrollRequest(
                offset=offset,
                limit=limit,
                filter=condition,
                with_payload=payload,
                with_vector=False,
            )
        )
        if records:
            yield records
        if offset is None:
            return


StagedVersion = tuple[str, str, str]  # tenant, document, version


def _version_filter(tenant_id: str, document_id: str, version: str) -> Filter:
    return Filter(must=_conditions(tenant_id=tenant_id, document_id=document_id, version=version))


class EdgeVectorStore:
    def __init__(
        self,
        root: Path,
        collection: str,
        dimensions: int,
        seal_every: int = SEAL_EVERY,
        fusion: HybridFusion | None = None,
    ) -> None:
        self._path = root / collection
        self._fusion = fusion or HybridFusion()
        self._collection = collection
        self._dimensions = dimensions
        self._seal_every = seal_every
        self._shard: EdgeShard | None = None
        self._unsealed = 0
        self._staged: set[StagedVersion] = set()
        self._journal_lines = 0
        self._lock: TextIO | None = None
        # A segment with batches in flight writes from several threads (VectorSink): the count
        # toward the next seal, the staged versions and the shard see one call at a time.
        self._writing = threading.RLock()

    @classmethod
    def for_existing_shard(cls, root: Path, collection: str) -> EdgeVectorStore | None:
        """The shard of ``collection`` under ``root`` with the size it was made with; None if
        there is none."""
        persisted = root / collection / _CONFIG_FILE
        if not persisted.is_file():
            return None
        return cls(root, collection, _persisted_size(persisted))

    @property
    def collection(self) -> str:
        return self._collection

    def exists(self) -> bool:
        return (self._path / _CONFIG_FILE).is_file()

    def _config(self) -> EdgeConfig:
        return EdgeConfig(
            vectors=EdgeVectorParams(
                size=self._dimensions, distance=Distance.Cosine, memory=Memory.Cold
            ),
            sparse_vectors={
                SPARSE_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf, memory=Memory.Cold)
            },
            payload_memory=Memory.Cold,
            hnsw_config=HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
            # Sealing: optimize(), which only a seal calls, makes whatever the appendable segment
            # holds an immutable segment (a threshold of 1 KB of vectors: a larger one depends
            # on the dimensions, and 20,000 KB left 16,384 points of 256 dimensions appendable);
            # sealed segments are not merged (that would rewrite the collection).
            optimizers=EdgeOptimizersConfig(
                indexing_threshold=1,
                default_segment_number=SEGMENT_TARGET,
                max_segment_size=self._merged_segment_limit_kb(),
            ),
        )

    def _merged_segment_limit_kb(self) -> int:
        """Qdrant's merge optimizer, which runs in a seal once a shard has more segments than
        SEGMENT_TARGET (524k points sealed every 8,192), builds only segments under this many KB
        of dense vectors: two sealed segments never merge; smaller ones (what deletes leave) may.

        A merge builds its segment in memory as a seal does, so a writer's peak follows the
        largest merge. Qdrant's default limit (200,000 KB a core) merged ever larger segments:
        writing 200,000 points sealed every 8,192 past a target of 8 segments took 77 s and
        the writer's memory peaked at 338 MB; merging pairs only, 69 s and 223 MB; no merges,
        54 s and 174 MB, for 25 segments to search instead of 8-13 (dense p50 5.4 ms, not 4.3).
        """
        sealed_bytes = self._seal_every * self._dimensions * 4  # float32
        return max(1, 2 * sealed_bytes // 1024)

    def claim(self) -> None:
        """Make the shard this process's until ``close`` (its lock file names this process):
        VectorStoreBusy if another process has it."""
        if self._lock is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Held until close, not closed here.
        lock = open(self._path.parent / f"{self._collection}{_LOCK_SUFFIX}", "a+")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip()
            lock.close()
            raise VectorStoreBusy(
                f"the vector store {self._collection} is open in another process"
                + (f" (pid {holder})" if holder.isdigit() else "")
                + ": run this again when it has finished"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock
        share_one_malloc_arena()

    def ensure_collection(self) -> None:
        if self._shard is not None:
            return
        with self._writing:
            if self._shard is None:
                self._create_or_load()

    def _create_or_load(self) -> None:
        self.claim()
        persisted = self._path / _CONFIG_FILE
        if persisted.is_file():
            size = _persisted_size(persisted)
            if size != self._dimensions:
                raise EmbeddingDimensionMismatch(
                    f"collection {self._collection} holds vectors of size {size}, "
                    f"the embedder makes {self._dimensions}"
                )
            # Loaded with this code's configuration, which it checks against the shard's and
            # writes over it: a shard made with another sealing threshold takes this one.
            self._shard = EdgeShard.load(str(self._path), self._config())
            counted = self._path / _UNSEALED_FILE
            self._unsealed = int(counted.read_text()) if counted.is_file() else 0
            self._read_staged(self._shard)
            return
        self._path.mkdir(parents=True, exist_ok=True)
        shard = EdgeShard.create(str(self._path), self._config())
        # The payload indexes on disk (Memory.Cold) as the payloads are: held in memory, they
        # took 10-15 MB more of a writer's peak at 200,000 points (the appendable segment's
        # indexes), and writing was no faster (1.02x, 6 pairs of 100,000 points). A shard made
        # before keeps its indexes.
        shard.update(
            UpdateOperation.create_field_index(
                "tenant_id", KeywordIndexParams(is_tenant=True, memory=Memory.Cold)
            )
        )
        for field in KEYWORD_INDEXES:
            shard.update(
                UpdateOperation.create_field_index(field, KeywordIndexParams(memory=Memory.Cold))
            )
        self._shard = shard
        self._staged = set()
        self._save_staged()

    def _read_staged(self, shard: EdgeShard) -> None:
        listed = self._path / _STAGED_FILE
        if listed.is_file():
            self._staged = {
                (tenant, document, version)
                for tenant, document, version in json.loads(listed.read_text())
            }
            journal = self._path / _STAGED_JOURNAL
            if journal.is_file():
                for line in journal.read_text().splitlines(keepends=True):
                    if not line.endswith("\n"):
                        break  # a last append cut short: the write never returned
                    change, tenant, document, version = json.loads(line)
                    if change == "+":
                        self._staged.add((tenant, document, version))
                    else:
                        self._staged.discard((tenant, document, version))
                self._save_staged()
            return
        # A shard from before the list: its staged points are the ones not yet visible.
        staged: set[StagedVersion] = set()
        hidden = Filter(must=_conditions(visible=False))
        for records in _pages(
            shard, hidden, ["tenant_id", "document_id", "version"], _MIGRATION_PAGE
        ):
            staged.update(
                (str(payload["tenant_id"]), str(payload["document_id"]), str(payload["version"]))
                for payload in (record.payload or {} for record in records)
            )
        self._staged = staged
        self._save_staged()

    def _save_staged(self) -> None:
        """Write the list whole, then drop the journal it now includes (a crash in between
        leaves changes that apply again to the same effect)."""
        listed = self._path / _STAGED_FILE
        staging = listed.with_suffix(".tmp")
        staging.write_text(json.dumps(sorted(self._staged)))
        staging.replace(listed)
        (self._path / _STAGED_JOURNAL).unlink(missing_ok=True)
        self._journal_lines = 0

    def _change_staged(self, change: Literal["+", "-"], versions: set[StagedVersion]) -> None:
        """Add (``+``) or remove (``-``) staged versions, on disk before this returns."""
        if change == "+":
            self._staged |= versions
        else:
            self._staged -= versions
        lines = "".join(json.dumps([change, *version]) + "\n" for version in sorted(versions))
        with open(self._path / _STAGED_JOURNAL, "a", encoding="utf-8") as journal:
            journal.write(lines)
        self._journal_lines += len(versions)
        if self._journal_lines >= _JOURNAL_LIMIT:
            self._save_staged()

    @property
    def _open(self) -> EdgeShard:
        self.ensure_collection()
        assert self._shard is not None
        return self._shard

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        if not points:
            return
        with self._writing:
            self._upsert(points)

    def _upsert(self, points: Sequence[VectorPoint]) -> None:
        shard = self._open
        staged = {
            (point.payload["tenant_id"], point.payload["document_id"], point.payload["version"])
            for point in points
            if point.payload.get(VISIBLE) is False
        }
        if not staged <= self._staged:
            # Listed before any of its points is written: a crash in between leaves a version
            # staged with nothing in it, never points that searches see too early.
            self._change_staged("+", staged - self._staged)
        edge_points = []
        for point in points:
            vector: dict[str, Any] = {"": list(point.vector)}
            if point.sparse is not None:
                vector[SPARSE_VECTOR] = EdgeSparseVector(point.sparse.indices, point.sparse.values)
            payload = {key: value for key, value in point.payload.items() if key != VISIBLE}
            edge_points.append(Point(id=point.id, vector=vector, payload=payload))
        shard.update(UpdateOperation.upsert_points(edge_points))
        self._unsealed += len(points)
        if self._unsealed >= self._seal_every:
            self.seal()

    def add_keyword_vector(self) -> bool:
        """Every shard has its BM25 vector from the start."""
        self.ensure_collection()
        return False

    def set_keyword_vectors(self, vectors: Sequence[tuple[str, SparseVector]]) -> None:
        self._open.update(
            UpdateOperation.update_vectors(
                [
                    PointVectors(
                        id=point_id,
                        vector={SPARSE_VECTOR: EdgeSparseVector(weights.indices, weights.values)},
                    )
                    for point_id, weights in vectors
                ]
            )
        )

    def texts(
        self, tenant_id: str, document_id: str, version: str, batch: int
    ) -> Iterator[list[tuple[str, str]]]:
        version_points = _version_filter(tenant_id, document_id, version)
        for records in _pages(self._open, version_points, ["text"], batch):
            yield [(str(r.id), str((r.payload or {}).get("text", ""))) for r in records]

    def seal(self) -> None:
        """Write the appendable segment out as an immutable one, and give its memory back."""
        shard = self._open
        shard.optimize()
        # What the optimisation allocated is given back once its result is flushed, as closing
        # and reopening the shard gave it back (at the cost of reading every sealed segment
        # again); without either, ~58 MB a seal stayed.
        shard.flush()
        release_freed_memory()
        self._unsealed = 0

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        with self._writing:
            return {
                point_id: str(payload.get("chunk_hash", ""))
                for point_id, payload in self._retrieve(ids, ["chunk_hash"]).items()
            }

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._retrieve(ids, True)

    def _retrieve(self, ids: Sequence[str], fields: list[str] | bool) -> dict[str, dict[str, Any]]:
        if not ids or not self._path.is_dir():
            return {}
        records = self._open.retrieve(list(ids), with_payload=fields, with_vector=False)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def search(
        self,
        vector: Sequence[float] | None,
        tenant_id: str,
        *,
        sparse: SparseVector | None = None,
        case_id: str | None = None,
        document_id: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        if not tenant_id:
            raise ValueError("a search always names its tenant")
        if not self._path.is_dir() or (vector is None and sparse is None):
            return []
        shard = self._open
        hidden: list[Any] = [
            _version_filter(*staged)
            for staged in self._staged
            if staged[0] == tenant_id and document_id in (None, staged[1])
        ]
        condition = Filter(
            must=_conditions(tenant_id=tenant_id, case_id=case_id, document_id=document_id),
            must_not=hidden or None,
        )
        queries: list[tuple[Any, SearchParams | None]] = []
        if vector is not None:
            queries.append((Query.Nearest(list(vector)), None))
        if sparse is not None:
            keywords = EdgeSparseVector(sparse.indices, sparse.values)
            # IDF from the tenant's own points (VectorSearcher.search says why)
            tenant_corpus = IdfParams(corpus=Filter(must=_conditions(tenant_id=tenant_id)))
            queries.append(
                (Query.Nearest(keywords, using=SPARSE_VECTOR), SearchParams(idf=tenant_corpus))
            )
        if len(queries) == 1:
            ((query, params),) = queries
            request = QueryRequest(
                query=query, filter=condition, params=params, limit=limit, with_payload=True
            )
        else:
            request = QueryRequest(
                prefetches=[
                    Prefetch(
                        limit=limit * PREFETCH_FACTOR, query=query, filter=condition, params=params
                    )
                    for query, params in queries
                ],
                # (the stubs type the query as Fusion, of which Rrf is a variant)
                query=Fusion.Rrf(  # type: ignore[arg-type]
                    k=self._fusion.k, weights=self._fusion.weights
                ),
                limit=limit,
                with_payload=True,
            )
        return [
            SearchHit(id=str(point.id), score=point.score, payload=dict(point.payload or {}))
            for point in shard.query(request)
        ]

    def count(self, tenant_id: str, document_id: str, version: str | None = None) -> int:
        if not self._path.is_dir():
            return 0
        condition = Filter(
            must=_conditions(tenant_id=tenant_id, document_id=document_id, version=version)
        )
        return int(self._open.count(CountRequest(filter=condition, exact=True)))

    def publish_version(
        self, tenant_id: str, document_id: str, version: str, retire_others: bool
    ) -> None:
        """Make ``version`` searchable (off the list of staged versions), then
        (``retire_others``) remove every other version: in this process, no search runs in
        between."""
        if not self._path.is_dir():
            return
        self._unlist(lambda staged: staged == (tenant_id, document_id, version))
        if retire_others:
            self.delete_document(tenant_id, document_id, keep_version=version)

    def delete_version(self, tenant_id: str, document_id: str, version: str) -> None:
        self._delete(_version_filter(tenant_id, document_id, version))
        self._unlist(lambda staged: staged == (tenant_id, document_id, version))

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        self._delete(
            Filter(
                must=_conditions(tenant_id=tenant_id, document_id=document_id),
                must_not=_conditions(version=keep_version) if keep_version else None,
            )
        )
        # Its staged versions go with their points.
        self._unlist(
            lambda staged: staged[:2] == (tenant_id, document_id) and staged[2] != keep_version
        )

    def _unlist(self, listed: Callable[[StagedVersion], bool]) -> None:
        """Take the versions ``listed`` picks off the list of staged versions."""
        if not self._path.is_dir():
            return
        self.ensure_collection()
        gone = {staged for staged in self._staged if listed(staged)}
        if gone:
            self._change_staged("-", gone)

    def _delete(self, condition: Filter) -> None:
        if self._path.is_dir():
            self._open.update(UpdateOperation.delete_points_by_filter(condition))

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None
            # The next process to open the shard goes on counting toward the next seal.
            counted = self._path / _UNSEALED_FILE
            staging = counted.with_suffix(".tmp")
            staging.write_text(str(self._unsealed))
            staging.replace(counted)
        if self._lock is not None:
            self._lock.close()  # and with it the lock
            self._lock = None
