"""The laptop runner: plan -> segments in parallel processes -> finalize, on local adapters.

The same use cases as the Lambda functions, over a folder object store, a SQLite ledger,
vectors in Qdrant Edge (or a Qdrant server) and a JSONL event log, all under DOCPROC_HOME.
Everything is persistent, so Ctrl-C (or kill -9) and the same command again resumes where it
stopped.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from docproc.config import LocalSettings, batches_in_flight, embeds_offline
from docproc.embedding.port import SparseEncoder
from docproc.errors import DocprocError, VectorStoreBusy
from docproc.extract.ocr import OcrOptions
from docproc.extract.open_documents import OpenDocuments
from docproc.ledger.sqlite import SQLiteLedger
from docproc.local.workers import (
    BYTES_PER_SECOND,
    OCR_PAGES_PER_SECOND,
    PAGES_PER_SECOND,
    RECORDED_SECONDS_PER_SECOND,
    WORKER_START_SECONDS,
    pool_size,
    start_workers_server,
    workers_context,
)
from docproc.models import (
    DOCUMENT_INGESTED,
    DOCUMENT_INGESTION_FAILED,
    UPLOADS_PREFIX,
    DeleteResult,
    DocumentKey,
    DocumentRecord,
    DocumentRef,
    DocumentSummary,
    FailedSegment,
    FinalizeResult,
    IngestionFailedDetail,
    PlanResult,
    SegmentResult,
    SegmentTask,
    validate_id,
)
from docproc.notify.local import JsonlNotifier
from docproc.notify.port import Notifier
from docproc.observability import log_to_stderr, logger, metrics
from docproc.pipeline.delete import delete_document
from docproc.pipeline.finalize import Pricing, finalize_document
from docproc.pipeline.plan import PlanOptions, plan_document
from docproc.pipeline.process_segment import ProgressEvents, SegmentDeps, process_segment
from docproc.storage.local import LocalObjectStore, objects_root
from docproc.transcribe.port import Transcriber
from docproc.vectors.port import CollectionDeleters, VectorSearcher, VectorSink, VectorStore
from docproc.wiring import (
    LazyTranscriber,
    collection_of,
    make_chunker,
    make_edge_vector_store,
    make_embedder,
    make_sparse_encoder,
    make_transcriber,
    make_vector_store,
    qdrant_client,
)
from docproc.wiring import reindexed_deleters as wiring_reindexed_deleters

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from docproc.local.vectors_server import LockedStore, VectorStoreServer
    from docproc.vectors.edge import EdgeVectorStore

ProgressCallback = Callable[[int, int], None]


class IngestReport(BaseModel):
    document_id: str
    tenant_id: str
    case_id: str
    version: str
    status: str
    segments_total: int
    segments_processed: int
    segments_skipped: int
    chunks_total: int
    tokens_total: int
    pages: int
    # Scanned pages read by OCR.
    pages_ocr: int = 0
    bytes: int
    seconds: float = 0
    duration_ms: int
    # The processes this run's segments ran on (1: this one; 0: none ran): the runner's
    # choice, or DOCPROC_WORKERS.
    workers: int = 0


def default_document_id(path: Path) -> str:
    """A document id from a file name: its stem with unsafe characters replaced."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "document"
    return validate_id(stem[:128], "documentId")


