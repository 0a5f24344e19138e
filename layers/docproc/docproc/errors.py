"""The error tree. Class names are the state machine's Retry/Catch contract.

Lambda reports an unhandled exception as ``errorType`` = the class name, and
``statemachine/ingest.asl.json`` retries on those names. Renaming a class here is a
change to the state machine's behaviour: keep the two in step.
"""

from __future__ import annotations


class DocprocError(Exception):
    """Root of every error docproc raises on purpose."""


class TransientError(DocprocError):
    """Worth retrying later: throttling, timeouts, 5xx from a dependency.

    The state machine retries these with exponential backoff.
    """


class VectorStoreBusy(TransientError):
    """The laptop's vector store is open in another process: a Qdrant Edge shard is opened by
    one process at a time. Raised before anything is changed; run the command again when the
    other has finished."""


class UploadChanged(TransientError):
    """The laptop: the file being ingested was written to while docproc read it (in place of
    its stored copy, see docproc.storage.local). Nothing read from it is kept; the same
    command again ingests the file as it is then."""


class InvalidDocument(DocprocError):
    """The input itself is unusable. Never retried: the same bytes fail the same way."""


class UnsupportedDocument(InvalidDocument):
    """The content is of a type docproc cannot ingest (detected by content, not name)."""

    def __init__(self, message: str, detected_type: str) -> None:
        super().__init__(message)
        self.detected_type = detected_type


class InvalidObjectKey(InvalidDocument):
    """The key is not ``uploads/{tenant}/{case}/{document}/{filename}`` or has bad ids."""


class EncryptedDocument(InvalidDocument):
    """The document needs a password to be read."""


class NoExtractableText(InvalidDocument):
    """The document was read but holds no text (a scan needing OCR, or empty pages)."""


class SegmentBudgetExceeded(InvalidDocument):
    """A segment needed more time or memory than its function has: failing on purpose, with a
    ledger record, beats being killed by Lambda without one. Not retried (it would recur);
    lower SEGMENT_PAGES / SEGMENT_BYTES or raise the function's memory and timeout."""


class InvalidEvent(DocprocError):
    """An event that does not match the handler's model. Not retried."""


class ReindexTargetInUse(InvalidEvent):
    """A re-index into the collection search uses now: nothing to re-index. Not retried."""


class ReindexTargetMissing(InvalidEvent):
    """BM25 vectors for a collection that does not exist. Not retried."""


class StoredChunkInvalid(InvalidDocument):
    """A point of the collection in use whose payload is not a chunk (changed by hand, or
    written by another program): a re-index cannot embed it again. Not retried."""


class ReindexSourceMissing(InvalidEvent):
    """A re-index to a new collection while the collection in use, where it reads the chunks,
    does not exist (the configuration names another model than the documents were ingested
    with). Not retried."""


class ConfigurationError(DocprocError):
    """Settings are missing or inconsistent. Raised at start-up, never retried."""


class PermanentDependencyError(DocprocError):
    """A dependency refused the request for good (bad credentials, bad request, quota)."""


class EmbeddingDimensionMismatch(PermanentDependencyError):
    """The vector collection exists with a different vector size than the embedder's."""


class SegmentsIncomplete(DocprocError):
    """Finalize found segments that are not done; the execution must be redriven."""


class ObjectNotFound(DocprocError):
    """The object or the pinned version no longer exists."""


class WebhookRejected(PermanentDependencyError):
    """The webhook receiver refused a delivery for good (a 4xx other than 408/429, or a
    redirect, which is not followed): not retried, the event is dead-lettered."""


class InvalidSignature(DocprocError):
    """A webhook delivery whose signature, timestamp or id does not verify (for receivers)."""
