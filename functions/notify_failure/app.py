"""NotifyFailure: a FAILED/TIMED_OUT/ABORTED execution -> "Document Ingestion Failed"."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import NotifyFailureSettings, load_settings
from docproc.handlers import parse_event
from docproc.ledger.port import Ledger
from docproc.models import ExecutionStatusChangeEvent
from docproc.notify.port import Notifier
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.notify_failure import notify_failure


@cache
def dependencies() -> tuple[Ledger, Notifier]:
    settings = load_settings(NotifyFailureSettings)
    return (
        aws.ledger(settings.ledger_table, settings.ledger_ttl_days),
        aws.notifier(settings.event_bus_name),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    status_change = parse_event(ExecutionStatusChangeEvent, event)
    ledger, notifier = dependencies()
    return notify_failure(status_change, ledger, notifier).model_dump(mode="json")
