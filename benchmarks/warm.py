"""Per-document time of docproc and of the naive pipeline in one warm process each, the way a
long-lived worker (a warm Lambda container) sees small files: no interpreter start-up, no
imports, clients already open.

    python -m benchmarks.warm ours|naive FILE REPEATS WORKDIR
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path


def main(which: str, path: Path, repeats: int, work: Path) -> dict[str, float]:
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


if __name__ == "__main__":
    which, file, repeats, work = sys.argv[1:5]
    print(json.dumps(main(which, Path(file), int(repeats), Path(work))))
