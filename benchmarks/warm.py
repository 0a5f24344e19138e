"""Per-document time of docproc and of the naive pipeline in one warm process each, the way a
long-lived worker (a warm Lambda container) sees small files: no interpreter start-up, no
imports, clients already open.

    python -m benchmarks.warm ours|naive FILE REPEATS WORKDIR
    python -m benchmarks.warm stages-ours|stages-naive FILE REPEATS WORKDIR

``stages-*``: the same, with benchmarks.profile's clock around each stage's entry points (the
naive pipeline's page reading counted as extraction), for where a document's milliseconds go:
seconds per document by stage, and the rest of ``ingest`` (the clock's own cost, ~1 µs a call,
falls in the stages it wraps).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# What the stage table calls the time outside every stage.
REST = "the rest of ingest"


def main(which: str, path: Path, repeats: int, work: Path) -> dict[str, float]:
    if which.startswith("stages-"):
        return _stages(which.removeprefix("stages-"), path, repeats, work)
    ingest, close = _pipeline(which, path, work)
    ingest("warmup")
    times = []
    for attempt in range(repeats):
        started = time.perf_counter()
        # A new document each time: docproc would skip a repeated one as already ingested.
        ingest(f"doc-{attempt}")
        times.append(time.perf_counter() - started)
    close()
    return {"median_seconds": statistics.median(times), "min_seconds": min(times)}


def _stages(which: str, path: Path, repeats: int, work: Path) -> dict[str, float]:
    from benchmarks.naive import NaivePipeline
    from benchmarks.profile import CLOCK, EXTRACT, instrument, timed

    instrument()
    NaivePipeline.pages = staticmethod(timed(EXTRACT, NaivePipeline.pages))  # type: ignore[method-assign]
    ingest, close = _pipeline(which, path, work)
    ingest("warmup")
    CLOCK.seconds.clear()
    started = time.perf_counter()
    for attempt in range(repeats):
        ingest(f"doc-{attempt}")
    total = time.perf_counter() - started
    stages = {stage: seconds / repeats for stage, seconds in CLOCK.seconds.items()}
    close()  # (after the stages are read: closing the store is not a document's work)
    stages[REST] = total / repeats - sum(stages.values())
    return stages


def _pipeline(
    which: str, path: Path, work: Path
) -> tuple[Callable[[str], object], Callable[[], None]]:
    """Ingest ``path`` as a given document id, and close: the naive pipeline (which has no
    ids) or docproc's runner, each on a store of its own under ``work``."""
    if which == "naive":
        from benchmarks.naive import NaivePipeline

        pipeline = NaivePipeline(str(work / "naive-qdrant"))
        return lambda document_id: pipeline.ingest(str(path)), pipeline.close
    from docproc.config import LocalSettings
    from docproc.local.cli import configure_logging
    from docproc.local.runner import LocalEnvironment, ingest

    configure_logging()  # as `docproc ingest` runs, with the harness's DOCPROC_LOG_LEVEL
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=work / "ours-home"))
    return lambda document_id: ingest(env, path, document_id=document_id), env.close


if __name__ == "__main__":
    which, file, repeats, work = sys.argv[1:5]
    print(json.dumps(main(which, Path(file), int(repeats), Path(work))))
