"""Webhook: a docproc event from the bus -> a signed POST to WebhookUrl -> WebhookResult."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.config import WebhookFunctionSettings, load_settings
from docproc.handlers import correlate, parse_event
from docproc.models import PublishedEvent
from docproc.notify.webhook import DeliveryPolicy, WebhookDelivery
from docproc.observability import logger, metrics, tracer
from docproc.pipeline.webhook import deliver_event


@aws.per_container
def dependencies(secrets: aws.Secrets) -> WebhookDelivery:
    settings = load_settings(WebhookFunctionSettings)
    keys = secrets.webhook_keys(settings.webhook_secret_arn)
    return WebhookDelivery(
        settings.webhook_url, lambda: keys, DeliveryPolicy.from_settings(settings)
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    published = parse_event(PublishedEvent, event)
    detail = published.detail
    correlate(
        tenant_id=detail.get("tenant_id"),
        case_id=detail.get("case_id"),
        document_id=detail.get("document_id"),
        version=detail.get("version"),
    )
    return deliver_event(published, dependencies()).model_dump(mode="json")
