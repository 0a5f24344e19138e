"""Events, segments, chunks and results: every shape that crosses a process boundary.

Each handler validates its input against one of these models; every use case returns one.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from docproc.errors import InvalidObjectKey
from docproc.vectors.port import COLLECTION_PREFIX_PATTERN

UPLOADS_PREFIX = "uploads/"
# A document's work: work/{tenant}/{document}/{version}/...
WORK_PREFIX = "work/"
# A segment's chunk file, in the work folder's segments/ beside the segments' inputs.
CHUNKS_SUFFIX = ".chunks.jsonl"
# What a run over many documents keeps (the re-index manifest, the Distributed Maps' results):
# apart from work/, whose next level is any tenant id, so that no tenant (one named "reindex",
# say) shares it, a deletion of its documents cannot remove it, and the state machine roles
# that read and write it reach no document's outputs.
JOBS_PREFIX = "jobs/"

# Ids come from object keys and end up in object keys and filters: keep them boring.
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Fixed namespace for point ids: changing it would orphan every stored point.
POINT_ID_NAMESPACE = uuid.UUID("6f1c1d9e-52a4-4c1b-9a57-0d6c3c2b7a10")


def validate_id(value: str, what: str) -> str:
    """Return ``value`` if it is a safe id, else raise InvalidObjectKey."""
    if not ID_PATTERN.match(value) or value in {".", ".."}:
        raise InvalidObjectKey(f"{what} is not a valid id (allowed: [A-Za-z0-9._-], 1-128 chars)")
    return value


def point_id(tenant_id: str, document_id: str, version: str, segment: int, ordinal: int) -> str:
    """Deterministic Qdrant point id: a retry overwrites the same point instead of duplicating."""
    name = f"{tenant_id}/{document_id}/{version}/{segment}/{ordinal}"
    return str(uuid.uuid5(POINT_ID_NAMESPACE, name))


_UNSAFE_IN_VERSION = re.compile(r"[^A-Za-z0-9._-]")


def object_version(version_id: str | None, etag: str) -> str:
    """The version that names a document's outputs and its execution: the S3 VersionId, or the
    ETag (quotes and other unsafe characters dropped) where the bucket keeps no versions."""
    return version_id or "etag-" + _UNSAFE_IN_VERSION.sub("", etag)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Incoming(BaseModel):
    """Events from AWS services: tolerate fields we do not use."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class DocumentKey(_Model):
    """The ids encoded in an upload key: ``uploads/{tenant}/{case}/{document}/{filename}``."""

    tenant_id: str
    case_id: str
    document_id: str
    filename: str

    @classmethod
    def from_object_key(cls, key: str) -> DocumentKey:
        if not key.startswith(UPLOADS_PREFIX):
            raise InvalidObjectKey("object key is not under uploads/")
        parts = key[len(UPLOADS_PREFIX) :].split("/")
        if len(parts) != 4 or not parts[3]:
            raise InvalidObjectKey(
                "object key must be uploads/{tenantId}/{caseId}/{documentId}/{filename}"
            )
        tenant, case, document, filename = parts
        validate_id(tenant, "tenantId")
        validate_id(case, "caseId")
        validate_id(document, "documentId")
        if filename in {".", ".."} or "\x00" in filename:
            raise InvalidObjectKey("filename is not valid")
        return cls(tenant_id=tenant, case_id=case, document_id=document, filename=filename)

    def object_key(self) -> str:
        return f"{UPLOADS_PREFIX}{self.tenant_id}/{self.case_id}/{self.document_id}/{self.filename}"


class DocumentRef(_Model):
    """One pinned version of one uploaded document: everything a segment worker needs."""

    tenant_id: str
    case_id: str
    document_id: str
    version: str
    filename: str
    bucket: str
    source_key: str
    source_version_id: str | None
    etag: str
    # The content's identity (hash or ETag): an upload equal to the completed one is a no-op.
    fingerprint: str
    # Orders uploads of the same key (S3's event sequencer, padded): the newest upload wins
    # whatever order the runs finish in. Empty when unknown.
    sequence: str = ""
    size: int
    media_type: str

    @property
    def work_prefix(self) -> str:
        return f"{WORK_PREFIX}{self.tenant_id}/{self.document_id}/{self.version}/"

    @property
    def manifest_key(self) -> str:
        return f"{self.work_prefix}manifest.json"

    @property
    def summary_key(self) -> str:
        return f"{self.work_prefix}document.json"

    @property
    def transcoded_text_key(self) -> str:
        """Text in an encoding other than UTF-8, transcoded once so ranges fall on UTF-8."""
        return f"{self.work_prefix}text.utf8.txt"

    @property
    def repacked_archive_key(self) -> str:
        """An archive's files (a 7z's, a tar's), repacked by Plan into a ZIP its segments read."""
        return f"{self.work_prefix}segments/archive.zip"

    def segment_input_key(self, index: int, suffix: str) -> str:
        return f"{self.work_prefix}segments/{index:05d}.{suffix}"

    def chunks_key(self, index: int) -> str:
        return f"{self.work_prefix}segments/{index:05d}{CHUNKS_SUFFIX}"


