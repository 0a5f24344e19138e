"""Ledger in SQLite: the laptop runner's stand-in for DynamoDB, safe across processes."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from docproc.ledger.records import (
    completed_record,
    expires_at,
    failable,
    failed_segment,
    started_record,
    utc_now,
)
from docproc.models import (
    DocumentRecord,
    DocumentRef,
    DocumentStatus,
    DocumentSummary,
    SegmentRecord,
)
from docproc.sqlitedb import SQLiteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);
CREATE INDEX IF NOT EXISTS documents_by_case
    ON documents (tenant_id, json_extract(body, '$.case_id'));
CREATE INDEX IF NOT EXISTS documents_by_status
    ON documents (json_extract(body, '$.status'));
CREATE TABLE IF NOT EXISTS progress (
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    published_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);
-- The laptop's outbox: a version completed whose "Document Ingested" the runner has not yet
-- handed to its notifier. Written in the completion's transaction, removed once announced.
CREATE TABLE IF NOT EXISTS unannounced (
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (tenant_id, document_id, version)
);
-- The laptop's deletions begun and not finished: recorded before a document's deletion
-- starts, removed once "Document Deleted" is handed to the notifier and its uploads are gone.
-- case_id is NULL when nothing told which case the document was in.
CREATE TABLE IF NOT EXISTS deletions (
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    case_id TEXT,
    PRIMARY KEY (tenant_id, document_id)
);
-- Collections holding documents besides the one in use (a re-index's): deletions reach them.
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS segments (
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, document_id, version, idx)
);
"""


