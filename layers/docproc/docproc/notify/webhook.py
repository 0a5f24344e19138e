"""Delivering events to a webhook: signed POSTs, retried with backoff until delivered or given
up on (the wire format is docproc.webhook's).

Retried: network errors and timeouts, 408, 429 (after its Retry-After) and 5xx, with
exponential backoff and full jitter, for up to ``max_retry_seconds``; then TransientError.
Not retried: any other answer outside 2xx, redirects included (they are not followed), which
is WebhookRejected. A response body is read to at most 64 KB and never logged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_before_delay,
    wait_random_exponential,
)

from docproc.config import WebhookSettings
from docproc.errors import DocprocError, TransientError, WebhookRejected
from docproc.notify.local import append_line
from docproc.notify.port import Notifier
from docproc.observability import logger
from docproc.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, envelope, signature_header

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "docproc-webhook/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_retry_seconds: float = 300
    timeout_seconds: float = 10
    first_backoff_seconds: float = 1
    max_backoff_seconds: float = 60

    @classmethod
    def from_settings(cls, settings: WebhookSettings) -> DeliveryPolicy:
        return cls(
            max_retry_seconds=settings.webhook_max_retry_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        )


@dataclass(frozen=True)
class Delivery:
    event_id: str
    attempts: int
    status: int


class _RetryableAnswer(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookDelivery:
    """POSTs events to one URL, signed with every key ``secrets()`` returns (current first)."""

    def __init__(
        self,
        url: str,
        secrets: Callable[[], Sequence[str]],
        policy: DeliveryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._secrets = secrets
        self._policy = policy or DeliveryPolicy()
        self._sleep = sleep
        self._backoff = wait_random_exponential(
            multiplier=self._policy.first_backoff_seconds, max=self._policy.max_backoff_seconds
        )
        timeout = self._policy.timeout_seconds
        # trust_env: SSL_CERT_FILE/SSL_CERT_DIR and proxy variables apply, as for any client.
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def deliver(
        self, event_id: str, detail_type: str, time_iso: str, detail: dict[str, Any]
    ) -> Delivery:
        body = envelope(event_id, detail_type, time_iso, detail)
        attempts = 0

        def post() -> int:
            nonlocal attempts
            attempts += 1
            # Signed at each attempt: a late retry still carries a fresh timestamp.
            headers = {
                "Content-Type": "application/json",
                EVENT_ID_HEADER: event_id,
                SIGNATURE_HEADER: signature_header(self._secrets(), int(time.time()), body),
            }
            with self._client.stream("POST", self._url, content=body, headers=headers) as answer:
                _drain(answer)
            status = answer.status_code
            if 200 <= status < 300:
                return status
            if status in (408, 429) or status >= 500:
                raise _RetryableAnswer(status, _retry_after(answer.headers.get("Retry-After")))
            raise WebhookRejected(f"the webhook receiver answered HTTP {status}")

        retrying = Retrying(
            retry=retry_if_exception_type((_RetryableAnswer, httpx.TransportError)),
            wait=self._wait,
            stop=stop_before_delay(self._policy.max_retry_seconds),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            status = retrying(post)
        except _RetryableAnswer as exc:
            raise TransientError(f"webhook: gave up after {attempts} attempts: {exc}") from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"webhook: gave up after {attempts} attempts: {type(exc).__name__}"
            ) from exc
        return Delivery(event_id, attempts, status)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableAnswer) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    def close(self) -> None:
        self._client.close()


def _drain(answer: httpx.Response) -> None:
    """Read at most MAX_RESPONSE_BYTES of the body (keeps the connection reusable for short
    answers; a receiver cannot make us read more)."""
    read = 0
    for chunk in answer.iter_raw():
        read += len(chunk)
        if read >= MAX_RESPONSE_BYTES:
            break


class WebhookNotifier:
    """The laptop's notifier with a webhook: every event also POSTed, synchronously, with the
    same retry policy as in the cloud. One that fails for good is written to ``failed_path``
    and does not fail the ingest."""

    def __init__(self, inner: Notifier, delivery: WebhookDelivery, failed_path: Path) -> None:
        self._inner = inner
        self._delivery = delivery
        self._failed = failed_path

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self._inner.publish(detail_type, detail)
        event_id = str(uuid.uuid4())
        time_iso = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        try:
            self._delivery.deliver(event_id, detail_type, time_iso, detail)
        except DocprocError as exc:
            logger.warning("webhook delivery failed for good", extra={"error": type(exc).__name__})
            record = {
                "id": event_id,
                "type": detail_type,
                "time": time_iso,
                "data": detail,
                "error": f"{type(exc).__name__}: {exc}",
            }
            append_line(self._failed, json.dumps(record, default=str), mode=0o600)
