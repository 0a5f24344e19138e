"""Runs one pipeline stage in this process and reports its peak RSS: the benchmark's probe.

    python -m benchmarks.stage plan FILE        # upload + plan, saves the plan under DOCPROC_HOME
    python -m benchmarks.stage segment INDEX    # one segment of that plan
    python -m benchmarks.stage finalize

Each stage runs in its own process, as it does in Lambda, so its peak RSS is its own; the
peak of its anonymous RSS (without the file pages it maps) is sampled beside it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from benchmarks.rss import OwnMemoryPeaks
from docproc.config import LocalSettings, load_settings
from docproc.local.runner import LocalEnvironment, default_document_id
from docproc.models import DocumentKey, PlanResult, SegmentTask
from docproc.observability import peak_rss_mb
from docproc.pipeline.finalize import finalize_document
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from docproc.vectors.port import VectorSink


def _serve_vectors(settings: LocalSettings, connection: Connection) -> None:
    """The laptop runner's arrangement for its Edge shard: another process owns it."""
    from docproc.local.vectors_server import VectorStoreServer

    env = LocalEnvironment(settings)
    server = VectorStoreServer(env.vectors, env.vectors_lock)
    connection.send((server.address, server.authkey))
    connection.recv()  # until the segment is done
    env.close()


def _segment_worker_sink(env: LocalEnvironment) -> tuple[VectorSink, BaseProcess]:
    from docproc.local.vectors_server import RemoteVectorStore

    parent, child = get_context("spawn").Pipe()
    process = get_context("spawn").Process(target=_serve_vectors, args=(env.settings, child))
    process.start()
    address, authkey = parent.recv()
    sink = RemoteVectorStore(address, authkey)
    sink.stop = lambda: (parent.send("stop"), process.join())  # type: ignore[attr-defined]
    return sink, process


def upload_and_plan(env: LocalEnvironment, path: Path, store: Any = None) -> PlanResult:
    """``path`` uploaded to the laptop's store as tenant "bench" and planned (through
    ``store``, a wrapper of the laptop's, when given)."""
    key = DocumentKey(
        tenant_id="bench",
        case_id="bench",
        document_id=default_document_id(path),
        filename=path.name,
    ).object_key()
    upload = env.store.put_upload(key, path)
    return plan_document(key, upload.version_id, store or env.store, env.ledger, env.plan_options())


def main(argv: list[str]) -> dict[str, object]:
    memory = OwnMemoryPeaks()
    env = LocalEnvironment(load_settings(LocalSettings))
    saved = env.home / "bench-plan.json"
    started = time.perf_counter()
    stage = argv[0]
    out: dict[str, object] = {"stage": stage}
    if stage == "plan":
        plan = upload_and_plan(env, Path(argv[1]))
        saved.write_text(plan.model_dump_json())
        out["segments"] = plan.segments_total
    elif stage == "segment":
        plan = PlanResult.model_validate_json(saved.read_text())
        if plan.first_task is not None:
            task = plan.first_task
        else:
            assert plan.manifest is not None
            items = json.loads(env.store.get_bytes(plan.manifest.key))
            task = SegmentTask.model_validate(items[int(argv[1])])
        # Measured as a laptop worker runs: the Edge shard in another process (the runner's
        # parent), or a Qdrant server.
        if not env.settings.qdrant_url:
            sink, _server = _segment_worker_sink(env)
            result = process_segment(task, env.segment_deps(sink, served=True))
            sink.stop()  # type: ignore[attr-defined]
        else:
            result = process_segment(task, env.segment_deps(env.vectors))
        out.update(chunks=result.chunks, size=task.segment.size_hint, kind=task.segment.kind)
    elif stage == "finalize":
        plan = PlanResult.model_validate_json(saved.read_text())
        finalize_document(plan, env.store, env.ledger, env.vectors, env.pricing)
    else:
        raise SystemExit(f"unknown stage {stage}")
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["peak_rss_mb"] = peak_rss_mb()
    out["anon_peak_mb"] = memory.stop().anon
    if stage != "segment":
        env.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))


class CountingStore:
    """An object store that counts what a segment's reads fetch: ranges, and whole copies (a
    sub-PDF is fetched whole: S3 GetObject in Lambda)."""

    # Planned as for S3, where a segment fetches its own sub-PDF, not the upload.
    reads_in_place = False

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.fetched = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        data: bytes = self._inner.read_range(key, start, end, version_id)
        self.fetched += len(data)
        return data

    @contextmanager
    def local_copy(self, key: str, version_id: str | None = None) -> Iterator[Path]:
        with self._inner.local_copy(key, version_id) as path:
            self.fetched += path.stat().st_size
            yield path


def counting_store(inner: Any) -> CountingStore:
    return CountingStore(inner)
