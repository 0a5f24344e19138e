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
from pathlib import Path


def main(which: str, path: Path, repeats: int, work: Path) -> dict[str, float]:
    if which.startswith("stages-"):
        return _stages(which.removeprefix("stages-"), path, repeats, work)
    times = []
    if which == "naive":
        from benchmarks.naive import NaivePipeline

        pipeline = NaivePipeline(str(work / "naive-qdrant"))
        pipeline.ingest(str(path))  # warm-up
        for _ in range(repeats):
            started = time.perf_counter()
            pipeline.ingest(str(path))
            times.append(time.perf_counter() - started)
        pipeline.close()
    else:
        from docproc.config import LocalSettings
        from docproc.local.cli import configure_logging
        from docproc.local.runner import LocalEnvironment, ingest

        configure_logging()  # as `docproc ingest` runs, with the harness's DOCPROC_LOG_LEVEL
        env = LocalEnvironment(LocalSettings(DOCPROC_HOME=work / "ours-home"))
        ingest(env, path, document_id="warmup")
        for attempt in range(repeats):
            started = time.perf_counter()
            # A new document each time: a repeated one would be skipped as already ingested.
            ingest(env, path, document_id=f"doc-{attempt}")
            times.append(time.perf_counter() - started)
        env.close()
    return {"median_seconds": statistics.median(times), "min_seconds": min(times)}


def _stages(which: str, path: Path, repeats: int, work: Path) -> dict[str, float]:
    from benchmarks.profile import CLOCK, EXTRACT, instrument, timed

    instrument()
    if which == "naive":
        from benchmarks.naive import NaivePipeline

        NaivePipeline.pages = staticmethod(timed(EXTRACT, NaivePipeline.pages))  # type: ignore[method-assign]
        pipeline = NaivePipeline(str(work / "stages-naive"))

        def ingest(attempt: int) -> None:
            pipeline.ingest(str(path))

        close = pipeline.close
    else:
        from docproc.config import LocalSettings
        from docproc.local.cli import configure_logging
        from docproc.local.runner import LocalEnvironment
        from docproc.local.runner import ingest as ingest_document

        configure_logging()
        env = LocalEnvironment(LocalSettings(DOCPROC_HOME=work / "stages-ours"))

        def ingest(attempt: int) -> None:
            ingest_document(env, path, document_id=f"doc-{attempt}")

        close = env.close
    ingest(-1)  # warm-up
    CLOCK.seconds.clear()
    started = time.perf_counter()
    for attempt in range(repeats):
        ingest(attempt)
    total = time.perf_counter() - started
    stages = {stage: seconds / repeats for stage, seconds in CLOCK.seconds.items()}
    close()  # (after the stages are read: closing the store is not a document's work)
    stages[REST] = total / repeats - sum(stages.values())
    return stages


REST = "the rest of ingest"


if __name__ == "__main__":
    which, file, repeats, work = sys.argv[1:5]
    print(json.dumps(main(which, Path(file), int(repeats), Path(work))))