class PagesSegment(_Model):
    """Pages ``page_start..page_end`` (1-based, inclusive) of the upload: copied into their own
    sub-PDF (S3), or read from the upload itself (one segment; a store on local disk)."""

    kind: Literal["pages"] = "pages"
    index: int = Field(ge=0)
    page_start: int = Field(ge=1)
    page_end: int = Field(ge=1)
    input_key: str
    # Set when the input is the pinned upload itself, not a sub-PDF.
    input_version_id: str | None = None
    # PyMuPDF's name for the input's format: sub-PDFs are always pdf; an upload read in place
    # may be epub, xps, ...
    input_filetype: str = "pdf"
    # Of these pages, how many Plan guessed are scans for OCR (0 when it did not look): the
    # laptop runner sizes its pool by them, as OCR takes ~200x a text page's time.
    scanned_pages: int = Field(default=0, ge=0)
    # A large paged file inside an uploaded archive, unpacked by Plan: its path there (its
    # chunks carry it, the first page's begins "File: PATH").
    path: str | None = None

    @property
    def size_hint(self) -> int:
        return self.page_end - self.page_start + 1


class BytesSegment(_Model):
    """Bytes ``[byte_start, byte_end)`` of a text-like object, read with Range GETs."""

    kind: Literal["bytes"] = "bytes"
    index: int = Field(ge=0)
    byte_start: int = Field(ge=0)
    byte_end: int = Field(ge=0)
    # The UTF-8 text the ranges refer to: the upload itself, or a transcoded copy in work/.
    input_key: str
    input_version_id: str | None = None
    input_size: int = Field(ge=0)
    # CSV: the header row, repeated at the top of every chunk.
    header: str | None = None

    @property
    def size_hint(self) -> int:
        return self.byte_end - self.byte_start


class WholeSegment(_Model):
    """A document read whole by one worker (DOCX: not splittable by range; its XML is read in
    place, not its media)."""

    kind: Literal["whole"] = "whole"
    index: int = Field(ge=0)
    input_key: str
    input_version_id: str | None = None

    @property
    def size_hint(self) -> int:
        return 0


class TimeSegment(_Model):
    """Seconds ``[time_start, time_end)`` of a recording on the whole file's timeline. The worker
    decodes a little more on each side (``overlap_seconds``) so words at an edge are heard in
    context, and keeps only the words that start inside its own range."""

    kind: Literal["time"] = "time"
    index: int = Field(ge=0)
    time_start: float = Field(ge=0)
    time_end: float = Field(gt=0)
    overlap_seconds: float = Field(default=0, ge=0)
    input_key: str
    input_version_id: str | None = None

    @property
    def size_hint(self) -> int:
        return 0


Segment = Annotated[
    PagesSegment | BytesSegment | WholeSegment | TimeSegment, Field(discriminator="kind")
]


class SegmentTask(_Model):
    """One item of the manifest: the input of ProcessSegment."""

    document: DocumentRef
    segment: Segment


class S3Location(_Model):
    bucket: str
    key: str


class PlanResult(_Model):
    """Output of Plan; the state machine's Choice reads ``status`` and ``segments_total``."""

    # superseded: a newer upload of the same key holds the document; nothing to do.
    status: Literal["planned", "already_ingested", "superseded"]
    document: DocumentRef
    segments_total: int
    manifest: S3Location | None = None
    # The small-file fast path runs this task directly, without a Map.
    first_task: SegmentTask | None = None
    max_concurrency: int = 1
    # The Step Functions execution that planned this version (none on a laptop): Finalize
    # records it, and tells its own re-run (a redrive) from a concurrent execution's.
    execution_arn: str | None = None


