"""ProcessSegment: one manifest item -> chunks in S3 and Qdrant -> SegmentResult."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import SegmentSettings, batches_in_flight, embeds_offline, load_settings
from docproc.handlers import correlate, parse_event
from docproc.malloc import release_freed_memory
from docproc.models import SegmentTask
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.process_segment import (
    ProgressEvents,
    SegmentBudget,
    SegmentDeps,
    process_segment,
)
from docproc.wiring import make_chunker, make_sparse_encoder


@aws.per_container
def dependencies(secrets: aws.Secrets) -> SegmentDeps:
    settings = load_settings(SegmentSettings)
    return SegmentDeps(
        store=aws.object_store(settings.bucket),
        ledger=aws.ledger(settings.ledger_table, settings.ledger_ttl_days),
        chunker=make_chunker(settings),
        embedder=aws.embedder(settings, secrets),
        vectors=aws.vector_store(settings, settings, secrets),
        transcriber=aws.transcriber(settings, secrets),
        embed_batch_size=settings.embed_batch_size,
        batches_in_flight=batches_in_flight(settings, settings),
        embeds_offline=embeds_offline(settings),
        ocr=settings.ocr_options(),
        tables=settings.tables,
        sparse=make_sparse_encoder(),
        progress=ProgressEvents(
            aws.notifier(settings.event_bus_name), settings.progress_event_seconds
        )
        if settings.progress_event_seconds and settings.event_bus_name
        else None,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(SegmentTask, event)
    ref = task.document
    correlate(
        tenant_id=ref.tenant_id,
        case_id=ref.case_id,
        document_id=ref.document_id,
        version=ref.version,
        segment=task.segment.index,
    )
    # Leave time and memory to record a failure in the ledger before Lambda would kill us.
    budget = SegmentBudget(
        deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000 - 30,
        max_rss_mb=int(context.memory_limit_in_mb) * 0.9,
    )
    deps = dataclasses.replace(dependencies(), budget=budget)
    # A warm container serves segment after segment: each begins without what the allocator
    # kept of the last one's freed memory (BENCHMARKS.md, Memory, each function as deployed).
    release_freed_memory()
    return process_segment(task, deps).model_dump(mode="json")
