"""What a run holds: sampled peaks of resident memory, split as the kernel splits it, and the
disk a folder takes.

VmHWM (a process's peak RSS) counts the file pages the kernel maps for it, such as a
memory-mapped vector store's segments, which the kernel drops under pressure; RssAnon is what
the process holds itself. Linux keeps no peak of the latter, so it is sampled.
"""

from __future__ import annotations

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


def descendants(pid: int | str) -> list[str]:
    """Every process below ``pid``, whichever of its threads started it: the runner's
    workers, and anything they start."""
    found: list[str] = []
    parents = [str(pid)]
    while parents:
        parent = parents.pop()
        for threads_children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = threads_children.read_text().split()
            except OSError:
                continue  # the thread or the process is gone
            found.extend(children)
            parents.extend(children)
    return found


class MemoryPeaks:
    """Peaks of a process's anonymous and total RSS, and of its descendants' anonymous RSS
    and total RSS (their VmHWM: the runner's workers are children of its fork server, which
    it does not wait for, so the rusage a parent reads does not have them), sampled every
    ``interval`` seconds from a thread until ``stop()``."""

    def __init__(self, pid: int | str = "self", interval: float = 0.02) -> None:
        self.anon = self.rss = self.children_anon = self.children_rss = 0.0
        self._pid = pid
        self._interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            fields = _status(self._pid)
            self.anon = max(self.anon, fields.get("RssAnon", 0.0))
            self.rss = max(self.rss, fields.get("VmRSS", 0.0))
            for child in descendants(self._pid):
                child_fields = _status(child)
                self.children_anon = max(self.children_anon, child_fields.get("RssAnon", 0.0))
                self.children_rss = max(self.children_rss, child_fields.get("VmHWM", 0.0))
            if self._done.wait(self._interval):
                return

    def stop(self) -> MemoryPeaks:
        self._done.set()
        self._thread.join()
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
