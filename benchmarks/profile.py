"""Where `docproc ingest` spends its time, by stage: the benchmark's profile probe.

    python -m benchmarks.profile FILE     # DOCPROC_HOME and DOCPROC_WORKERS=1 from the caller

Runs `docproc ingest FILE` in this process (one worker: the segments run here, in order) with
a clock around each stage's entry points, and prints the seconds spent in each stage alone
(exclusive of the stages it calls: chunking that pulls pages from the extractor is charged
for the chunking, the extractor for the extraction), plus the imports and, as "pipeline", the
rest of the command (manifests, JSONL outputs, ids, reports). Entry points are found by name
and skipped where a version of docproc has none, so the same probe profiles an older commit
(PYTHONPATH at its layer) for a before/after table.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import contextlib  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

EXTRACT = "extract (text of each page or range)"
# stage -> (module, names in it: functions, or Class.method, or Class.* for every public
# method of the class)
STAGES: dict[str, list[tuple[str, str]]] = {
    "plan (reading the document's structure)": [
        ("docproc.pipeline.plan", "plan_document"),
        ("docproc.extract.pdf", "count_pages"),
    ],
    "split (sub-PDFs)": [("docproc.extract.pdf", "split")],
    EXTRACT: [
        ("docproc.extract.pdf", "extract_pages"),
        ("docproc.extract.text", "read_slice"),
    ],
    "chunk (finding the cuts)": [
        ("docproc.chunking.chunker", f"Chunker.{method}")
        for method in ("chunk_pages", "chunk_text", "chunk_records", "chunk_speech")
    ],
    # Once a process: the tokenizer's vocabulary read and its encoder built, on the first chunker.
    "tokenizer (loading its tables)": [("docproc.chunking.tokens", "_vocabulary")],
    "token count (each chunk's exact size)": [
        ("docproc.chunking.packer", "TokenPacker.count"),
        ("docproc.chunking.chunker", "Chunker.count_tokens"),
        ("docproc.chunking.tokens", "token_counter"),
    ],
    "embed (dense vectors)": [("docproc.embedding.hashing", "HashingEmbedder.embed")],
    "embed (BM25 vectors)": [("docproc.embedding.sparse", "Bm25Encoder.encode_documents")],
    "vector store": [("docproc.vectors.edge", "EdgeVectorStore.*")],
    "ledger": [("docproc.ledger.sqlite", "SQLiteLedger.*")],
    "object store (files)": [("docproc.storage.local", "LocalObjectStore.*")],
    "segment (its own steps: chunk records, ids, the chunk file's lines)": [
        ("docproc.pipeline.process_segment", "process_segment")
    ],
    "finalize (publishing the version, the summary)": [
        ("docproc.pipeline.finalize", "finalize_document")
    ],
    "events (the notifier)": [("docproc.notify.local", "JsonlNotifier.*")],
}


class Clock:
    """Exclusive time per stage: a stage's own time, less that of the stages it calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list[Any]] = []  # [stage, started, time in called stages]

    def enter(self, stage: str) -> None:
        self._stack.append([stage, time.perf_counter(), 0.0])

    def leave(self) -> None:
        stage, started, inner = self._stack.pop()
        elapsed = time.perf_counter() - started
        self.seconds[stage] += elapsed - inner
        if self._stack:
            self._stack[-1][2] += elapsed


CLOCK = Clock()


def timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    made = getattr(function, "__wrapped__", None)
    code = getattr(function, "__code__", None)  # (a functools.cache has none)
    if made is not None and code is not None and code.co_filename == contextlib.__file__:
        # A @contextmanager (an object store's writer): its work is on entering and leaving
        # the block, not in the call that makes it; the block itself is the caller's.
        return contextlib.contextmanager(timed(stage, made))
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            inner = function(*args, **kwargs)
            while True:
                CLOCK.enter(stage)
                try:
                    item = next(inner)
                except StopIteration:
                    return
                finally:
                    CLOCK.leave()
                yield item

        return generator

    if stage.startswith("token count") and function.__name__ == "token_counter":
        # The older chunker keeps the counter token_counter returns: time what it returns.
        @functools.wraps(function)
        def factory(*args: Any, **kwargs: Any) -> Any:
            return timed(stage, function(*args, **kwargs))

        return factory

    @functools.wraps(function)
    def clocked(*args: Any, **kwargs: Any) -> Any:
        CLOCK.enter(stage)
        try:
            return function(*args, **kwargs)
        finally:
            CLOCK.leave()

    return clocked


def _replace_everywhere(original: Any, replacement: Any) -> None:
    """Rebind a module-level function in every module that imported it by name."""
    for module in list(sys.modules.values()):
        if isinstance(module, ModuleType) and module.__name__.startswith("docproc"):
            for name, value in list(vars(module).items()):
                if value is original:
                    setattr(module, name, replacement)


def instrument() -> list[str]:
    """Wrap every stage's entry points that exist; the ones found, as "module:name"."""
    import importlib

    found = []
    for stage, points in STAGES.items():
        for module_name, name in points:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            owner_name, _, method = name.partition(".")
            owner = getattr(module, owner_name, None)
            if owner is None:
                continue
            if not method:
                _replace_everywhere(owner, timed(stage, owner))
            else:
                methods = (
                    [m for m, v in vars(owner).items() if callable(v) and not m.startswith("_")]
                    if method == "*"
                    else [method]
                )
                for each in methods:
                    if each not in vars(owner) or isinstance(
                        vars(owner)[each], staticmethod | classmethod | property
                    ):
                        continue  # not a plain method in this version
                    setattr(owner, each, timed(stage, getattr(owner, each)))
            found.append(f"{module_name}:{name}")
    return found


def main(path: str) -> dict[str, Any]:
    import docproc.local.cli as cli
    import docproc.local.runner
    import docproc.pipeline.finalize
    import docproc.pipeline.process_segment  # noqa: F401

    imported = time.perf_counter()
    found = instrument()
    began = time.perf_counter()
    code = cli.main(["ingest", path, "--json"])
    ended = time.perf_counter()
    if code != 0:
        raise SystemExit(code)
    stages = dict(CLOCK.seconds)
    total = ended - began
    stages["pipeline (the rest of the command)"] = total - sum(stages.values())
    stages["imports"] = imported - STARTED
    return {"stages": stages, "in_process_seconds": ended - STARTED, "entry_points": found}


if __name__ == "__main__":
    sys.stdout.flush()
    report = main(sys.argv[1])
    print(json.dumps(report))
