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

from docproc.models import DocumentKey, S3ObjectEvent, StartResult, object_version
from docproc.observability import logger

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
