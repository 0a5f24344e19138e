"""Start: one execution per uploaded version, named after it.

The name says which document an execution is about (the console lists names), and Step
Functions refuses a second execution of the same name: a duplicate delivery of the same S3
event becomes a no-op here instead of a second, concurrent run.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Protocol

from docproc.models import (
    BackfillRequest,
    DocumentKey,
    IngestStart,
    S3ObjectEvent,
    StartResult,
    object_version,
)
from docproc.observability import logger
from docproc.storage.port import ObjectStore

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Step Functions execution names: at most 80 characters of [A-Za-z0-9-_].
_MAX_NAME = 80


class ExecutionStarter(Protocol):
    def start(self, name: str, payload: str) -> str | None:
        """Start an execution; its ARN, or None if one of that name already exists."""
        ...


def execution_name(ids: DocumentKey, version: str) -> str:
    readable = _UNSAFE.sub("-", f"{ids.tenant_id}-{ids.document_id}-{version}")
    if len(readable) <= _MAX_NAME:
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[:16]
    return f"{readable[: _MAX_NAME - 17]}-{digest}"


def start_ingestion(
    event: S3ObjectEvent, raw_event: dict[str, Any], starter: ExecutionStarter
) -> StartResult:
    s3_object = event.detail.object
    ids = DocumentKey.from_object_key(s3_object.key)
    version = object_version(s3_object.version_id, s3_object.etag or "unknown")
    name = execution_name(ids, version)
    arn = starter.start(name, json.dumps(raw_event))
    if arn is None:
        logger.info("an execution for this version exists already; duplicate event ignored")
    return StartResult(execution_name=name, execution_arn=arn, duplicate=arn is None)


def backfill_ingestion(request: BackfillRequest, store: ObjectStore) -> IngestStart:
    """The ingest execution an object already in the bucket would have had from its upload's
    event: that event for the object's current version, and the name it gives. The Backfill
    state machine starts it (and waits for it, which bounds how many run at once); Step
    Functions refuses a name twice, so a document ingested since its upload, or in flight, is
    not started again, and Plan skips content already ingested."""
    ids = DocumentKey.from_object_key(request.key)  # InvalidObjectKey: not an upload
    info = store.head(request.key, None)
    event: dict[str, Any] = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "resources": [f"arn:aws:s3:::{request.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": request.bucket},
            "object": {
                "key": request.key,
                "size": info.size,
                "etag": info.etag,
                "version-id": info.version_id,
            },
            "reason": "Backfill",
        },
    }
    S3ObjectEvent.model_validate(event)  # what the ingest state machine's Plan will parse
    name = execution_name(ids, object_version(info.version_id, info.etag))
    logger.info("backfilling an upload", extra={"execution_name": name})
    return IngestStart(execution_name=name, input=event)
