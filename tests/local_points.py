"""What a laptop run stored as vectors, read straight from the store: the Qdrant Edge shard in
DOCPROC_HOME (opened after the run, as one process may hold it), or a Qdrant server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def point_digests(home: Path, qdrant_url: str | None = None) -> dict[str, str]:
    """Point id -> a hash of its payload."""
    if qdrant_url:
        from qdrant_client import QdrantClient

        client = QdrantClient(url=qdrant_url)
        (collection,) = [c.name for c in client.get_collections().collections]
        points, _ = client.scroll(collection, limit=100_000, with_payload=True)
        return {str(p.id): _digest(dict(p.payload or {})) for p in points}
    from qdrant_edge import EdgeShard, ScrollRequest

    (shard_path,) = [path for path in (home / "vectors").iterdir() if path.is_dir()]
    shard = EdgeShard.load(str(shard_path))
    try:
        records, _ = shard.scroll(ScrollRequest(limit=100_000, with_payload=True))
        return {str(r.id): _digest(dict(r.payload or {})) for r in records}
    finally:
        shard.close()
