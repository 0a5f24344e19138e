"""Many documents in one command: ``docproc ingest PATH [PATH ...]`` over files and folders.

Each document is planned and finalized as a single file is (so a re-run skips what is
complete and resumes what is not), and the segments of all of them share one pool of workers;
one that fails or is refused is reported and the others go on. Document ids come from the path
relative to the folder given, so the same folder ingested again maps to the same documents.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from docproc.errors import DocprocError, InvalidDocument, UnsupportedDocument
from docproc.extract.sniff import CONTAINERS, SNIFF_BYTES, sniff, sniff_container
from docproc.local.runner import (
    IngestReport,
    LocalEnvironment,
    PlannedDocument,
    PooledSegments,
    ProgressCallback,
    SegmentFailures,
    SegmentOutcome,
    SegmentsInTurn,
    default_document_id,
    estimated_seconds,
    execute_segments,
    finish_document,
    plan_upload,
    record_failure,
    started_pool,
)
from docproc.local.workers import start_workers_server
from docproc.models import SegmentResult, validate_id

# What a folder's sub-path becomes in a document id ("/" is not allowed in ids).
PATH_SEPARATOR = "--"

Outcome = Literal["complete", "superseded", "rejected", "failed"]

# Segments handed to the pool at a time, per worker (the one it runs included): enough to keep
# each busy while this process plans or finalizes a document, few enough that a document
# planned later waits for only that many of the others' segments before its own turn.
IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True)
class Candidate:
    path: Path
    document_id: str
    # Its bytes when selected: how much of a folder the documents planned so far are.
    size: int


@dataclass
class Selection:
    """The documents a command names, and what its folders held that is not one."""

    documents: list[Candidate] = field(default_factory=list)
    hidden: int = 0
    # (path, what it is) of files whose content docproc does not ingest
    unsupported: list[tuple[Path, str]] = field(default_factory=list)


class DocumentOutcome(BaseModel):
    """One line of ``docproc ingest FOLDER --json``."""

    path: str
    document_id: str
    status: Outcome
    # Nothing redone: the document was already ingested (or complete up to its last segment).
    skipped: bool = False
    segments_total: int = 0
    chunks_total: int = 0
    pages: int = 0
    pages_ocr: int = 0
    bytes: int = 0
    seconds: float = 0
    duration_ms: int = 0
    error: str | None = None


def folder_document_id(relative: Path) -> str:
    """``contracts/2024/lease.pdf`` -> ``contracts--2024--lease``: the parts made safe, the
    file's extension dropped (as for a single file)."""
    parts = [*relative.parts[:-1], relative.stem]
    safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip("-.") or "_" for part in parts]
    joined = PATH_SEPARATOR.join(safe)
    if len(joined) > 128:
        raise InvalidDocument(f"{relative}: its path is too long for a document id (128)")
    return validate_id(joined, f"the document id of {relative}")


def select(paths: Sequence[Path], glob: str | None = None) -> Selection:
    """Files named as they are; folders walked (hidden files and folders skipped and counted,
    ``glob`` matched against the path inside the folder and the file name), files docproc
    cannot read skipped and counted. Clashing ids are refused before anything is ingested."""
    selection = Selection()
    for path in paths:
        if path.is_file():
            selection.documents.append(
                Candidate(path, default_document_id(path), path.stat().st_size)
            )
        elif path.is_dir():
            _walk(path, glob, selection)
        else:
            raise InvalidDocument(f"no such file or folder: {path}")
    clashes = Counter(candidate.document_id for candidate in selection.documents)
    clashing = [
        candidate for candidate in selection.documents if clashes[candidate.document_id] > 1
    ]
    if clashing:
        shown = "; ".join(f"{c.path} -> {c.document_id}" for c in clashing[:10])
        raise InvalidDocument(
            f"{len(clashing)} files map to the same document id ({shown}): rename them, or "
            "ingest them one at a time with --document-id"
        )
    return selection


