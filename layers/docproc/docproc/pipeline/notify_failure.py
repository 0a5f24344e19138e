"""NotifyFailure: turn a failed execution into a "Document Ingestion Failed" event."""

from __future__ import annotations

import json

from pydantic import ValidationError

from docproc.errors import InvalidObjectKey
from docproc.ledger.port import Ledger
from docproc.models import (
    DOCUMENT_INGESTION_FAILED,
    DocumentKey,
    ExecutionStatusChangeEvent,
    FailedSegment,
    IngestionFailedDetail,
    NotifyFailureResult,
    S3ObjectEvent,
)
from docproc.notify.port import Notifier
from docproc.observability import logger

RESUME_HINT = (
    "Fix the cause, then redrive the execution from the Step Functions console "
    "(or `aws stepfunctions redrive-execution`): finished segments are skipped."
)


def _source_key(execution_input: str | None) -> str | None:
    if not execution_input:
        return None
    try:
        return S3ObjectEvent.model_validate(json.loads(execution_input)).detail.object.key
    except (ValueError, ValidationError):
        return None


def notify_failure(
    event: ExecutionStatusChangeEvent, ledger: Ledger, notifier: Notifier
) -> NotifyFailureResult:
    detail = event.detail
    source_key = _source_key(detail.input)
    ids: DocumentKey | None = None
    if source_key:
        try:
            ids = DocumentKey.from_object_key(source_key)
        except InvalidObjectKey:
            ids = None

    version: str | None = None
    segments_total = segments_done = 0
    failed: list[FailedSegment] = []
    if ids is not None:
        document = ledger.get_document(ids.tenant_id, ids.document_id)
        if document is not None:
            version = document.version
            segments_total = document.segments_total
            records = ledger.list_segments(ids.tenant_id, ids.document_id, version)
            segments_done = sum(1 for record in records if record.status == "done")
            failed = [
                FailedSegment(segment=record.index, error=record.error)
                for record in records
                if record.status == "failed"
            ]
            ledger.fail_document(
                ids.tenant_id, ids.document_id, version, detail.error or detail.status
            )

    payload = IngestionFailedDetail(
        tenant_id=ids.tenant_id if ids else None,
        case_id=ids.case_id if ids else None,
        document_id=ids.document_id if ids else None,
        version=version,
        source_key=source_key,
        execution_arn=detail.execution_arn,
        status=detail.status,
        error=detail.error,
        cause=detail.cause,
        segments_total=segments_total,
        segments_done=segments_done,
        failed_segments=failed,
        resume_hint=RESUME_HINT,
    )
    notifier.publish(DOCUMENT_INGESTION_FAILED, payload.model_dump(mode="json"))
    logger.info("failure published", extra={"failed_segments": len(failed)})
    return NotifyFailureResult(published=True, detail=payload)
