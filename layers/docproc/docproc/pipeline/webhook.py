"""Webhook: one published event -> a signed POST to the application's URL."""

from __future__ import annotations

from docproc.models import PublishedEvent, WebhookResult
from docproc.notify.webhook import WebhookDelivery
from docproc.observability import logger, metrics


def deliver_event(event: PublishedEvent, delivery: WebhookDelivery) -> WebhookResult:
    """POST ``event`` under its EventBridge id (the same on every retry of one event, for the
    receiver to drop duplicates). WebhookRejected (4xx) or TransientError (retries used up)
    leave the function failed, and Lambda puts the event in the dead-letter queue."""
    done = delivery.deliver(event.id, event.detail_type, event.time, event.detail)
    logger.info("webhook delivered", extra={"attempts": done.attempts, "status": done.status})
    metrics.add_metric(name="WebhookDeliveries", unit="Count", value=1)
    metrics.add_metric(name="WebhookAttempts", unit="Count", value=done.attempts)
    return WebhookResult(
        event_id=event.id, type=event.detail_type, attempts=done.attempts, status=done.status
    )
