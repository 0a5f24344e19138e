"""Finalize: PlanResult -> totals, document.json, older versions retired -> FinalizeResult."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import FinalizeSettings, load_settings
from docproc.handlers import correlate, parse_event
from docproc.ledger.port import Ledger
from docproc.models import PlanResult
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.finalize import Pricing, finalize_document
from docproc.storage.port import ObjectStore
from docproc.vectors.port import VectorStore


@aws.per_container
def dependencies(
    secrets: aws.Secrets,
) -> tuple[FinalizeSettings, ObjectStore, Ledger, VectorStore, Pricing]:
    settings = load_settings(FinalizeSettings)
    return (
        settings,
        aws.object_store(settings.bucket),
        aws.ledger(settings.ledger_table, settings.ledger_ttl_days),
        aws.vector_store(settings, settings, secrets),
        Pricing.from_settings(settings),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = parse_event(PlanResult, event)
    ref = plan.document
    correlate(
        tenant_id=ref.tenant_id,
        case_id=ref.case_id,
        document_id=ref.document_id,
        version=ref.version,
    )
    settings, store, ledger, vectors, pricing = dependencies()
    result = finalize_document(
        plan, store, ledger, vectors, pricing, keep_segment_files=settings.keep_segment_files
    )
    return result.model_dump(mode="json")
