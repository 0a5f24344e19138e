"""Plan: pin the uploaded version, detect its type, cut it into segments, write the manifest."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from docproc.errors import InvalidDocument
from docproc.extract import pdf
from docproc.extract.sniff import PDF, SNIFF_BYTES, TEXT, sniff
from docproc.ledger.port import Ledger
from docproc.models import (
    BytesSegment,
    DocumentKey,
    DocumentRef,
    PagesSegment,
    PlanResult,
    S3Location,
    Segment,
    SegmentTask,
)
from docproc.observability import logger
from docproc.storage.port import ObjectStore

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class PlanOptions:
    segment_pages: int = 50
    segment_bytes: int = 8 * 1024 * 1024
    max_concurrency: int = 10
    tmp_dir: Path | None = None


def plan_document(
    key: str,
    version_id: str | None,
    store: ObjectStore,
    ledger: Ledger,
    options: PlanOptions,
    execution_arn: str | None = None,
) -> PlanResult:
    ids = DocumentKey.from_object_key(key)
    info = store.head(key, version_id)
    # The version names every output; S3 version ids are URL-safe, ETags are quoted hex.
    version = info.version_id or "etag-" + _UNSAFE.sub("", info.etag)
    if info.size == 0:
        raise InvalidDocument("the object is empty")
    media_type = sniff(store.read_range(key, 0, SNIFF_BYTES, info.version_id))
    ref = DocumentRef(
        tenant_id=ids.tenant_id,
        case_id=ids.case_id,
        document_id=ids.document_id,
        version=version,
        filename=ids.filename,
        bucket=store.bucket,
        source_key=key,
        source_version_id=info.version_id,
        etag=info.etag,
        size=info.size,
        media_type=media_type,
    )
    logger.append_keys(version=version)

    existing = ledger.get_document(ids.tenant_id, ids.document_id)
    if existing is not None and existing.completed_version == version:
        logger.info("version already ingested; nothing to do")
        return PlanResult(
            status="already_ingested", document=ref, segments_total=existing.segments_total
        )

    tasks = _existing_manifest(store, ref)
    if tasks is None:
        tasks = [SegmentTask(document=ref, segment=s) for s in _segments(ref, store, options)]
        manifest = json.dumps([task.model_dump(mode="json") for task in tasks]).encode()
        store.put_bytes(ref.manifest_key, manifest, "application/json")
    else:
        logger.info("manifest already written for this version; reusing it")

    ledger.start_document(ref, len(tasks), execution_arn)
    logger.info("planned", extra={"segments_total": len(tasks), "media_type": media_type})
    return PlanResult(
        status="planned",
        document=ref,
        segments_total=len(tasks),
        manifest=S3Location(bucket=store.bucket, key=ref.manifest_key),
        first_task=tasks[0] if len(tasks) == 1 else None,
        max_concurrency=options.max_concurrency,
    )


def _existing_manifest(store: ObjectStore, ref: DocumentRef) -> list[SegmentTask] | None:
    """A manifest is written after every segment input: if it exists, planning is done."""
    if not store.exists(ref.manifest_key):
        return None
    items = json.loads(store.get_bytes(ref.manifest_key))
    return [SegmentTask.model_validate(item) for item in items]


def _segments(ref: DocumentRef, store: ObjectStore, options: PlanOptions) -> list[Segment]:
    if ref.media_type == PDF:
        return _page_segments(ref, store, options)
    if ref.media_type == TEXT:
        return _byte_segments(ref, options)
    raise AssertionError(f"sniff returned an unplanned type {ref.media_type}")


def _page_segments(ref: DocumentRef, store: ObjectStore, options: PlanOptions) -> list[Segment]:
    with store.local_copy(ref.source_key, ref.source_version_id) as source:
        ranges = pdf.page_ranges(pdf.count_pages(source), options.segment_pages)
        if len(ranges) == 1:
            # Small-file fast path: the worker reads the original, no sub-PDF is made.
            only = ranges[0]
            return [
                PagesSegment(
                    index=0,
                    page_start=only.start,
                    page_end=only.end,
                    input_key=ref.source_key,
                    input_version_id=ref.source_version_id,
                )
            ]
        segments: list[Segment] = []
        for index, part in pdf.split(source, ranges, options.tmp_dir):
            input_key = ref.segment_input_key(index, "pdf")
            try:
                store.put_file(input_key, part, "application/pdf")
            finally:
                part.unlink(missing_ok=True)
            pages = ranges[index]
            segments.append(
                PagesSegment(
                    index=index, page_start=pages.start, page_end=pages.end, input_key=input_key
                )
            )
        return segments


def _byte_segments(ref: DocumentRef, options: PlanOptions) -> list[Segment]:
    return [
        BytesSegment(
            index=index, byte_start=start, byte_end=min(start + options.segment_bytes, ref.size)
        )
        for index, start in enumerate(range(0, ref.size, options.segment_bytes))
    ]
