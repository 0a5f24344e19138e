"""The benchmarks' memory sampler for the process that runs them (benchmarks/rss.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HELD_MB = 64

# A process with no children of its own, as a benchmark stage is, that samples itself.
_HOLD_AND_SAMPLE = f"""
import json, time
from benchmarks.rss import OwnMemoryPeaks, _status
before = _status("self")["RssAnon"]
memory = OwnMemoryPeaks(interval=0.005)
held = bytearray({HELD_MB} * 2**20)
held[::4096] = b"\\x01" * len(held[::4096])  # every page touched: resident
time.sleep(0.3)
del held
peaks = memory.stop()
print(json.dumps(dict(before=before, anon=peaks.anon, children_anon=peaks.children_anon,
                      children_rss=peaks.children_rss)))
"""


def test_own_memory_peaks_sees_what_its_process_held_and_not_the_sampler() -> None:
    # Given a process that samples itself
    # When it holds 64 MB more for a moment, then lets it go
    out = subprocess.run(
        [sys.executable, "-c", _HOLD_AND_SAMPLE],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    peaks = json.loads(out)
    # Then the peak has those 64 MB, and the sampler's own process is not counted as a child
    assert peaks["anon"] >= peaks["before"] + HELD_MB * 0.9
    assert peaks["children_anon"] == 0
    assert peaks["children_rss"] == 0