class LocalEnvironment:
    """The laptop's adapters, built lazily under ``settings.home``."""

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.home = settings.home
        # Held for every call on the vector store while this process serves it to others
        # (serve_vectors): its own calls (segments, Finalize) take it too.
        self.vectors_lock = threading.Lock()
        self._server: VectorStoreServer | None = None
        # Shards of other collections opened to delete a document from (reindexed_deleters).
        self._other_shards: dict[str, EdgeVectorStore | None] = {}

    @cached_property
    def store(self) -> LocalObjectStore:
        return LocalObjectStore(objects_root(self.home))

    @cached_property
    def ledger(self) -> SQLiteLedger:
        return SQLiteLedger(self.home / "ledger.sqlite3")

    @cached_property
    def events(self) -> JsonlNotifier:
        """The laptop's event bus: every event, one JSON line each."""
        return JsonlNotifier(self.home / "events.jsonl")

    @cached_property
    def notifier(self) -> Notifier:
        """The event log, and the webhook when WEBHOOK_URL is set (README: Webhook)."""
        settings = self.settings
        if not settings.webhook_url:
            return self.events
        from docproc.notify.webhook import DeliveryPolicy, WebhookDelivery, WebhookNotifier

        keys = settings.webhook_keys
        delivery = WebhookDelivery(
            settings.webhook_url, lambda: keys, DeliveryPolicy.from_settings(settings)
        )
        return WebhookNotifier(self.events, delivery, self.home / "webhook-failed.jsonl")

    @cached_property
    def vectors(self) -> VectorStore:
        """Qdrant Edge under DOCPROC_HOME/vectors/, this process's from here: another docproc
        process on the same DOCPROC_HOME is refused (VectorStoreBusy) before it changes
        anything. Or the Qdrant server at QDRANT_URL, which every process shares."""
        settings = self.settings
        if not settings.qdrant_url:
            edge = make_edge_vector_store(self.home / "vectors", settings, settings)
            edge.claim()
            return edge
        return make_vector_store(self._qdrant_client(), settings, settings)

    def _qdrant_client(self) -> QdrantClient:
        settings = self.settings
        assert settings.qdrant_url is not None
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return qdrant_client(settings.qdrant_url, api_key)

    def reindexed_deleters(self) -> CollectionDeleters:
        """The collections other than the one in use that a re-index wrote documents into,
        to delete a document from: on the server, by name; here, the shards under vectors/,
        each opened once and closed with this environment."""
        in_use = collection_of(self.settings, self.settings)
        if self.settings.qdrant_url:
            return wiring_reindexed_deleters(self._qdrant_client(), in_use)

        def shard(collection: str) -> EdgeVectorStore | None:
            from docproc.vectors.edge import EdgeVectorStore

            if collection == in_use:
                return None
            if collection not in self._other_shards:
                self._other_shards[collection] = EdgeVectorStore.for_existing_shard(
                    self.home / "vectors", collection
                )
            return self._other_shards[collection]

        return shard

    def claim_vectors(self) -> VectorStore:
        """The vector store, taken for this process now, before anything is recorded (see
        ``vectors``)."""
        return self.vectors

    def serve_vectors(self) -> VectorStoreServer | None:
        """Take the laptop's store (see ``vectors``) and serve it from this process until
        ``close``: to this run's workers, and to ``docproc search`` run meanwhile in another
        process, which finds it through a file beside the shard. None with a Qdrant server,
        which every process reaches itself."""
        if self.settings.qdrant_url:
            return None
        if self._server is None:
            from docproc.local.vectors_server import VectorStoreServer

            self._server = VectorStoreServer(
                self.claim_vectors(), self.vectors_lock, announce=self._served_at()
            )
        return self._server

    def _served_at(self) -> Path:
        return self.home / "vectors" / f"{collection_of(self.settings, self.settings)}.serving"

    def own_vectors(self) -> VectorStore | LockedStore:
        """The store as this process's own calls use it (its segments, a deletion): under the
        lock while it is served to others."""
        return self.vectors if self._server is None else self._server.store

    def searcher(self) -> VectorSearcher:
        """The store to search: this process's; or, while another docproc process has it and
        serves it (an ingest running), that process's."""
        try:
            return self.claim_vectors()
        except VectorStoreBusy:
            from docproc.local.vectors_server import RemoteVectorStore

            served = RemoteVectorStore.announced(self._served_at())
            if served is None:
                raise
            return served

    @cached_property
    def sparse(self) -> SparseEncoder:
        return make_sparse_encoder()

    @cached_property
    def embedder(self) -> Any:
        key = self.settings.openai_api_key
        return make_embedder(self.settings, key.get_secret_value() if key else None)

    def close(self) -> None:
        """Stop serving the vector store and release it now, not at interpreter exit."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if "vectors" in self.__dict__:
            with self.vectors_lock:  # not while a served call is using it
                self.vectors.close()
        for other in self._other_shards.values():
            if other is not None:
                other.close()
        self._other_shards.clear()

    def _transcriber(self) -> Transcriber:
        key = self.settings.deepgram_api_key
        return make_transcriber(self.settings, key.get_secret_value() if key else None)

    @cached_property
    def ocr(self) -> OcrOptions:
        # Found once: where the trained data is takes a look at the disk.
        return self.settings.ocr_options()

    @cached_property
    def pricing(self) -> Pricing:
        return Pricing.from_settings(self.settings)

    def plan_options(self) -> PlanOptions:
        return PlanOptions.from_settings(self.settings, self.worker_count())

    def worker_count(self) -> int:
        """The most worker processes a document, or a run, may use: DOCPROC_WORKERS, else
        the cores."""
        return self.settings.workers or os.cpu_count() or 1

    def workers_for(self, tasks: list[SegmentTask]) -> int:
        """How many processes to run ``tasks`` on (see workers_for_estimate)."""
        return self.workers_for_estimate(len(tasks), sum(estimated_seconds(task) for task in tasks))

    def workers_for_estimate(self, segments: int, alone: float) -> int:
        """How many processes to run ``segments`` segments on, ``alone`` seconds of one core's
        work (docproc.local.workers.pool_size)."""
        return pool_size(segments, alone, os.cpu_count() or 1, self.settings.workers)

    def segment_deps(self, vectors: VectorSink, served: bool = False) -> SegmentDeps:
        """A segment's adapters, writing to ``vectors``: ``served`` when that is the store
        another process serves (a worker's)."""
        return SegmentDeps(
            store=self.store,
            ledger=self.ledger,
            chunker=make_chunker(self.settings),
            embedder=self.embedder,
            vectors=vectors,
            transcriber=LazyTranscriber(self._transcriber),
            embed_batch_size=self.settings.embed_batch_size,
            batches_in_flight=batches_in_flight(self.settings, self.settings, served),
            embeds_offline=embeds_offline(self.settings),
            ocr=self.ocr,
            tables=self.settings.tables,
            # Uploads are read where they lie: a worker keeps its document open.
            documents=OpenDocuments() if self.store.reads_in_place else None,
            sparse=self.sparse,
            progress=ProgressEvents(self.notifier, self.settings.progress_event_seconds)
            if self.settings.progress_event_seconds
            else None,
        )


# --- worker processes ---------------------------------------------------------------------


def estimated_seconds(task: SegmentTask) -> float:
    segment = task.segment
    if segment.kind == "pages":
        text_pages = segment.size_hint - segment.scanned_pages
        return text_pages / PAGES_PER_SECOND + segment.scanned_pages / OCR_PAGES_PER_SECOND
    if segment.kind == "bytes":
        return segment.size_hint / BYTES_PER_SECOND
    if segment.kind == "time":
        return (segment.time_end - segment.time_start) / RECORDED_SECONDS_PER_SECOND
    return WORKER_START_SECONDS


_worker_deps: SegmentDeps | Exception | None = None


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies, even by kill -9. Set in the workers'
    fork server (whose parent is the runner) and in each worker (whose parent is the fork
    server): multiprocessing's own way of ending the fork server, once every process that
    could ask it for a fork has gone, waits for the workers too, which wait for it."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _init_worker(
    settings: LocalSettings, address: Any, authkey: bytes | None, log_level: int
) -> None:
    from docproc.local.vectors_server import RemoteVectorStore

    die_with_parent()
    # Workers log like their parent: stdout stays for the parent's results.
    log_to_stderr(logging.getLevelName(log_level))
    # Ctrl-C goes to the whole process group; the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _worker_deps  # noqa: PLW0603 - one set of adapters per worker process
    env = LocalEnvironment(settings)
    try:
        # A Qdrant server is shared by every process; the Edge shard is the parent's, which
        # serves it to the workers.
        vectors = env.vectors if authkey is None else RemoteVectorStore(address, authkey)
        _worker_deps = env.segment_deps(vectors, served=authkey is not None)
    except Exception as error:  # noqa: BLE001 - handed to every task, see _run_task
        # An initializer that raises breaks the whole pool, and every segment would fail as
        # "BrokenProcessPool": each task raises the real cause instead.
        logger.exception("segment worker could not start")
        _worker_deps = error