class Chunk(_Model):
    """One line of ``segments/NNNNN.chunks.jsonl`` and one Qdrant point's payload."""

    tenant_id: str
    case_id: str
    document_id: str
    version: str
    filename: str
    segment: int
    ordinal: int
    point_id: str
    text: str
    # sha256 of the text (16 hex digits): a retry skips points stored with the same hash.
    chunk_hash: str
    token_count: int
    page_start: int | None = None
    page_end: int | None = None
    byte_start: int | None = None
    byte_end: int | None = None
    time_start: float | None = None
    time_end: float | None = None
    # Speech: the speaker label when the transcriber tells speakers apart.
    speaker: int | None = None
    # The file inside an archive the chunk comes from ("exhibits/lease.pdf"); its pages, where
    # set, are that file's, and its bytes the file's in the archive.
    path: str | None = None
    # How the text was obtained: for pages "text" (the text layer), "ocr" or "text+ocr" (a
    # chunk across both); other formats name their reader ("utf8-text", "ffmpeg+nova-3", ...).
    extraction: str

    def payload(self) -> dict[str, Any]:
        """Qdrant payload: every field but the id (the point id is the key)."""
        return self.model_dump(exclude={"point_id"}, exclude_none=True)


class SegmentResult(_Model):
    tenant_id: str
    document_id: str
    version: str
    segment: int
    status: Literal["done"] = "done"
    # True when the ledger already had this segment: nothing was redone.
    skipped: bool = False
    # True when its input was gone because the document was deleted meanwhile: nothing was
    # done, and Finalize removes what the version wrote.
    gone: bool = False
    chunks: int
    tokens: int
    pages: int = 0
    # Scanned pages read by OCR.
    pages_ocr: int = 0
    bytes: int = 0
    # Recordings: seconds of audio this segment owns.
    seconds: float = 0
    output_key: str
    duration_ms: int
    peak_rss_mb: float
    attempt: int = 1


class DocumentSummary(_Model):
    """``document.json`` and the detail of the "Document Ingested" event."""

    tenant_id: str
    case_id: str
    document_id: str
    version: str
    filename: str
    media_type: str
    source_key: str
    size: int
    status: Literal["complete"] = "complete"
    segments_total: int
    chunks_total: int
    tokens_total: int
    pages: int
    # Scanned pages read by OCR (each chunk's ``extraction`` says which pages were).
    pages_ocr: int = 0
    bytes: int
    # Recordings: their duration in seconds, as decoded.
    seconds: float = 0
    collection: str
    embedding_model: str
    # tokens_total x the configured price per million tokens of the embedding model.
    estimated_cost_usd: float
    summary_key: str
    duration_ms: int
    completed_at: datetime


class FinalizeResult(_Model):
    summary: DocumentSummary
    superseded_versions_removed: list[str] = []
    # completed: this execution made the version the document's (now, or in a Finalize of its
    # own that it runs again); already_completed: a concurrent execution of this version did
    # first; retired: a newer upload took over while this one ran (its points are removed);
    # deleted: the document was deleted while this version ran (what it wrote is removed).
    outcome: Literal["completed", "already_completed", "retired", "deleted"] = "completed"
    # False when there is nothing to announce (every outcome but "completed"). The state
    # machine publishes "Document Ingested" only when True.
    publish: bool = True


# --- Ledger records -------------------------------------------------------------------------

# A deleted document has no rows at all (Delete removes them): there is no "deleted" status.
DocumentStatus = Literal["processing", "complete", "failed"]


class _Record(BaseModel):
    """A ledger row; storage adds its own key attributes, which are ignored here."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class DocumentRecord(_Record):
    tenant_id: str
    case_id: str
    document_id: str
    version: str
    status: DocumentStatus
    segments_total: int = 0
    chunks_total: int = 0
    tokens_total: int = 0
    pages: int = 0
    pages_ocr: int = 0
    bytes: int = 0
    seconds: float = 0
    # The version searches should see: the last one that completed, and its content's identity.
    completed_version: str | None = None
    completed_fingerprint: str | None = None
    # The execution whose Finalize completed ``completed_version`` (none on a laptop).
    completed_by: str | None = None
    # ``completed_version``'s segments and tokens, kept when a newer upload starts (the totals
    # above are then the newer version's): what a re-index embeds. None in rows written before
    # they were kept (see completed_totals).
    completed_segments_total: int | None = None
    completed_tokens_total: int | None = None
    # Versions started before this one whose points Finalize must remove.
    superseded_versions: list[str] = []
    # The sequence of the upload this row's version came from (see DocumentRef.sequence).
    sequence: str = ""
    attempts: int = 1
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    last_error: str | None = None
    execution_arn: str | None = None

    @property
    def completed_totals(self) -> tuple[int, int] | None:
        """(segments, tokens) of ``completed_version``, the version searches see; None if there
        is none, or if a newer upload started in a row from before they were kept."""
        if self.completed_version is None:
            return None
        if self.status == "complete" and self.version == self.completed_version:
            return self.segments_total, self.tokens_total
        if self.completed_segments_total is None:
            return None
        return self.completed_segments_total, self.completed_tokens_total or 0


class SegmentRecord(_Record):
    index: int
    status: Literal["done", "failed"]
    output_key: str | None = None
    chunks: int = 0
    tokens: int = 0
    pages: int = 0
    pages_ocr: int = 0
    bytes: int = 0
    seconds: float = 0
    duration_ms: int = 0
    peak_rss_mb: float = 0.0
    attempts: int = 1
    error: str | None = None
    updated_at: datetime


# --- Incoming events -------------------------------------------------------------------------


class S3Bucket(_Incoming):
    name: str


class S3Object(_Incoming):
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class S3EventDetail(_Incoming):
    bucket: S3Bucket
    object: S3Object


class S3ObjectEvent(_Incoming):
    """EventBridge's "Object Created" / "Object Deleted" event from S3."""

    detail_type: Literal["Object Created", "Object Deleted"] = Field(alias="detail-type")
    source: Literal["aws.s3"]
    detail: S3EventDetail