def _walk(folder: Path, glob: str | None, selection: Selection) -> None:
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            selection.hidden += 1
            continue
        if glob and not (
            fnmatch.fnmatch(relative.as_posix(), glob) or fnmatch.fnmatch(path.name, glob)
        ):
            continue
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
            size = os.fstat(file.fileno()).st_size
        try:
            _sniff_file(head, path)
        except UnsupportedDocument as exc:
            selection.unsupported.append((relative, str(exc)))
            continue
        except InvalidDocument:
            pass  # an empty file: ingested and refused like any other bad document
        selection.documents.append(Candidate(path, folder_document_id(relative), size))


def _sniff_file(head: bytes, path: Path) -> None:
    """UnsupportedDocument for a file docproc does not ingest, as Plan would find: a ZIP
    archive or a compound file by its members or streams (a .doc, an archive of photographs:
    skipped and counted, not refused as documents)."""
    media_type = sniff(head, path.name).media_type
    if media_type in CONTAINERS:
        sniff_container(media_type, path)


def ingest_all(
    env: LocalEnvironment,
    documents: Sequence[Candidate],
    tenant_id: str,
    case_id: str,
    progress: ProgressCallback | None = None,
) -> Iterator[DocumentOutcome]:
    """Every document planned in turn (copied in; one already complete, or refused, is
    reported at once) and the segments of all of them run on this process, or on one pool of
    workers that starts as soon as the documents planned so far have work for each worker and
    then takes each document's segments as it is planned; segments are taken from each
    document in turn, so that a long one does not hold up the others. Each document is
    finalized as soon as its last segment is done. A failure is an outcome, not the end of the
    run. ``progress`` gets (segments finished, segments planned so far)."""
    env.serve_vectors()  # before any document is recorded (see LocalEnvironment.vectors)
    with ExitStack() as stack:
        yield from _FolderRun(env, documents, progress, stack).run(tenant_id, case_id)