def _process(task: SegmentTask, deps: SegmentDeps) -> SegmentResult:
    try:
        return process_segment(task, deps)
    finally:
        # EMF metrics go to CloudWatch from Lambda; a laptop has nowhere to flush them to.
        metrics.clear_metrics()


def _run_task(task_json: str) -> str:
    assert _worker_deps is not None
    if isinstance(_worker_deps, Exception):
        raise _worker_deps
    return _process(SegmentTask.model_validate_json(task_json), _worker_deps).model_dump_json()


# --- the runner -----------------------------------------------------------------------------


class SegmentFailures(DocprocError):
    """One or more segments failed; the others are recorded and will be skipped on re-run."""

    def __init__(self, failures: dict[int, BaseException]) -> None:
        first_index, first = next(iter(sorted(failures.items())))
        super().__init__(
            f"{len(failures)} segment(s) failed; first: segment {first_index}: "
            f"{type(first).__name__}: {first}"
        )
        self.failures = failures


def _tasks(env: LocalEnvironment, plan: PlanResult) -> list[SegmentTask]:
    if plan.first_task is not None:
        return [plan.first_task]
    assert plan.manifest is not None
    items = json.loads(env.store.get_bytes(plan.manifest.key))
    return [SegmentTask.model_validate(item) for item in items]


