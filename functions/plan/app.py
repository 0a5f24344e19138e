"""Plan: S3 "Object Created" -> segment manifest in S3 -> PlanResult for the state machine."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import PlanSettings, load_settings
from docproc.errors import InvalidEvent
from docproc.handlers import correlate, parse_event
from docproc.ledger.port import Ledger
from docproc.models import DocumentKey, PlanRequest
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.storage.port import ObjectStore


@cache
def dependencies() -> tuple[PlanSettings, ObjectStore, Ledger]:
    settings = load_settings(PlanSettings)
    return (
        settings,
        aws.object_store(settings.bucket),
        aws.ledger(settings.ledger_table, settings.ledger_ttl_days),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(PlanRequest, event)
    settings, store, ledger = dependencies()
    s3_object = request.event.detail.object
    if request.event.detail_type != "Object Created":
        raise InvalidEvent("Plan takes Object Created events")
    if request.event.detail.bucket.name != settings.bucket:
        raise InvalidEvent("the event is for another bucket")
    ids = DocumentKey.from_object_key(s3_object.key)
    correlate(tenant_id=ids.tenant_id, case_id=ids.case_id, document_id=ids.document_id)
    options = PlanOptions.from_settings(settings, settings.map_max_concurrency)
    # S3's sequencer orders events of one key; padded, it sorts as a string.
    sequence = (s3_object.sequencer or "").rjust(32, "0") if s3_object.sequencer else ""
    result = plan_document(
        s3_object.key,
        s3_object.version_id,
        store,
        ledger,
        options,
        request.execution_arn,
        sequence=sequence,
    )
    return result.model_dump(mode="json")