class _FolderRun:
    """The documents of one command: planned one after another, their segments run on this
    process or on one pool of workers, each document finalized once its segments are done."""

    def __init__(
        self,
        env: LocalEnvironment,
        documents: Sequence[Candidate],
        progress: ProgressCallback | None,
        stack: ExitStack,
    ) -> None:
        self.env, self.documents, self.progress, self.stack = env, documents, progress, stack
        self.planned: dict[str, tuple[Candidate, PlannedDocument]] = {}
        self.results: dict[str, list[SegmentResult]] = {}
        self.failures: dict[str, dict[int, BaseException]] = {}
        # Planned while no pool runs.
        self.waiting = SegmentsInTurn()
        self.pool: PooledSegments | None = None
        self.server_started = False
        # The work planned so far, added up as it grows: adding all of it up again for each
        # document took 1.2 s at 3,000 documents.
        self.segments_planned, self.seconds_planned = 0, 0.0
        self.segments_finished = 0

    def run(self, tenant_id: str, case_id: str) -> Iterator[DocumentOutcome]:
        bytes_total = sum(candidate.size for candidate in self.documents)
        bytes_seen = 0
        for candidate in self.documents:
            bytes_seen += candidate.size
            try:
                result = plan_upload(
                    self.env, candidate.path, tenant_id, case_id, candidate.document_id
                )
            except DocprocError as exc:
                yield _failed(candidate, exc)
                continue
            if isinstance(result, IngestReport):
                yield _outcome(candidate, result)
                continue
            self._add(candidate, result)
            if self.pool is None:
                # (A file empty when selected and written since is planned all the same.)
                self._start_workers_when_due(bytes_total / bytes_seen if bytes_seen else 1.0)
            else:
                yield from self._outcomes(self.pool.finished(wait_for_one=False))
        if self.pool is None:
            # Not work enough for a pool of every worker: execute_segments decides.
            yield from self._outcomes(execute_segments(self.env, self.waiting.take_all()))
            return
        while self.pool:
            yield from self._outcomes(self.pool.finished(wait_for_one=True))

    def _add(self, candidate: Candidate, document: PlannedDocument) -> None:
        document_id = document.ids.document_id
        self.planned[document_id] = (candidate, document)
        self.results[document_id], self.failures[document_id] = [], {}
        self.segments_planned += len(document.tasks)
        for task in document.tasks:
            self.seconds_planned += estimated_seconds(task)
        if self.pool is None:
            self.waiting.add(document.tasks)
        else:
            self.pool.add(document.tasks)

    def _start_workers_when_due(self, folder_per_planned: float) -> None:
        """The pool once the documents planned so far have work for every worker (the rest
        only adds to it): they start on it while the rest is planned. Before that, the
        workers' server once those documents scaled to the whole folder's bytes
        (``folder_per_planned``) will: what the workers need loads (~0.7 s) on another core
        while this one plans, and a wrong guess costs only that."""
        cap = self.env.worker_count()
        if cap == 1:
            return
        if self.env.workers_for_estimate(self.segments_planned, self.seconds_planned) == cap:
            pool = self.stack.enter_context(started_pool(self.env, cap))
            self.pool = PooledSegments(
                pool, in_flight=cap * IN_FLIGHT_PER_WORKER, waiting=self.waiting
            )
        elif not self.server_started:
            projected = self.env.workers_for_estimate(
                round(self.segments_planned * folder_per_planned),
                self.seconds_planned * folder_per_planned,
            )
            if projected == cap:
                start_workers_server()
                self.server_started = True

    def _outcomes(self, finished: Iterator[SegmentOutcome]) -> Iterator[DocumentOutcome]:
        for task, outcome in finished:
            document_id = task.document.document_id
            if isinstance(outcome, Exception):
                self.failures[document_id][task.segment.index] = outcome
            else:
                self.results[document_id].append(outcome)
            self.segments_finished += 1
            if self.progress:
                self.progress(self.segments_finished, self.segments_planned)
            candidate, document = self.planned[document_id]
            results, failures = self.results[document_id], self.failures[document_id]
            if len(results) + len(failures) == len(document.tasks):
                yield _finished(self.env, candidate, document, results, failures)


def _finished(
    env: LocalEnvironment,
    candidate: Candidate,
    document: PlannedDocument,
    results: list[SegmentResult],
    failures: dict[int, BaseException],
) -> DocumentOutcome:
    if failures:
        error = SegmentFailures(failures)
        record_failure(env, document, error)
        return _failed(candidate, error)
    try:
        report = finish_document(env, document, results)
    except DocprocError as exc:
        return _failed(candidate, exc)
    return _outcome(candidate, report)


def _failed(candidate: Candidate, exc: DocprocError) -> DocumentOutcome:
    base = {"path": str(candidate.path), "document_id": candidate.document_id}
    if isinstance(exc, SegmentFailures):
        refused = all(isinstance(error, InvalidDocument) for error in exc.failures.values())
        return DocumentOutcome(
            **base, status="rejected" if refused else "failed", error=_describe(exc)
        )
    if isinstance(exc, InvalidDocument):
        return DocumentOutcome(**base, status="rejected", error=_describe(exc))
    return DocumentOutcome(**base, status="failed", error=_describe(exc))


def _outcome(candidate: Candidate, report: IngestReport) -> DocumentOutcome:
    return DocumentOutcome(
        path=str(candidate.path),
        document_id=candidate.document_id,
        status="superseded" if report.status == "superseded" else "complete",
        skipped=report.segments_processed == 0,
        segments_total=report.segments_total,
        chunks_total=report.chunks_total,
        pages=report.pages,
        pages_ocr=report.pages_ocr,
        bytes=report.bytes,
        seconds=report.seconds,
        duration_ms=report.duration_ms,
    )


def _describe(exc: DocprocError) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
