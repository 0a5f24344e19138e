"""The webhook's wire format: how docproc signs an event, and how a receiver verifies it.

A delivery is ``POST`` with ``Content-Type: application/json`` and the body
``{"id": ..., "type": <detail-type>, "time": <ISO 8601 UTC>, "data": <detail>}`` (compact
JSON, UTF-8). ``X-Docproc-Event-Id`` repeats the id (the same on every retry of one event, so
receivers drop duplicates) and ``X-Docproc-Signature: t=<unix seconds>,v1=<hex>`` carries
HMAC-SHA256, keyed with the shared secret, of ``f"{t}.".encode() + body``. While a key is being
rotated the header carries one ``v1=`` per key: a receiver accepts any that matches its own.

Standard library only, so a receiver can copy it; README shows the same check in a dozen lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from docproc.errors import InvalidSignature

EVENT_ID_HEADER = "X-Docproc-Event-Id"
SIGNATURE_HEADER = "X-Docproc-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def envelope(event_id: str, detail_type: str, time_iso: str, detail: Mapping[str, Any]) -> bytes:
    """The body of a delivery: compact JSON, UTF-8."""
    payload = {"id": event_id, "type": detail_type, "time": time_iso, "data": detail}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of ``"{timestamp}." + body`` keyed with ``secret``, as hex."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex>``, with one ``v1`` per secret (the current key first)."""
    if not secrets:
        raise ValueError("a webhook needs at least one secret")
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's signature and age; return the event (``id``, ``type``, ``time``,
    ``data``). InvalidSignature when the header is missing or malformed, the timestamp is
    further than ``tolerance_seconds`` from now (a replay), no ``v1`` matches, or the event
    id header does not match the body's."""
    header = _header(headers, SIGNATURE_HEADER)
    if not header:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("the signature header has no timestamp or no v1 signature")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise InvalidSignature("the signature's timestamp is outside the tolerance (a replay?)")
    expected = sign(secret, timestamp, body)
    # Compare against every candidate, never stopping early: constant time per candidate.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    if not any(matches):
        raise InvalidSignature("no signature matches the secret")
    event: dict[str, Any] = json.loads(body)
    event_id = _header(headers, EVENT_ID_HEADER)
    if event_id is not None and event_id != event.get("id"):
        raise InvalidSignature("the event id header does not match the body")
    return event
