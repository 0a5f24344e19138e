"""Fail (an exception) or kill (SIGKILL) the laptop runner at every step boundary, re-run, and
compare everything with a clean run: points (ids and payload hashes), chunk files, ledger.

The faults are test doubles around the real ports (no hooks in production code); the kill
runs in a child process that SIGKILLs itself at the chosen point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generators import text_pdf
from tests.conftest import REPORT_TABLES
from tests.local_points import point_digests

# Point -> (port attribute, method, when, which matching call): per-segment points fire on
# the 2nd segment, so the run is part-way (one segment done, one in flight).
POINTS: dict[str, tuple[str, str, str, int]] = {
    "after the manifest write": ("store", "put_bytes", "after:manifest.json", 1),
    # A segment opens its pages of the upload (the 1st opening is Plan's).
    "inside extraction": ("store", "local_copy", "before:uploads/", 3),
    # (the chunk file is written through a context manager: "after" is after it is stored)
    "after the chunk file write": ("store", "writer", "after:.chunks.jsonl", 2),
    "mid-embedding": ("embedder", "embed", "before:", 2),
    "mid-upsert": ("vectors", "upsert", "half:", 2),
    "before the ledger write": ("ledger", "mark_segment_done", "before:", 2),
    "after the ledger write": ("ledger", "mark_segment_done", "after:", 2),
    "inside finalize": ("vectors", "publish_version", "before:", 1),
}

DRIVER = r"""
import json, os, signal, sys
from pathlib import Path
from tests.integration.test_fault_injection import install_fault
from docproc.config import LocalSettings
from docproc.local.runner import LocalEnvironment, ingest

home, pdf, point, mode = sys.argv[1:5]
env = LocalEnvironment(LocalSettings(DOCPROC_HOME=Path(home), DOCPROC_WORKERS=1, SEGMENT_PAGES=2))
def fire():
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError(f"injected fault: {point}")
install_fault(env, point, fire)
try:
    ingest(env, Path(pdf), document_id="doc")
finally:
    env.close()
"""


class _Faulty:
    """Wraps one port; ``fire`` runs around the chosen method's n-th matching call."""

    def __init__(
        self, inner: Any, method: str, when: str, nth: int, fire: Callable[[], None]
    ) -> None:
        self._inner, self._method, self._fire, self._nth = inner, method, fire, nth
        self._stage, _, self._match = when.partition(":")
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name != self._method:
            return target

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            text = " ".join(str(a) for a in args)
            if self._match not in text:
                return target(*args, **kwargs)
            self._calls += 1
            if self._calls != self._nth:
                return target(*args, **kwargs)
            if self._stage == "before":
                self._fire()
            if self._stage == "half":
                points = args[0]
                target(points[: len(points) // 2])
                self._fire()
            result = target(*args, **kwargs)
            if isinstance(result, AbstractContextManager):
                return _fired_on_exit(result, self._fire)
            self._fire()
            return result

        return wrapped


@contextmanager
def _fired_on_exit(inner: AbstractContextManager[Any], fire: Callable[[], None]) -> Iterator[Any]:
    with inner as value:
        yield value
    fire()


def install_fault(env: Any, point: str, fire: Callable[[], None]) -> None:
    port, method, when, nth = POINTS[point]
    # LocalEnvironment builds its adapters lazily (cached properties): plant the double.
    env.__dict__[port] = _Faulty(getattr(env, port), method, when, nth, fire)


def _run(home: Path, pdf: Path, point: str, mode: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPROC_")}
    return subprocess.run(
        [sys.executable, "-c", DRIVER, str(home), str(pdf), point, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _rerun(home: Path, pdf: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPROC_")}
    env.update(DOCPROC_HOME=str(home), DOCPROC_WORKERS="1", SEGMENT_PAGES="2")
    subprocess.run(
        [sys.executable, "-m", "docproc.local", "ingest", str(pdf), "--document-id", "doc"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def _state(home: Path) -> dict[str, Any]:
    point_set = point_digests(home)
    objects = home / "objects" / "work"
    chunk_files = {
        str(path.relative_to(objects)): path.read_bytes()
        for path in sorted(objects.rglob("*.chunks.jsonl"))
    }
    import sqlite3

    with sqlite3.connect(home / "ledger.sqlite3") as db:
        segments = sorted(
            (index, status, json.loads(body)["chunks"], json.loads(body)["tokens"])
            for index, status, body in db.execute("SELECT idx, status, body FROM segments")
        )
        (document,) = [json.loads(row[0]) for row in db.execute("SELECT body FROM documents")]
    ledger = {
        "segments": segments,
        "document": {
            k: document[k]
            for k in ("status", "version", "completed_version", "segments_total", "chunks_total")
        },
    }
    return {"points": point_set, "chunk_files": chunk_files, "ledger": ledger}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("faults")
    pdf = text_pdf(folder / "doc.pdf", pages=6, seed=4)
    home = folder / "clean"
    _rerun(home, pdf)
    return pdf, _state(home)


@pytest.mark.parametrize("mode", ["exception", "kill"])
@pytest.mark.parametrize("point", list(POINTS))
def test_fault_then_rerun_equals_a_clean_run(
    point: str, mode: str, clean: tuple[Path, dict[str, Any]], tmp_path: Path
):
    pdf, expected = clean
    home = tmp_path / "home"
    faulted = _run(home, pdf, point, mode)
    # The fault itself ended the run: the kill, or the injected exception with its point (an
    # import error in the driver, or any other failure, would not carry it)
    if mode == "kill":
        assert faulted.returncode == -signal.SIGKILL, faulted.stderr[-2000:]
    else:
        assert faulted.returncode == 1
        assert f"RuntimeError: injected fault: {point}" in faulted.stderr, faulted.stderr[-2000:]
    _rerun(home, pdf)
    state = _state(home)
    outcome = "equal to a clean run" if state == expected else "DIFFERENT"
    REPORT_TABLES.setdefault("fault injection: point x mode -> outcome", []).append(
        (f"{point} ({mode})", outcome)
    )
    assert state["points"] == expected["points"]
    assert state["chunk_files"] == expected["chunk_files"]
    assert state["ledger"] == expected["ledger"]
