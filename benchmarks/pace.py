"""The machine's pace: how long a fixed piece of CPU work takes now, recorded before and after
each section so that its absolute figures can be read against the machine they ran on.

These machines are shared virtual machines whose cores' speed moves with the host's load, with
no steal time to show for it: `docproc ingest` of a one-page PDF from cold, 0.5 s in one
session, took 1.2 to 1.8 s in another, the machine otherwise idle. Ratios measured in one run
cancel that; absolute times (pages/s, seconds) do not, and the sections of BENCHMARKS.md are
measured at different times.

The work is what the pipeline's CPU goes to, in kind: Python bytecode (building and looking up
strings in a dict) and native code over bytes (zlib). Each run does the same work; the fastest
of a few runs is the figure (a pause on the host only ever adds time).
"""

from __future__ import annotations

import functools
import random
import time
import zlib

_RUNS = 3
_WORDS = 200_000


@functools.cache
def _text() -> bytes:
    """Seeded pseudo-random text: compresses about as text does, the same bytes in every run.
    Made at the first probe, not at import (0.1 s)."""
    rng = random.Random(11)
    return " ".join(
        f"{rng.getrandbits(32):08x}" if index % 7 == 0 else "clause" for index in range(400_000)
    ).encode()


def _work(text: bytes) -> int:
    counts: dict[str, int] = {}
    for index in range(_WORDS):
        word = f"w{index % 5_000}"
        counts[word] = counts.get(word, 0) + 1
    return len(counts) + sum(len(zlib.compress(text, 6)) for _ in range(4))


def pace_seconds() -> float:
    """Seconds the fixed work takes now: the fastest of a few runs."""
    text = _text()
    fastest = float("inf")
    for _ in range(_RUNS):
        started = time.perf_counter()
        _work(text)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest
