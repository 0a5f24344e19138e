"""Clean-up on a laptop: what DynamoDB's TTL and the S3 lifecycle rule do in the cloud."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from docproc.errors import ConfigurationError
from docproc.ledger.port import Ledger
from docproc.models import WORK_PREFIX
from docproc.storage.port import ObjectStore

_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    """``7d``, ``12h`` or ``30m``."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ConfigurationError(f"not an age: {text!r} (use e.g. 7d, 12h, 30m)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class CleanupReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    expired_segment_rows: int
    documents_cleaned: list[str]
    work_objects_deleted: int


def cleanup(
    ledger: Ledger, store: ObjectStore, older_than: timedelta, now: datetime
) -> CleanupReport:
    """Remove expired segment rows, and the work/ outputs of documents that finished (complete
    or failed) before ``now - older_than``. Document rows and searchable points stay."""
    expired = ledger.delete_expired_segments(now)
    cutoff = now - older_than
    cleaned: list[str] = []
    deleted = 0
    for status in ("complete", "failed"):
        for record in ledger.documents_by_status(status):
            if record.updated_at < cutoff:
                removed = store.delete_prefix(
                    f"{WORK_PREFIX}{record.tenant_id}/{record.document_id}/"
                )
                if removed:
                    cleaned.append(f"{record.tenant_id}/{record.document_id}")
                    deleted += removed
    return CleanupReport(
        expired_segment_rows=expired, documents_cleaned=cleaned, work_objects_deleted=deleted
    )
