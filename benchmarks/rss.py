"""What a run holds: sampled peaks of resident memory, split as the kernel splits it, and the
disk a folder takes.

VmHWM (a process's peak RSS) counts the file pages the kernel maps for it, such as a
memory-mapped vector store's segments, which the kernel drops under pressure; RssAnon is what
the process holds itself. Linux keeps no peak of the latter, so it is sampled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path


def _status(pid: int | str) -> dict[str, float]:
    """RssAnon, VmRSS and VmHWM of a process in MB (empty once it has exited)."""
    fields: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("RssAnon", "VmRSS", "VmHWM"):
                    fields[name] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return fields


def descendants(pid: int | str, ignore: str = "") -> list[str]:
    """Every process below ``pid``, whichever of its threads started it: the runner's
    workers, and anything they start; not ``ignore`` (a sampler's own process)."""
    found: list[str] = []
    parents = [str(pid)]
    while parents:
        parent = parents.pop()
        for threads_children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = threads_children.read_text().split()
            except OSError:
                continue  # the thread or the process is gone
            children = [child for child in children if child != ignore]
            found.extend(children)
            parents.extend(children)
    return found


class MemoryPeaks:
    """Peaks of a process's anonymous and total RSS, and of its descendants' anonymous RSS
    and total RSS (their VmHWM: the runner's workers are children of its fork server, which
    it does not wait for, so the rusage a parent reads does not have them), sampled every
    ``interval`` seconds from a thread until ``stop()``. For the process itself, see
    OwnMemoryPeaks."""

    def __init__(self, pid: int | str, interval: float = 0.02, ignore: str = "") -> None:
        self.anon = self.rss = self.children_anon = self.children_rss = 0.0
        self._pid = pid
        self._interval = interval
        self._ignore = ignore
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            fields = _status(self._pid)
            self.anon = max(self.anon, fields.get("RssAnon", 0.0))
            self.rss = max(self.rss, fields.get("VmRSS", 0.0))
            for child in descendants(self._pid, self._ignore):
                child_fields = _status(child)
                self.children_anon = max(self.children_anon, child_fields.get("RssAnon", 0.0))
                self.children_rss = max(self.children_rss, child_fields.get("VmHWM", 0.0))
            if self._done.wait(self._interval):
                return

    def stop(self) -> MemoryPeaks:
        self._done.set()
        self._thread.join()
        return self


class OwnMemoryPeaks:
    """MemoryPeaks of this process, sampled by a process of its own until ``stop()``: a
    thread of the process it measures stops while native code holds the GIL, as Qdrant Edge's
    seal does for over a second at a writer's peak (writing the 1 GB text's chunks: 276 MB
    seen from a thread in the benchmark run at 20185f0, 327 MB from outside on the same code)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.anon = self.rss = self.children_anon = self.children_rss = 0.0
        self._sampler = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.rss", str(os.getpid()), str(interval)],
            cwd=Path(__file__).resolve().parents[1],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._sampler.stdout is not None
        self._sampler.stdout.readline()  # sampling: what follows is measured

    def stop(self) -> OwnMemoryPeaks:
        out, _ = self._sampler.communicate("")  # its input closed: it reports and exits
        self.__dict__.update(json.loads(out))
        return self


def disk_mb(folder: Path) -> float:
    """The disk a folder's files take, as du counts it: allocated blocks (the vector store
    preallocates sparse files whose apparent size is far larger), each hard link once (the
    laptop's store links an upload's versions)."""
    blocks = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            blocks[(stat.st_dev, stat.st_ino)] = stat.st_blocks
    return sum(blocks.values()) * 512 / 2**20


if __name__ == "__main__":
    # OwnMemoryPeaks' sampler: samples the process named until its input closes, then reports.
    measured = MemoryPeaks(sys.argv[1], float(sys.argv[2]), ignore=str(os.getpid()))
    print("sampling", flush=True)
    sys.stdin.read()
    measured.stop()
    fields = ("anon", "rss", "children_anon", "children_rss")
    print(json.dumps({field: getattr(measured, field) for field in fields}))