class BackfillRequest(_Incoming):
    """One object listed by the Backfill state machine (its ItemSelector builds this)."""

    source: Literal["docproc.backfill"]
    bucket: str = Field(min_length=3)
    key: str = Field(min_length=1)


class ReindexTarget(_Model):
    """The model a re-index embeds with, and the prefix of the collection it writes: the
    collection is named by the prefix, the model and its size."""

    embedding_model: str = Field(min_length=1, max_length=200)
    # None: the model's native size.
    embedding_dimensions: int | None = Field(default=None, ge=8, le=8192)
    # None: the configured prefix. Another one moves the same model into a new collection,
    # e.g. a collection made before hybrid search into one with BM25 vectors.
    collection_prefix: str | None = Field(default=None, pattern=COLLECTION_PREFIX_PATTERN)
    # BM25 vectors only, into the existing collection, in place: a collection made before
    # hybrid search gets its sparse vector and every point its weights; the dense vectors
    # stay (no embedding calls).
    bm25_only: bool = False

    def settings_update(self) -> dict[str, Any]:
        """The settings fields this target sets (for ``model_copy(update=...)``)."""
        update: dict[str, Any] = {
            "embedding_model": self.embedding_model,
            "embedding_dimensions": self.embedding_dimensions,
        }
        if self.collection_prefix is not None:
            update["qdrant_collection_prefix"] = self.collection_prefix
        return update


# The folder of a version's re-index markers: .../{version}/reindexed/{collection}/NNNNN.json
_REINDEXED = "reindexed"


def _markers(tenant_id: str, document_id: str, version: str, collection: str) -> str:
    """The folder of a version's re-index markers into ``collection``."""
    return f"{WORK_PREFIX}{tenant_id}/{document_id}/{version}/{_REINDEXED}/{collection}"


def reindex_manifest_key(collection: str, execution_name: str) -> str:
    """The segments a re-index execution planned (its Distributed Map's items)."""
    return f"{JOBS_PREFIX}reindex/manifests/{collection}/{execution_name}/segments.json"


class ReindexSegment(_Model):
    """One segment of a document's searchable (completed) version: an item of the re-index
    manifest. Its chunks are read from the collection in use (their points' payload)."""

    tenant_id: str
    document_id: str
    version: str
    segment: int = Field(ge=0)
    # Named the chunk file in manifests of plans made before the chunks were read from the
    # collection in use: accepted, so a redrive of such an execution after an upgrade runs,
    # and not used or written.
    chunks_key: str | None = Field(default=None, exclude=True)

    def marker_key(self, collection: str) -> str:
        """Written after the segment's points: a re-run of the re-index skips it."""
        folder = _markers(self.tenant_id, self.document_id, self.version, collection)
        return f"{folder}/{self.segment:05d}.json"

    @staticmethod
    def marker_collection(key: str) -> str | None:
        """The collection a re-index marker (a segment's or a document's) names; None for any
        other key."""
        parts = key.split("/")
        if len(parts) == 7 and f"{parts[0]}/" == WORK_PREFIX and parts[4] == _REINDEXED:
            return parts[5]
        return None


class ReindexDocument(_Model):
    """One completed document version of a BM25-only re-index: an item of its manifest. Its
    points' own payload text is read, so neither segment rows nor chunk files are needed (both
    expire)."""

    tenant_id: str
    document_id: str
    version: str

    def marker_key(self, collection: str) -> str:
        """Written after the document's points have their BM25 vectors: a re-run skips it."""
        folder = _markers(self.tenant_id, self.document_id, self.version, collection)
        return f"{folder}/document.json"


