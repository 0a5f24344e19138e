"""The ledger port: which segments of which document version are done.

Written last by every step, so a record here means the step's outputs are all in place;
a re-run or a redrive reads it to skip finished work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from docproc.models import (
    DocumentRecord,
    DocumentRef,
    DocumentStatus,
    DocumentSummary,
    SegmentRecord,
)


class Ledger(Protocol):
    def get_document(self, tenant_id: str, document_id: str) -> DocumentRecord | None: ...

    def start_document(
        self, ref: DocumentRef, segments_total: int, execution_arn: str | None = None
    ) -> DocumentRecord:
        """Record that ``ref`` is being processed; attempts count up for the same version. The
        returned row names another version when a newer upload already holds the document."""
        ...

    def complete_document(
        self, ref: DocumentRef, summary: DocumentSummary, execution_arn: str | None = None
    ) -> bool:
        """Mark ``ref`` complete (by ``execution_arn``) and make it the searchable version;
        False if it already was (a concurrent execution of the same version completed it
        first)."""
        ...

    def fail_document(
        self, tenant_id: str, document_id: str, version: str | None, error: str
    ) -> None:
        """Mark the document failed if the row is ``version``'s (any version when None) and
        that version is not complete: a newer version's run, or a version that completed
        before its execution failed (announcing it), is left as it is."""
        ...

    def get_segment(
        self, tenant_id: str, document_id: str, version: str, index: int
    ) -> SegmentRecord | None: ...

    def list_segments(self, tenant_id: str, document_id: str, version: str) -> list[SegmentRecord]:
        """Every recorded segment of the version, ordered by index."""
        ...

    def mark_segment_done(
        self, tenant_id: str, document_id: str, version: str, record: SegmentRecord
    ) -> bool:
        """Record a finished segment. False if it was already done (a concurrent duplicate)."""
        ...

    def mark_segment_failed(
        self, tenant_id: str, document_id: str, version: str, index: int, error: str
    ) -> None:
        """Record a failure, never overwriting a segment that is done."""
        ...

    def renew_segments(self, tenant_id: str, document_id: str, version: str, now: datetime) -> int:
        """Push the expiry of the version's segment rows to the TTL from ``now``: a failed
        execution can be redriven for 14 days after it stopped, and the redrive skips what
        these rows say is done. Returns how many rows."""
        ...

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        """Remove the document row and every segment row of every version; returns how many."""
        ...

    def delete_segments(self, tenant_id: str, document_id: str, version: str) -> int:
        """Remove one version's segment rows (not the document row); returns how many."""
        ...

    def list_documents(self, tenant_id: str, case_id: str) -> list[DocumentRecord]:
        """The documents of one case (an index query, never a scan)."""
        ...

    def documents_by_status(self, status: DocumentStatus) -> Iterable[DocumentRecord]:
        """Every document in ``status``, across tenants (an index query, never a scan)."""
        ...

    def claim_progress_slot(
        self, tenant_id: str, document_id: str, now: datetime, interval_seconds: float
    ) -> bool:
        """True for at most one caller per document per ``interval_seconds``: the one that
        may publish a progress event (a conditional write, safe across processes)."""
        ...

    def record_collection(self, collection: str) -> None:
        """Remember ``collection`` as one that holds documents besides the collection in use
        (a re-index's target, and the collection it read from): a deletion removes the
        document from each such collection that still exists. Never expires."""
        ...

    def collections(self) -> list[str]:
        """Every collection ``record_collection`` named, sorted."""
        ...

    def delete_expired_segments(self, now: datetime) -> int:
        """Remove segment rows whose TTL has passed (DynamoDB does this itself); returns how
        many."""
        ...
