"""Delete: S3 "Object Deleted" -> the document's points, outputs and ledger rows -> event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import DeleteSettings, load_settings
from docproc.errors import InvalidEvent
from docproc.handlers import correlate, parse_event
from docproc.ledger.port import Ledger
from docproc.models import DocumentKey, S3ObjectEvent
from docproc.notify.port import Notifier
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.delete import delete_uploaded_object
from docproc.storage.port import ObjectStore
from docproc.vectors.port import CollectionDeleters, VectorStore


@aws.per_container
def dependencies(
    secrets: aws.Secrets,
) -> tuple[DeleteSettings, ObjectStore, Ledger, VectorStore, CollectionDeleters, Notifier]:
    settings = load_settings(DeleteSettings)
    vectors = aws.vector_store(settings, settings, secrets)
    return (
        settings,
        aws.object_store(settings.bucket),
        aws.ledger(settings.ledger_table, settings.ledger_ttl_days),
        vectors,
        aws.reindexed_deleters(settings, vectors.collection, secrets),
        aws.notifier(settings.event_bus_name),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(S3ObjectEvent, event)
    settings, store, ledger, vectors, reindexed, notifier = dependencies()
    if request.detail_type != "Object Deleted":
        raise InvalidEvent("Delete takes Object Deleted events")
    if request.detail.bucket.name != settings.bucket:
        raise InvalidEvent("the event is for another bucket")
    key = request.detail.object.key
    ids = DocumentKey.from_object_key(key)
    correlate(tenant_id=ids.tenant_id, case_id=ids.case_id, document_id=ids.document_id)
    return delete_uploaded_object(key, store, ledger, vectors, notifier, reindexed).model_dump(
        mode="json"
    )
