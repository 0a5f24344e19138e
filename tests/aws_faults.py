"""What AWS answers under load or refusal, put on the wire of a real botocore client.

moto answers every call it can; these answers it never gives (throttling, a DeleteObjects
with per-key errors) are injected at botocore's ``before-send`` hook, so the response goes
through botocore's own parsing and the adapter's error mapping as it would from AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@contextmanager
def aws_answers(
    client: Any, operation: str, status: int, body: bytes, content_type: str
) -> Iterator[list[str]]:
    """While open, every ``operation`` call of ``client`` gets this answer; yields the URLs
    of the requests it answered."""
    answered: list[str] = []
    event = f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}"

    def respond(request: Any, **_: Any) -> AWSResponse:
        answered.append(request.url)
        return AWSResponse(request.url, status, {"Content-Type": content_type}, _Raw(body))

    client.meta.events.register_first(event, respond)
    try:
        yield answered
    finally:
        client.meta.events.unregister(event, respond)
