"""What a laptop run stored as vectors, read straight from the store's files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def point_digests(home: Path) -> dict[str, str]:
    """Point id -> a hash of its payload, from DOCPROC_HOME's SQLite store or embedded Qdrant."""
    sqlite_path = home / "vectors.sqlite3"
    if sqlite_path.exists():
        with sqlite3.connect(sqlite_path) as db:
            rows = db.execute("SELECT id, payload, visible FROM points").fetchall()
        return {
            point_id: _digest({**json.loads(payload), "visible": bool(visible)})
            for point_id, payload, visible in rows
        }
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(home / "qdrant"))
    try:
        (collection,) = [c.name for c in client.get_collections().collections]
        points, _ = client.scroll(collection, limit=100_000, with_payload=True)
        return {str(p.id): _digest(dict(p.payload or {})) for p in points}
    finally:
        client.close()
