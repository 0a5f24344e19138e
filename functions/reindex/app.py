"""Reindex: the Reindex state machine's two steps. A plan (the segments of every document's
searchable version, from the ledger's document rows) -> the new collection and a manifest of
segments -> ReindexPlan; a segment -> its chunks, read from the collection in use, embedded into
the new collection -> ReindexSegmentResult."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import ReindexSettings, batches_in_flight, load_settings
from docproc.handlers import correlate, parse_event
from docproc.models import ReindexEvent, ReindexPlanRequest, ReindexSegment, ReindexTarget
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.finalize import Pricing
from docproc.pipeline.reindex import ReindexDeps, plan_reindex, reindex_segment
from docproc.wiring import collection_of, make_sparse_encoder


@aws.per_container
def dependencies(secrets: aws.Secrets) -> Callable[[ReindexTarget], ReindexDeps]:
    """What a request for a target model needs, built once per model per container."""
    settings = load_settings(ReindexSettings)
    store = aws.object_store(settings.bucket)
    ledger = aws.ledger(settings.ledger_table, settings.ledger_ttl_days)
    in_use = collection_of(settings, settings)
    # The collection in use: where a re-index reads the chunks it embeds again.
    source = aws.vector_store(settings, settings, secrets)

    @cache
    def for_target(target: ReindexTarget) -> ReindexDeps:
        model = settings.model_copy(update=target.settings_update())
        return ReindexDeps(
            ledger=ledger,
            store=store,
            embedder=aws.embedder(model, secrets),
            vectors=aws.vector_store(model, model, secrets),
            pricing=Pricing.from_settings(model),
            collection_in_use=in_use,
            source=None if target.bm25_only else source,
            sparse=make_sparse_encoder(),
            batch_size=settings.embed_batch_size,
            batches_in_flight=batches_in_flight(model, model),
            bm25_only=target.bm25_only,
        )

    return for_target


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(ReindexEvent, event).root
    deps = dependencies()(request.target)
    if isinstance(request, ReindexPlanRequest):
        return plan_reindex(deps, request.execution_name, request.dry_run).model_dump(mode="json")
    item = request.item
    correlate(
        tenant_id=item.tenant_id,
        document_id=item.document_id,
        version=item.version,
        segment=item.segment if isinstance(item, ReindexSegment) else None,
    )
    return reindex_segment(deps, item, redo=request.redo).model_dump(mode="json")
