"""Runs one pipeline stage in this process and reports its peak RSS: the benchmark's probe.

    python -m benchmarks.stage plan FILE        # upload + plan, saves the plan under DOCPROC_HOME
    python -m benchmarks.stage segment INDEX    # one segment of that plan
    python -m benchmarks.stage finalize

Each stage runs in its own process, as it does in Lambda, so its peak RSS is its own.
"""

from __future__ import annotations

import json
import sys
import time
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

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
    server = VectorStoreServer(env.vectors)
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


def main(argv: list[str]) -> dict[str, object]:
    env = LocalEnvironment(load_settings(LocalSettings))
    saved = env.home / "bench-plan.json"
    started = time.perf_counter()
    stage = argv[0]
    out: dict[str, object] = {"stage": stage}
    if stage == "plan":
        path = Path(argv[1])
        key = DocumentKey(
            tenant_id="bench",
            case_id="bench",
            document_id=default_document_id(path),
            filename=path.name,
        ).object_key()
        upload = env.store.put_upload(key, path)
        plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
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
            result = process_segment(task, env.segment_deps(sink))
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
    if stage != "segment":
        env.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
