"""glibc's allocator, asked to keep a process's memory small. Only the standard library is
imported: the command's entry point calls it before it imports the pipeline."""

from __future__ import annotations

import contextlib
import ctypes

# glibc's mallopt parameter: how many malloc arenas the process may have.
_M_ARENA_MAX = -8


def _glibc(function: str, *arguments: int) -> None:
    """Call one of glibc's allocator functions; with another C library, nothing happens."""
    with contextlib.suppress(OSError, AttributeError):
        getattr(ctypes.CDLL("libc.so.6"), function)(*arguments)


def release_freed_memory() -> None:
    """Hand back to the system what the allocator keeps of memory the process freed."""
    _glibc("malloc_trim", 0)


def share_one_malloc_arena() -> None:
    """Make every thread of this process allocate from glibc's one main arena, from now on.

    The process that holds a Qdrant Edge shard writes to it from several threads (the runner
    serves its workers a thread each) and Qdrant Edge runs threads of its own; glibc gives each
    thread an arena of its own (up to 8 a core), and each arena keeps its own free and part-used
    pages. Ingesting the benchmark's 1 GB text on two workers, the runner's own memory peaked
    at 290 MB, and at 251 MB with one arena (190 and 194 s); on 200 MB, 3 pairs of runs took
    0.94x the time (0.92-1.01). Python threads take turns anyway (the GIL).

    An arena outlives its thread and is handed to the next thread started: so this must come
    before a process's first thread (docproc.local.__main__), not only when it opens a shard;
    in Lambda, the first are those of batches in flight (docproc.pipeline.in_flight).
    """
    _glibc("mallopt", _M_ARENA_MAX, 1)