class ReindexPlanRequest(_Model):
    """The Reindex state machine's first step: what to re-embed, into which collection."""

    action: Literal["plan"]
    target: ReindexTarget
    dry_run: bool = False
    # Names the manifest, so a redriven execution writes the same one.
    execution_name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")


class ReindexSegmentRequest(_Model):
    """One item of the Reindex state machine's Map."""

    action: Literal["segment"]
    target: ReindexTarget
    # A segment; with ReindexTarget.bm25_only, a document.
    item: ReindexSegment | ReindexDocument
    # The plan made the collection: embed even if an (older) marker says done.
    redo: bool = False


class ReindexEvent(RootModel[ReindexPlanRequest | ReindexSegmentRequest]):
    """The Reindex function's input: a plan or a segment, told apart by ``action``."""

    root: Annotated[ReindexPlanRequest | ReindexSegmentRequest, Field(discriminator="action")]


class IngestStart(_Model):
    """Start's answer to a backfill item: the ingest execution to start, named and with the
    input its upload's event would have given it."""

    execution_name: str
    input: dict[str, Any]


class StartResult(_Model):
    execution_name: str
    execution_arn: str | None
    # True when a finished execution of this name existed: a duplicate delivery of the event.
    # (A duplicate while it runs gets the running execution back: StartExecution is
    # idempotent for the same name and input.)
    duplicate: bool


class PlanRequest(_Incoming):
    """Plan's input: the S3 event as the rule delivered it, plus the execution's ARN."""

    event: S3ObjectEvent
    execution_arn: str | None = None


class ExecutionStatusDetail(_Incoming):
    execution_arn: str = Field(alias="executionArn")
    state_machine_arn: str = Field(alias="stateMachineArn")
    name: str
    status: Literal["FAILED", "TIMED_OUT", "ABORTED"]
    input: str | None = None
    error: str | None = None
    cause: str | None = None

    @field_validator("error", "cause")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        # The cause may embed a stack trace; events have a size limit.
        return value[:2000] if value else value


class ExecutionStatusChangeEvent(_Incoming):
    """EventBridge's "Step Functions Execution Status Change" event."""

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    source: Literal["aws.states"]
    detail: ExecutionStatusDetail


# --- Outgoing events -------------------------------------------------------------------------

EVENT_SOURCE = "docproc"
DOCUMENT_INGESTED = "Document Ingested"
DOCUMENT_INGESTION_FAILED = "Document Ingestion Failed"
DOCUMENT_DELETED = "Document Deleted"
DOCUMENT_INGESTION_PROGRESS = "Document Ingestion Progress"
PUBLISHED_TYPES = frozenset(
    {DOCUMENT_INGESTED, DOCUMENT_INGESTION_FAILED, DOCUMENT_DELETED, DOCUMENT_INGESTION_PROGRESS}
)


class DeleteResult(_Model):
    """The detail of "Document Deleted"."""

    tenant_id: str
    case_id: str | None
    document_id: str
    work_objects_deleted: int = 0
    ledger_rows_deleted: int = 0
    # True when nothing was deleted because the upload still exists (an older version of it
    # was removed, not the object).
    skipped: bool = False


class FailedSegment(_Model):
    segment: int
    error: str | None


class IngestionFailedDetail(_Model):
    # None when the execution input did not name a valid upload key.
    tenant_id: str | None
    case_id: str | None
    document_id: str | None
    version: str | None
    source_key: str | None
    execution_arn: str | None
    status: str
    error: str | None
    cause: str | None
    # The ledger's word on this version: "failed" (marked now); "complete" (it completed and
    # is searchable, the execution failed after, e.g. announcing it); "superseded" (a newer
    # upload holds the document); None (nothing recorded, e.g. it failed at Plan).
    document_status: Literal["failed", "complete", "superseded"] | None = None
    # None when the ledger does not know this version's total (superseded, or not planned).
    segments_total: int | None
    segments_done: int
    failed_segments: list[FailedSegment]
    resume_hint: str


class PublishedEvent(_Incoming):
    """An event docproc published, as an EventBridge rule hands it to a target."""

    id: str = Field(min_length=1)
    detail_type: str = Field(alias="detail-type")
    source: Literal["docproc"]
    time: str = Field(min_length=1)
    detail: dict[str, Any]

    @field_validator("detail_type")
    @classmethod
    def _one_of_ours(cls, value: str) -> str:
        if value not in PUBLISHED_TYPES:
            raise ValueError(f"not an event docproc publishes: {value}")
        return value


class WebhookResult(_Model):
    event_id: str
    type: str
    attempts: int
    status: int


class NotifyFailureResult(_Model):
    published: bool
    detail: IngestionFailedDetail