@contextmanager
def _worker_pool(env: LocalEnvironment, workers: int) -> Iterator[ProcessPoolExecutor]:
    # One process opens an Edge shard: the parent, which serves it to the workers.
    server = env.serve_vectors()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=workers_context(),
        initializer=_init_worker,
        initargs=(
            env.settings,
            server.address if server else None,
            server.authkey if server else None,
            logger.log_level,
        ),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def started_pool(env: LocalEnvironment, workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` processes whose fork server starts now, loading what they need
    while this process goes on with other work; the workers fork from it at the first tasks."""
    start_workers_server()
    with _worker_pool(env, workers) as pool:
        yield pool


SegmentOutcome = tuple[SegmentTask, "SegmentResult | Exception"]


def execute_segments(
    env: LocalEnvironment,
    tasks: list[SegmentTask],
    pool: ProcessPoolExecutor | None = None,
    workers: int | None = None,
) -> Iterator[SegmentOutcome]:
    """Each task's result or error, in the order they finish: on ``pool`` when one is given;
    else on ``workers`` processes (default: ``env.workers_for(tasks)``): this one for 1, else
    one pool of processes for all of them (the pool lives while the caller iterates)."""
    if pool is not None:
        yield from _pooled(pool, tasks)
        return
    workers = env.workers_for(tasks) if workers is None else workers
    if workers <= 1:
        # Small-file fast path: no pool to spawn, no IPC.
        deps = env.segment_deps(env.own_vectors())
        for task in tasks:
            try:
                yield task, _process(task, deps)
            except Exception as exc:  # noqa: BLE001 - the caller decides what a failure means
                yield task, exc
        return
    with _worker_pool(env, workers) as started:
        yield from _pooled(started, tasks)


def _pooled(pool: ProcessPoolExecutor, tasks: list[SegmentTask]) -> Iterator[SegmentOutcome]:
    running = PooledSegments(pool)
    running.add(tasks)
    while running:
        yield from running.finished(wait_for_one=True)


class SegmentsInTurn:
    """Segments of several documents, taken one from each document in turn: the first segments
    of every document first, and a document added later joins the turn."""

    def __init__(self) -> None:
        self._documents: deque[deque[SegmentTask]] = deque()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, tasks: list[SegmentTask]) -> None:
        if tasks:
            self._documents.append(deque(tasks))
            self._count += len(tasks)

    def take(self) -> SegmentTask:
        tasks = self._documents.popleft()
        task = tasks.popleft()
        self._count -= 1
        if tasks:
            self._documents.append(tasks)
        return task

    def take_all(self) -> list[SegmentTask]:
        return [self.take() for _ in range(self._count)]


class PooledSegments:
    """Segments run on a pool, added a document at a time (a folder's, while the rest of it
    is still being planned), their outcomes taken as they finish. With ``in_flight``, at most
    that many are handed to the pool at a time, taken from each document in turn (from
    ``waiting``, the segments added before the pool, on): a document added later does not wait
    for every segment of a long one added before it."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        in_flight: int | None = None,
        waiting: SegmentsInTurn | None = None,
    ) -> None:
        if in_flight is not None and in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        self._pool = pool
        self._in_flight = in_flight
        self._running: dict[Future[str], SegmentTask] = {}
        self._waiting = waiting if waiting is not None else SegmentsInTurn()
        self._hand_over()

    def __len__(self) -> int:
        """The segments added whose outcome is not taken yet."""
        return len(self._running) + len(self._waiting)

    def add(self, tasks: list[SegmentTask]) -> None:
        self._waiting.add(tasks)
        self._hand_over()

    def finished(self, wait_for_one: bool) -> Iterator[SegmentOutcome]:
        """The outcomes of the segments finished by now; with ``wait_for_one``, of at least
        one (when any was added)."""
        done, _ = wait(
            self._running, timeout=None if wait_for_one else 0, return_when=FIRST_COMPLETED
        )
        for future in done:
            task = self._running.pop(future)
            self._hand_over()
            error = future.exception()
            if error is None:
                yield task, SegmentResult.model_validate_json(future.result())
            else:
                assert isinstance(error, Exception)
                yield task, error

    def _hand_over(self) -> None:
        while self._waiting and (self._in_flight is None or len(self._running) < self._in_flight):
            task = self._waiting.take()
            self._running[self._pool.submit(_run_task, task.model_dump_json())] = task


def run_segments(
    env: LocalEnvironment,
    tasks: list[SegmentTask],
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> list[SegmentResult]:
    """Process one document's ``tasks`` (on ``workers`` processes, see execute_segments);
    SegmentFailures names those that failed."""
    results: list[SegmentResult] = []
    failures: dict[int, BaseException] = {}
    for task, outcome in execute_segments(env, tasks, workers=workers):
        if isinstance(outcome, Exception):
            failures[task.segment.index] = outcome
        else:
            results.append(outcome)
        if progress:
            progress(len(results) + len(failures), len(tasks))
    if failures:
        raise SegmentFailures(failures)
    return results


@dataclass(frozen=True)
class PlannedDocument:
    """A document copied in and planned, with the segments still to run."""

    ids: DocumentKey
    key: str
    plan: PlanResult
    tasks: list[SegmentTask]
    started: float


def plan_upload(
    env: LocalEnvironment,
    path: Path,
    tenant_id: str = "local",
    case_id: str = "default",
    document_id: str | None = None,
) -> PlannedDocument | IngestReport:
    """Copy ``path`` in as an upload and plan it: the segments to run, or the report when
    there is nothing to run (this version is ingested already, or a newer one holds it)."""
    started = time.monotonic()
    ids = DocumentKey(
        tenant_id=validate_id(tenant_id, "tenant"),
        case_id=validate_id(case_id, "case"),
        document_id=validate_id(document_id, "document id")
        if document_id
        else default_document_id(path),
        filename=path.name,
    )
    key = ids.object_key()
    DocumentKey.from_object_key(key)  # the same validation as an S3 upload gets
    upload = env.store.put_upload(key, path)
    # Uploads are ordered by when they were made, like S3's sequencer orders events.
    plan = plan_document(
        key,
        upload.version_id,
        env.store,
        env.ledger,
        env.plan_options(),
        sequence=f"{time.time_ns():024d}",
    )
    if plan.status == "planned":
        return PlannedDocument(ids, key, plan, _tasks(env, plan), started)
    record = env.ledger.get_document(ids.tenant_id, ids.document_id)
    assert record is not None
    version = plan.document.version
    if plan.status == "superseded":
        # A newer upload of this document holds it: this version was not ingested, and
        # the row's totals are the newer version's, not this one's.
        return _report(ids, version, "superseded", 0, 0, None, started)
    _announce_if_unannounced(env, plan.document)
    return _report(ids, version, "complete", plan.segments_total, 0, record, started)


def _announce_if_unannounced(env: LocalEnvironment, ref: DocumentRef) -> None:
    """The run that completed this version stopped before it announced it (killed, or
    interrupted while its webhook was retrying): announce it now, with the summary that run
    wrote, so that the same command again is how a missed "Document Ingested" is sent."""
    if not env.ledger.is_unannounced(ref.tenant_id, ref.document_id, ref.version):
        return
    summary = DocumentSummary.model_validate_json(env.store.get_bytes(ref.summary_key))
    logger.info("this version was completed but not announced; announcing it")
    env.notifier.publish(DOCUMENT_INGESTED, summary.model_dump(mode="json"))
    env.ledger.announced(ref.tenant_id, ref.document_id, ref.version)


def finish_document(
    env: LocalEnvironment, document: PlannedDocument, results: list[SegmentResult]
) -> IngestReport:
    """Every segment done: Finalize (under the store's lock: workers may be writing to it),
    and announce the document."""
    try:
        with env.vectors_lock:
            final: FinalizeResult = finalize_document(
                document.plan,
                env.store,
                env.ledger,
                env.vectors,
                env.pricing,
                keep_segment_files=env.settings.keep_segment_files,
            )
    except Exception as exc:
        record_failure(env, document, exc)
        raise
    if final.publish:
        env.notifier.publish(DOCUMENT_INGESTED, final.summary.model_dump(mode="json"))
        ref = document.plan.document
        env.ledger.announced(ref.tenant_id, ref.document_id, ref.version)
    summary = final.summary
    processed = sum(1 for result in results if not result.skipped)
    return _report(
        document.ids,
        document.plan.document.version,
        # deleted: by `docproc delete` while this ingest ran (see finalize_document)
        "deleted" if final.outcome == "deleted" else summary.status,
        summary.segments_total,
        processed,
        summary,
        document.started,
    )


def record_failure(env: LocalEnvironment, document: PlannedDocument, exc: Exception) -> None:
    """The document failed: mark it in the ledger and announce it with a resume hint."""
    ids, plan = document.ids, document.plan
    version = plan.document.version
    failed = sorted(exc.failures) if isinstance(exc, SegmentFailures) else []
    records = env.ledger.list_segments(ids.tenant_id, ids.document_id, version)
    env.ledger.fail_document(ids.tenant_id, ids.document_id, version, type(exc).__name__)
    detail = IngestionFailedDetail(
        tenant_id=ids.tenant_id,
        case_id=ids.case_id,
        document_id=ids.document_id,
        version=version,
        source_key=document.key,
        execution_arn=None,
        status="FAILED",
        error=type(exc).__name__,
        cause=str(exc)[:2000] if isinstance(exc, DocprocError) else None,
        document_status="failed",
        segments_total=plan.segments_total,
        segments_done=sum(1 for record in records if record.status == "done"),
        failed_segments=[
            FailedSegment(segment=index, error=type(exc.failures[index]).__name__)
            for index in failed
        ]
        if isinstance(exc, SegmentFailures)
        else [],
        resume_hint="run the same `docproc ingest` again: finished segments are skipped",
    )
    env.notifier.publish(DOCUMENT_INGESTION_FAILED, detail.model_dump(mode="json"))


def ingest(
    env: LocalEnvironment,
    path: Path,
    tenant_id: str = "local",
    case_id: str = "default",
    document_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    env.serve_vectors()  # before anything is recorded (see LocalEnvironment.vectors)
    planned = plan_upload(env, path, tenant_id, case_id, document_id)
    if isinstance(planned, IngestReport):
        if progress:
            progress(planned.segments_total, planned.segments_total)
        return planned
    workers = env.workers_for(planned.tasks)
    try:
        results = run_segments(env, planned.tasks, progress, workers)
    except Exception as exc:
        record_failure(env, planned, exc)
        raise
    return finish_document(env, planned, results).model_copy(update={"workers": workers})


def _report(
    ids: DocumentKey,
    version: str,
    status: str,
    segments_total: int,
    processed: int,
    totals: DocumentRecord | DocumentSummary | None,
    started: float,
) -> IngestReport:
    """What `docproc ingest` prints; the totals come from the run's summary, or from the
    ledger's row when the version was already ingested (none when it was not ingested)."""
    return IngestReport(
        document_id=ids.document_id,
        tenant_id=ids.tenant_id,
        case_id=ids.case_id,
        version=version,
        status=status,
        segments_total=segments_total,
        segments_processed=processed,
        segments_skipped=segments_total - processed if totals else 0,
        chunks_total=totals.chunks_total if totals else 0,
        tokens_total=totals.tokens_total if totals else 0,
        pages=totals.pages if totals else 0,
        pages_ocr=totals.pages_ocr if totals else 0,
        bytes=totals.bytes if totals else 0,
        seconds=totals.seconds if totals else 0,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def delete_local_document(env: LocalEnvironment, tenant_id: str, document_id: str) -> DeleteResult:
    """Delete a document everywhere on the laptop, its uploaded copies included.

    Recorded in the ledger as begun before anything goes, and as finished once "Document
    Deleted" is handed to the notifier and the uploads are gone: a deletion stopped part way
    (killed, or interrupted while its webhook retried) is still found, by case, after its
    ledger row is gone, and the next ``docproc delete`` of the document or its case does it
    again, announcing it. Like an ingest, it serves the laptop's store while it runs: a search
    meanwhile (a webhook can retry "Document Deleted" for minutes) is answered."""
    env.serve_vectors()  # before anything is recorded (see LocalEnvironment.vectors)
    record = env.ledger.get_document(tenant_id, document_id)
    case_id = (
        record.case_id
        if record
        else env.ledger.unfinished_deletions(tenant_id).get(document_id)
        or _uploaded_case(env, tenant_id, document_id)
    )
    env.ledger.begin_deletion(tenant_id, document_id, case_id)
    result = delete_document(
        tenant_id,
        document_id,
        env.store,
        env.ledger,
        env.own_vectors(),
        env.notifier,
        env.reindexed_deleters(),
        case_id=case_id,
    )
    if case_id is not None:
        env.store.purge_uploads(f"{UPLOADS_PREFIX}{tenant_id}/{case_id}/{document_id}/")
    env.ledger.deletion_finished(tenant_id, document_id)
    return result


def case_documents(env: LocalEnvironment, tenant_id: str, case_id: str) -> list[str]:
    """Every document of a case on the laptop: those the ledger holds, those whose deletion
    stopped part way, and uploads whose ingest stopped before the ledger knew of them."""
    documents = {record.document_id for record in env.ledger.list_documents(tenant_id, case_id)}
    documents.update(
        document
        for document, case in env.ledger.unfinished_deletions(tenant_id).items()
        if case == case_id
    )
    documents.update(
        DocumentKey.from_object_key(key).document_id
        for key in env.store.list_keys(f"{UPLOADS_PREFIX}{tenant_id}/{case_id}/")
    )
    return sorted(documents)


def _uploaded_case(env: LocalEnvironment, tenant_id: str, document_id: str) -> str | None:
    """The case of a document the ledger does not know, from where its upload lies."""
    for key in env.store.list_keys(f"{UPLOADS_PREFIX}{tenant_id}/"):
        ids = DocumentKey.from_object_key(key)
        if ids.document_id == document_id:
            return ids.case_id
    return None
