"""Start: S3 "Object Created" -> one execution of the state machine per uploaded version; and
for each object the Backfill state machine lists (an upload from before docproc), the name
and input of the execution its upload would have had, which the Backfill state machine runs."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import StartSettings, load_settings
from docproc.errors import InvalidEvent
from docproc.handlers import correlate, parse_event
from docproc.models import BackfillRequest, DocumentKey, S3ObjectEvent
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.start import backfill_ingestion, start_ingestion


@cache
def dependencies() -> tuple[StartSettings, aws.StepFunctionsStarter]:
    settings = load_settings(StartSettings)
    return settings, aws.StepFunctionsStarter(settings.state_machine_arn)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("source") == "docproc.backfill":
        return _backfill(parse_event(BackfillRequest, event))
    request = parse_event(S3ObjectEvent, event)
    settings, starter = dependencies()
    if request.detail_type != "Object Created":
        raise InvalidEvent("Start takes Object Created events")
    if request.detail.bucket.name != settings.bucket:
        raise InvalidEvent("the event is for another bucket")
    ids = DocumentKey.from_object_key(request.detail.object.key)
    correlate(tenant_id=ids.tenant_id, case_id=ids.case_id, document_id=ids.document_id)
    return start_ingestion(request, event, starter).model_dump(mode="json")


def _backfill(request: BackfillRequest) -> dict[str, Any]:
    settings, _ = dependencies()
    if request.bucket != settings.bucket:
        raise InvalidEvent("the object is in another bucket")
    ids = DocumentKey.from_object_key(request.key)
    correlate(tenant_id=ids.tenant_id, case_id=ids.case_id, document_id=ids.document_id)
    store = aws.object_store(settings.bucket)
    return backfill_ingestion(request, store).model_dump(mode="json")
