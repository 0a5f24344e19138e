"""NotifyFailure: turn a failed execution into a "Document Ingestion Failed" event."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from docproc.errors import InvalidObjectKey
from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.models import (
    DOCUMENT_INGESTION_FAILED,
    DocumentKey,
    ExecutionStatusChangeEvent,
    FailedSegment,
    IngestionFailedDetail,
    NotifyFailureResult,
    S3ObjectEvent,
    object_version,
)
from docproc.notify.port import Notifier
from docproc.observability import logger

RESUME_HINT = (
    "Fix the cause, then redrive the execution from the Step Functions console "
    "(or `aws stepfunctions redrive-execution`): finished segments are skipped."
)


@dataclass(frozen=True)
class _FailedUpload:
    key: str
    ids: DocumentKey
    version: str


def _failed_upload(execution_input: str | None) -> _FailedUpload | None:
    """The upload and version the execution was ingesting: its input is the S3 event that Start
    handed on, so this is the failed run's own version, whatever the ledger holds by now."""
    if not execution_input:
        return None
    try:
        s3_object = S3ObjectEvent.model_validate(json.loads(execution_input)).detail.object
        ids = DocumentKey.from_object_key(s3_object.key)
    except (ValueError, ValidationError, InvalidObjectKey):
        return None
    version = object_version(s3_object.version_id, s3_object.etag or "unknown")
    return _FailedUpload(s3_object.key, ids, version)


def notify_failure(
    event: ExecutionStatusChangeEvent, ledger: Ledger, notifier: Notifier
) -> NotifyFailureResult:
    """Publish "Document Ingestion Failed" for the failed execution's own version.

    The ledger's document row is marked failed only if it is that version's and the version
    did not complete: an older run failing while a newer upload runs leaves the newer one
    alone, and a run failing after Finalize (announcing it) leaves the document complete. The
    version's segment rows are kept for the 14 days a redrive may come.
    """
    detail = event.detail
    upload = _failed_upload(detail.input)
    segments_total: int | None = None
    segments_done = 0
    failed: list[FailedSegment] = []
    document_status: str | None = None
    if upload is not None:
        tenant_id, document_id = upload.ids.tenant_id, upload.ids.document_id
        records = ledger.list_segments(tenant_id, document_id, upload.version)
        segments_done = sum(1 for record in records if record.status == "done")
        failed = [
            FailedSegment(segment=record.index, error=record.error)
            for record in records
            if record.status == "failed"
        ]
        row = ledger.get_document(tenant_id, document_id)
        if row is not None and row.version == upload.version:
            segments_total = row.segments_total
            ledger.fail_document(
                tenant_id, document_id, upload.version, detail.error or detail.status
            )
            document_status = "complete" if row.status == "complete" else "failed"
        elif row is not None:
            document_status = "superseded"
        ledger.renew_segments(tenant_id, document_id, upload.version, utc_now())

    payload = IngestionFailedDetail(
        tenant_id=upload.ids.tenant_id if upload else None,
        case_id=upload.ids.case_id if upload else None,
        document_id=upload.ids.document_id if upload else None,
        version=upload.version if upload else None,
        source_key=upload.key if upload else None,
        execution_arn=detail.execution_arn,
        status=detail.status,
        error=detail.error,
        cause=detail.cause,
        document_status=document_status,
        segments_total=segments_total,
        segments_done=segments_done,
        failed_segments=failed,
        resume_hint=RESUME_HINT,
    )
    notifier.publish(DOCUMENT_INGESTION_FAILED, payload.model_dump(mode="json"))
    logger.info("failure published", extra={"failed_segments": len(failed)})
    return NotifyFailureResult(published=True, detail=payload)
