"""Many documents in one command: ``docproc ingest PATH [PATH ...]`` over files and folders.

Each document is planned and finalized as a single file is (so a re-run skips what is
complete and resumes what is not), and the segments of all of them share one pool of workers;
one that fails or is refused is reported and the others go on. Document ids come from the path
relative to the folder given, so the same folder ingested again maps to the same documents.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from docproc.errors import DocprocError, InvalidDocument, UnsupportedDocument
from docproc.extract.sniff import SNIFF_BYTES, sniff
from docproc.local.runner import (
    IngestReport,
    LocalEnvironment,
    PlannedDocument,
    ProgressCallback,
    SegmentFailures,
    default_document_id,
    estimated_seconds,
    execute_segments,
    finish_document,
    plan_upload,
    record_failure,
    started_pool,
)
from docproc.models import SegmentResult, SegmentTask, validate_id

# What a folder's sub-path becomes in a document id ("/" is not allowed in ids).
PATH_SEPARATOR = "--"

Outcome = Literal["complete", "superseded", "rejected", "failed"]


@dataclass(frozen=True)
class Candidate:
    path: Path
    document_id: str


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
            selection.documents.append(Candidate(path, default_document_id(path)))
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
        try:
            sniff(head, path.name)
        except UnsupportedDocument as exc:
            selection.unsupported.append((relative, str(exc)))
            continue
        except InvalidDocument:
            pass  # an empty file: ingested and refused like any other bad document
        selection.documents.append(Candidate(path, folder_document_id(relative)))


def ingest_all(
    env: LocalEnvironment,
    documents: Sequence[Candidate],
    tenant_id: str,
    case_id: str,
    progress: ProgressCallback | None = None,
) -> Iterator[DocumentOutcome]:
    """Every document planned first (copied in; one already complete, or refused, is reported
    at once), then the segments of all of them on one pool of workers, started once (while
    the last documents are planned), taken in turn from each document so that a long one does
    not hold up the others; each document is finalized as soon as its last segment is done. A
    failure is an outcome, not the end of the run. ``progress`` gets (segments finished,
    segments to run)."""
    env.serve_vectors()  # before any document is recorded (see LocalEnvironment.vectors)
    with ExitStack() as stack:
        yield from _ingest_all(env, documents, tenant_id, case_id, progress, stack)


def _ingest_all(
    env: LocalEnvironment,
    documents: Sequence[Candidate],
    tenant_id: str,
    case_id: str,
    progress: ProgressCallback | None,
    stack: ExitStack,
) -> Iterator[DocumentOutcome]:
    planned: dict[str, tuple[Candidate, PlannedDocument]] = {}
    # The work planned so far, added up as it grows: adding all of it up again for each
    # document took 1.2 s at 3,000 documents.
    planned_segments, planned_seconds = 0, 0.0
    pool = None
    for candidate in documents:
        try:
            result = plan_upload(env, candidate.path, tenant_id, case_id, candidate.document_id)
        except DocprocError as exc:
            yield _failed(candidate, exc)
            continue
        if isinstance(result, IngestReport):
            yield _outcome(candidate, result)
            continue
        planned[result.ids.document_id] = (candidate, result)
        planned_segments += len(result.tasks)
        for task in result.tasks:
            planned_seconds += estimated_seconds(task)
        cap = env.worker_count()
        if (
            pool is None
            and cap > 1
            and env.workers_for_estimate(planned_segments, planned_seconds) == cap
        ):
            # Work enough for every worker already, and the rest only adds to it: what the
            # workers need loads (~0.7 s) while the rest is planned.
            pool = stack.enter_context(started_pool(env, cap))
    tasks = _interleaved([document.tasks for _, document in planned.values()])
    results: dict[str, list[SegmentResult]] = {document_id: [] for document_id in planned}
    failures: dict[str, dict[int, BaseException]] = {document_id: {} for document_id in planned}
    for finished, (task, outcome) in enumerate(execute_segments(env, tasks, pool), start=1):
        document_id = task.document.document_id
        if isinstance(outcome, Exception):
            failures[document_id][task.segment.index] = outcome
        else:
            results[document_id].append(outcome)
        if progress:
            progress(finished, len(tasks))
        candidate, document = planned[document_id]
        if len(results[document_id]) + len(failures[document_id]) == len(document.tasks):
            yield _finished(env, candidate, document, results[document_id], failures[document_id])


def _interleaved(queues: list[list[SegmentTask]]) -> list[SegmentTask]:
    """One task from each document in turn: first segments of every document first."""
    return [task for row in itertools.zip_longest(*queues) for task in row if task is not None]


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