class SQLiteLedger:
    def __init__(self, path: Path, ttl_days: int = 7) -> None:
        self._database = SQLiteDatabase(path, _SCHEMA, busy_timeout_seconds=30)
        self._ttl_days = ttl_days
        self._db = self._database.connection
        self._transaction = self._database.transaction

    # -- documents --------------------------------------------------------------------------

    def get_document(self, tenant_id: str, document_id: str) -> DocumentRecord | None:
        row = (
            self._db()
            .execute(
                "SELECT body FROM documents WHERE tenant_id = ? AND document_id = ?",
                (tenant_id, document_id),
            )
            .fetchone()
        )
        return DocumentRecord.model_validate_json(row[0]) if row else None

    def _save(self, db: sqlite3.Connection, record: DocumentRecord) -> None:
        db.execute(
            "INSERT INTO documents (tenant_id, document_id, body) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, document_id) DO UPDATE SET body = excluded.body",
            (record.tenant_id, record.document_id, record.model_dump_json()),
        )

    def start_document(
        self, ref: DocumentRef, segments_total: int, execution_arn: str | None = None
    ) -> DocumentRecord:
        with self._transaction() as db:
            existing = self.get_document(ref.tenant_id, ref.document_id)
            record = started_record(existing, ref, segments_total, execution_arn, utc_now())
            self._save(db, record)
        return record

    def complete_document(
        self, ref: DocumentRef, summary: DocumentSummary, execution_arn: str | None = None
    ) -> bool:
        with self._transaction() as db:
            existing = self.get_document(ref.tenant_id, ref.document_id)
            record = completed_record(existing, ref, summary, utc_now(), execution_arn)
            if record is not None:
                self._save(db, record)
                # An older version's missed announcement is moot once a newer one completes.
                db.execute(
                    "DELETE FROM unannounced WHERE tenant_id = ? AND document_id = ?",
                    (ref.tenant_id, ref.document_id),
                )
                db.execute(
                    "INSERT INTO unannounced (tenant_id, document_id, version) VALUES (?, ?, ?)",
                    (ref.tenant_id, ref.document_id, ref.version),
                )
        return record is not None

    def is_unannounced(self, tenant_id: str, document_id: str, version: str) -> bool:
        """Completed, and not yet announced: the process that completed it stopped before
        handing "Document Ingested" to its notifier (``announced`` was never called)."""
        row = (
            self._db()
            .execute(
                "SELECT 1 FROM unannounced WHERE tenant_id = ? AND document_id = ? AND version = ?",
                (tenant_id, document_id, version),
            )
            .fetchone()
        )
        return row is not None

    def announced(self, tenant_id: str, document_id: str, version: str) -> None:
        self._db().execute(
            "DELETE FROM unannounced WHERE tenant_id = ? AND document_id = ? AND version = ?",
            (tenant_id, document_id, version),
        )

    def fail_document(
        self, tenant_id: str, document_id: str, version: str | None, error: str
    ) -> None:
        with self._transaction() as db:
            existing = self.get_document(tenant_id, document_id)
            if existing is None or not failable(existing, version):
                return
            self._save(
                db,
                existing.model_copy(
                    update={"status": "failed", "last_error": error[:1000], "updated_at": utc_now()}
                ),
            )

    # -- segments ---------------------------------------------------------------------------

    def get_segment(
        self, tenant_id: str, document_id: str, version: str, index: int
    ) -> SegmentRecord | None:
        row = (
            self._db()
            .execute(
                "SELECT body FROM segments WHERE tenant_id = ? AND document_id = ? AND version = ? "
                "AND idx = ?",
                (tenant_id, document_id, version, index),
            )
            .fetchone()
        )
        return SegmentRecord.model_validate_json(row[0]) if row else None

    def list_segments(self, tenant_id: str, document_id: str, version: str) -> list[SegmentRecord]:
        rows = (
            self._db()
            .execute(
                "SELECT body FROM segments WHERE tenant_id = ? AND document_id = ? AND version = ? "
                "ORDER BY idx",
                (tenant_id, document_id, version),
            )
            .fetchall()
        )
        return [SegmentRecord.model_validate_json(row[0]) for row in rows]

    def _write_segment(
        self, tenant_id: str, document_id: str, version: str, record: SegmentRecord
    ) -> bool:
        # The WHERE clause is the conditional write: a done segment is never overwritten.
        cursor = self._db().execute(
            "INSERT INTO segments (tenant_id, document_id, version, idx, status, expires_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant_id, document_id, version, idx) DO UPDATE SET "
            "status = excluded.status, expires_at = excluded.expires_at, body = excluded.body "
            "WHERE segments.status != 'done'",
            (
                tenant_id,
                document_id,
                version,
                record.index,
                record.status,
                expires_at(self._ttl_days),
                record.model_dump_json(),
            ),
        )
        return cursor.rowcount == 1

    def mark_segment_done(
        self, tenant_id: str, document_id: str, version: str, record: SegmentRecord
    ) -> bool:
        return self._write_segment(tenant_id, document_id, version, record)

    def mark_segment_failed(
        self, tenant_id: str, document_id: str, version: str, index: int, error: str
    ) -> None:
        previous = self.get_segment(tenant_id, document_id, version, index)
        record = failed_segment(previous, index, error)
        self._write_segment(tenant_id, document_id, version, record)

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        with self._transaction() as db:
            segments = db.execute(
                "DELETE FROM segments WHERE tenant_id = ? AND document_id = ?",
                (tenant_id, document_id),
            ).rowcount
            documents = db.execute(
                "DELETE FROM documents WHERE tenant_id = ? AND document_id = ?",
                (tenant_id, document_id),
            ).rowcount
            db.execute(
                "DELETE FROM unannounced WHERE tenant_id = ? AND document_id = ?",
                (tenant_id, document_id),
            )
        return int(segments + documents)

    def delete_segments(self, tenant_id: str, document_id: str, version: str) -> int:
        cursor = self._db().execute(
            "DELETE FROM segments WHERE tenant_id = ? AND document_id = ? AND version = ?",
            (tenant_id, document_id, version),
        )
        return int(cursor.rowcount)

    def begin_deletion(self, tenant_id: str, document_id: str, case_id: str | None) -> None:
        """Record that this document's deletion starts (a case already recorded is kept)."""
        self._db().execute(
            "INSERT INTO deletions (tenant_id, document_id, case_id) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, document_id) "
            "DO UPDATE SET case_id = COALESCE(excluded.case_id, deletions.case_id)",
            (tenant_id, document_id, case_id),
        )

    def unfinished_deletions(self, tenant_id: str) -> dict[str, str | None]:
        """Each document whose deletion began and did not finish (the process stopped part
        way), with its case when known."""
        rows = (
            self._db()
            .execute("SELECT document_id, case_id FROM deletions WHERE tenant_id = ?", (tenant_id,))
            .fetchall()
        )
        return {document_id: case_id for document_id, case_id in rows}

    def deletion_finished(self, tenant_id: str, document_id: str) -> None:
        self._db().execute(
            "DELETE FROM deletions WHERE tenant_id = ? AND document_id = ?",
            (tenant_id, document_id),
        )

    def list_documents(self, tenant_id: str, case_id: str) -> list[DocumentRecord]:
        rows = (
            self._db()
            .execute(
                "SELECT body FROM documents WHERE tenant_id = ? "
                "AND json_extract(body, '$.case_id') = ? ORDER BY document_id",
                (tenant_id, case_id),
            )
            .fetchall()
        )
        return [DocumentRecord.model_validate_json(row[0]) for row in rows]

    def documents_by_status(self, status: DocumentStatus) -> list[DocumentRecord]:
        rows = (
            self._db()
            .execute(
                "SELECT body FROM documents WHERE json_extract(body, '$.status') = ?", (status,)
            )
            .fetchall()
        )
        return [DocumentRecord.model_validate_json(row[0]) for row in rows]

    def claim_progress_slot(
        self, tenant_id: str, document_id: str, now: datetime, interval_seconds: float
    ) -> bool:
        stamp = now.timestamp()
        cursor = self._db().execute(
            "INSERT INTO progress (tenant_id, document_id, published_at) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, document_id) DO UPDATE SET "
            "published_at = excluded.published_at WHERE progress.published_at <= ?",
            (tenant_id, document_id, stamp, stamp - interval_seconds),
        )
        return cursor.rowcount == 1

    def record_collection(self, collection: str) -> None:
        self._db().execute(
            "INSERT INTO collections (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
            (collection,),
        )

    def collections(self) -> list[str]:
        rows = self._db().execute("SELECT name FROM collections ORDER BY name").fetchall()
        return [str(row[0]) for row in rows]

    def renew_segments(self, tenant_id: str, document_id: str, version: str, now: datetime) -> int:
        with self._transaction() as db:
            return int(
                db.execute(
                    "UPDATE segments SET expires_at = ? "
                    "WHERE tenant_id = ? AND document_id = ? AND version = ?",
                    (expires_at(self._ttl_days, now), tenant_id, document_id, version),
                ).rowcount
            )

    def delete_expired_segments(self, now: datetime) -> int:
        with self._transaction() as db:
            return int(
                db.execute(
                    "DELETE FROM segments WHERE expires_at < ?", (int(now.timestamp()),)
                ).rowcount
            )
