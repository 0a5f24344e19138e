"""The benchmark suite: memory per function, throughput ratios, small-file overhead, resume.

    python -m benchmarks.run --size quick            # CI-sized, prints the table
    python -m benchmarks.run --size full --write BENCHMARKS.md   # 1 GB inputs (local only)

Every time is compared with a baseline measured in the same run, on the same machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.generators import image_pdf, recording, text_file, text_pdf

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Size:
    name: str
    pdf_sizes: list[int]
    text_sizes: list[int]
    throughput_pages: int
    small_repeats: int
    resume_pages: int
    # (container suffix, minutes) of the recordings ingested by the media section
    recordings: list[tuple[str, int]] = field(default_factory=list)


SIZES = {
    "quick": Size(
        "quick", [5 * MB, 20 * MB], [4 * MB, 24 * MB], 200, 3, 200, [(".mp3", 6), (".mp4", 3)]
    ),
    "full": Size(
        "full",
        [10 * MB, 100 * MB, 1024 * MB],
        [10 * MB, 100 * MB, 1024 * MB],
        2000,
        7,
        1000,
        # 559 minutes of 16 kHz mono WAV is 1 GiB: the largest recording the service takes.
        [(".mp3", 60), (".mp4", 20), (".wav", 559)],
    ),
}


@dataclass
class Report:
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def add(self, section: str, metric: str, value: str, target: str = "", ok: bool | None = None):
        verdict = "" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append((section, metric, value, target, verdict))
        print(f"  {section:12} {metric:58} {value:>16} {target:>12} {verdict}", flush=True)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCPROC_", "QDRANT_"))}
    env.update(DOCPROC_HOME=str(home), DOCPROC_LOG_LEVEL="ERROR", **extra)
    return env


# The naive baseline writes to the same store as docproc's default (Qdrant Edge).
_LIKE_NAIVE: dict[str, str] = {}


def _python(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


# --- memory ----------------------------------------------------------------------------------


def _stage_memory(path: Path, work: Path, extra: dict[str, str]) -> dict[str, float]:
    home = work / f"home-{path.stem}"
    env = _env(home, **extra)
    plan = _python(["-m", "benchmarks.stage", "plan", str(path)], env)
    segments = int(plan["segments"])
    peaks = []
    for index in sorted({0, segments // 2, segments - 1}):
        peaks.append(_python(["-m", "benchmarks.stage", "segment", str(index)], env))
    finalize = {"peak_rss_mb": 0.0}
    if segments <= 3:
        finalize = _python(["-m", "benchmarks.stage", "finalize"], env)
    shutil.rmtree(home, ignore_errors=True)
    return {
        "plan": float(plan["peak_rss_mb"]),
        "plan_seconds": float(plan["seconds"]),
        "segment": max(float(p["peak_rss_mb"]) for p in peaks),
        "finalize": float(finalize["peak_rss_mb"]),
        "segments": segments,
    }


def memory(size: Size, work: Path, report: Report) -> None:
    print("memory (peak RSS per stage, each in its own process)")
    # Every size takes the same code path (several segments), so the curves compare like
    # with like: 10-page PDF segments (about 8 MB of images each), 8 MiB text segments.
    for kind, sizes, make, extra in (
        ("pdf", size.pdf_sizes, image_pdf, {"SEGMENT_PAGES": "10"}),
        ("text", size.text_sizes, text_file, {}),
    ):
        results = {}
        for nbytes in sizes:
            path = work / f"{kind}-{nbytes // MB}mb.{'pdf' if kind == 'pdf' else 'txt'}"
            make(path, nbytes)
            results[nbytes] = _stage_memory(path, work, extra)
            label = f"{kind} {nbytes // MB} MB ({results[nbytes]['segments']} segments)"
            r = results[nbytes]
            report.add(
                "memory", f"{label}: plan", f"{r['plan']:.0f} MB", "< 300 MB", r["plan"] < 300
            )
            report.add(
                "memory",
                f"{label}: process_segment (max of 3)",
                f"{r['segment']:.0f} MB",
                "< 256 MB",
                r["segment"] < 256,
            )
            path.unlink()
        smallest, largest = results[sizes[0]], results[sizes[-1]]
        for stage in ("plan", "segment"):
            ratio = largest[stage] / smallest[stage]
            report.add(
                "memory",
                f"{kind} {stage}: {sizes[-1] // MB} MB vs {sizes[0] // MB} MB",
                f"{ratio:.2f}x",
                "<= 1.30x",
                ratio <= 1.3,
            )


# --- throughput ------------------------------------------------------------------------------

_RAW = """
import json, sys, time, pymupdf
started = time.perf_counter()
document = pymupdf.open(sys.argv[1])
pages = sum(1 for page in document if page.get_text() is not None)
print(json.dumps({"pages": pages, "seconds": time.perf_counter() - started}))
"""

_EXTRACT_AND_CHUNK = """
import json, sys, time
from pathlib import Path
from docproc.chunking.chunker import Chunker
from docproc.extract.pdf import count_pages, extract_pages
started = time.perf_counter()
path = Path(sys.argv[1])
pages = count_pages(path)
chunker = Chunker("text-embedding-3-small", 512, 64)
chunks = sum(1 for _ in chunker.chunk_pages(extract_pages(path, 1, pages)))
print(json.dumps({"pages": pages, "chunks": chunks, "seconds": time.perf_counter() - started}))
"""


def throughput(size: Size, work: Path, report: Report) -> None:
    print("throughput (same machine, same run)")
    pdf = text_pdf(work / "throughput.pdf", pages=size.throughput_pages)
    env = _env(work / "unused")
    raw = _python(["-c", _RAW, str(pdf)], env)
    ours_one = _python(["-c", _EXTRACT_AND_CHUNK, str(pdf)], env)
    cores = os.cpu_count() or 1
    raw_rate = raw["pages"] / raw["seconds"]
    ours_rate = ours_one["pages"] / ours_one["seconds"]
    report.add(
        "throughput",
        f"raw PyMuPDF get_text, 1 process ({size.throughput_pages} pages)",
        f"{raw_rate:.0f} pages/s",
    )
    report.add("throughput", "extract + chunk, 1 process", f"{ours_rate:.0f} pages/s")
    docproc = str(Path(sys.executable).parent / "docproc")
    home = work / "throughput-home"
    ingest = _timed([docproc, "ingest", str(pdf)], _env(home))
    ingest_rate = size.throughput_pages / ingest
    report.add(
        "throughput",
        f"docproc ingest end to end ({cores} workers, SQLite vectors: the default)",
        f"{ingest_rate:.0f} pages/s",
    )
    ingest_qdrant = _timed([docproc, "ingest", str(pdf)], _env(work / "tq-home", **_LIKE_NAIVE))
    report.add(
        "throughput",
        f"docproc ingest end to end ({cores} workers, embedded Qdrant)",
        f"{size.throughput_pages / ingest_qdrant:.0f} pages/s",
    )
    report.add(
        "throughput", "extract + chunk vs raw get_text (1 core)", f"{ours_rate / raw_rate:.2f}x"
    )
    report.add(
        "throughput",
        f"ingest end to end vs raw x {cores} cores",
        f"{ingest_rate / (raw_rate * cores):.2f}x",
    )
    naive_seconds = _timed(
        [sys.executable, "-m", "benchmarks.naive", str(pdf), str(work / "naive-q")], env
    )
    report.add(
        "throughput",
        "ingest end to end vs naive one-process pipeline (time, both on embedded Qdrant)",
        f"{ingest_qdrant / naive_seconds:.2f}x",
    )
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(work / "tq-home", ignore_errors=True)
    shutil.rmtree(work / "naive-q", ignore_errors=True)


def small_files(size: Size, work: Path, report: Report) -> None:
    print("small files: per document in a warm process, and whole commands from cold")
    docproc = str(Path(sys.executable).parent / "docproc")
    for pages in (1, 10):
        pdf = text_pdf(work / f"small-{pages}.pdf", pages=pages)
        warm: dict[str, list[float]] = {"ours": [], "naive": []}
        for attempt in range(3):
            for which in ("ours", "naive"):
                folder = work / f"warm-{which}-{pages}-{attempt}"
                folder.mkdir()
                result = _python(
                    [
                        "-m",
                        "benchmarks.warm",
                        which,
                        str(pdf),
                        str(size.small_repeats * 5),
                        str(folder),
                    ],
                    _env(folder, **_LIKE_NAIVE),
                )
                warm[which].append(float(result["median_seconds"]))
        ratio = statistics.median(warm["ours"]) / statistics.median(warm["naive"])
        report.add(
            "small files",
            f"{pages} page(s), warm, per document: docproc vs naive (embedded Qdrant)",
            f"{ratio:.2f}x ({statistics.median(warm['ours']) * 1000:.1f} ms)",
            "<= 1.10x",
            ratio <= 1.10,
        )
        folder = work / f"warm-default-{pages}"
        folder.mkdir()
        default = _python(
            ["-m", "benchmarks.warm", "ours", str(pdf), str(size.small_repeats * 5), str(folder)],
            _env(folder),
        )
        report.add(
            "small files",
            f"{pages} page(s), warm, per document: docproc on its default SQLite store vs naive",
            f"{float(default['median_seconds']) / statistics.median(warm['naive']):.2f}x "
            f"({float(default['median_seconds']) * 1000:.1f} ms)",
        )
        ours, naive, ours_default = [], [], []
        for attempt in range(size.small_repeats):
            home = work / f"small-home-{pages}-{attempt}"
            ours.append(_timed([docproc, "ingest", str(pdf)], _env(home, **_LIKE_NAIVE)))
            default_home = work / f"small-default-home-{pages}-{attempt}"
            ours_default.append(_timed([docproc, "ingest", str(pdf)], _env(default_home)))
            naive.append(
                _timed(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.naive",
                        str(pdf),
                        str(work / f"small-naive-{pages}-{attempt}"),
                    ],
                    _env(home),
                )
            )
        ratio = statistics.median(ours) / statistics.median(naive)
        report.add(
            "small files",
            f"{pages} page(s), cold command incl. imports: docproc vs naive (embedded Qdrant)",
            f"{ratio:.2f}x ({statistics.median(ours):.2f}s)",
        )
        report.add(
            "small files",
            f"{pages} page(s), cold command: docproc on its default SQLite store vs naive",
            f"{statistics.median(ours_default) / statistics.median(naive):.2f}x "
            f"({statistics.median(ours_default):.2f}s vs {statistics.median(naive):.2f}s)",
        )


def resume(size: Size, work: Path, report: Report) -> None:
    print("resume (kill -9 at 50%, then the same command)")
    pdf = text_pdf(work / "resume.pdf", pages=size.resume_pages)
    home = work / "resume-home"
    settings = {"SEGMENT_PAGES": "10"}
    total = size.resume_pages // 10
    docproc = str(Path(sys.executable).parent / "docproc")
    process = subprocess.Popen(
        [docproc, "ingest", str(pdf)],
        env=_env(home, **settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger = home / "ledger.sqlite3"
    while process.poll() is None:
        try:
            with sqlite3.connect(ledger, timeout=1) as db:
                done = db.execute("SELECT COUNT(*) FROM segments WHERE status='done'").fetchone()
            if done[0] >= total // 2:
                os.kill(process.pid, signal.SIGKILL)
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    process.wait()
    time.sleep(0.3)
    result = subprocess.run(
        [docproc, "ingest", str(pdf), "--json"],
        env=_env(home, **settings),
        capture_output=True,
        text=True,
        check=True,
    )
    rerun = json.loads(result.stdout)
    redone = rerun["segments_processed"] / total
    report.add(
        "resume",
        f"segments re-processed after kill at 50% ({total} segments)",
        f"{rerun['segments_processed']}/{total} = {redone:.2f}",
        "<= 0.50 + in flight",
        redone <= 0.5 + (os.cpu_count() or 1) / total,
    )
    again = json.loads(
        subprocess.run(
            [docproc, "ingest", str(pdf), "--json"],
            env=_env(home, **settings),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    report.add(
        "resume",
        "segments re-processed when already complete",
        str(again["segments_processed"]),
        "0",
        again["segments_processed"] == 0,
    )


def bytes_read(work: Path, report: Report) -> None:
    print("bytes read per segment")
    from docproc.extract.text import read_slice
    from docproc.storage.local import LocalObjectStore

    class CountingStore(LocalObjectStore):
        read = 0

        def read_range(self, key: str, start: int, end: int, version_id: str | None = None):
            data = super().read_range(key, start, end, version_id)
            CountingStore.read += len(data)
            return data

    path = text_file(work / "bytes.txt", 64 * MB)
    store = CountingStore(work / "bytes-store")
    info = store.put_upload("uploads/b/b/b/bytes.txt", path)
    segment = 8 * MB
    read_slice(store, info.key, info.version_id, 3 * segment, 4 * segment, info.size)
    report.add(
        "bytes read",
        "text: one 8 MiB segment of a 64 MiB file",
        f"{CountingStore.read / MB:.2f} MiB",
        "~8 MiB",
        CountingStore.read < 8.2 * MB,
    )
    pdf = image_pdf(work / "bytes.pdf", 60 * MB)
    from docproc.extract.pdf import page_ranges, split

    ranges = page_ranges(200, 50)
    pages = __import__("pymupdf").open(pdf).page_count
    ranges = page_ranges(pages, 10)
    sizes = []
    for _, part in split(pdf, ranges[:2]):
        sizes.append(part.stat().st_size)
        part.unlink()
    report.add(
        "bytes read",
        f"pdf: one 10-page sub-PDF of a {pdf.stat().st_size // MB} MB file",
        f"{max(sizes) / MB:.1f} MiB",
        f"~{pdf.stat().st_size * 10 / pages / MB:.1f} MiB",
    )


# --- the laptop: one command on the largest text file ---------------------------------------


def _lines_exactly_once(path: Path, chunk_lines: Iterator[str]) -> tuple[int, int, int]:
    """(lines in the file, of them matched in order by the chunks' lines, chunk lines beyond
    the file's): every line exactly once, in order, is (n, n, 0)."""
    total = matched = extra = 0
    with path.open(encoding="utf-8", newline="") as source:
        expected = (line.rstrip("\r\n") for line in source)
        for want, got in itertools.zip_longest(expected, chunk_lines):
            total += want is not None
            extra += want is None
            matched += want is not None and want == got
    return total, matched, extra


def _ingest_under_time(path: Path, env: dict[str, str]) -> tuple[dict[str, Any], int, float]:
    """`docproc ingest` under /usr/bin/time -v: (its report, max RSS in kB, seconds)."""
    command = [sys.executable, "-m", "docproc.local.cli", "ingest", str(path), "--json"]
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"docproc ingest failed:\n{result.stderr[-2000:]}")
    peak_kb = next(
        int(line.rsplit(":", 1)[1])
        for line in result.stderr.splitlines()
        if "Maximum resident set size" in line
    )
    return json.loads(result.stdout), peak_kb, seconds


def laptop(size: Size, work: Path, report: Report) -> None:
    """`docproc ingest` of the largest text file under /usr/bin/time -v (its maximum RSS is
    that of the largest single process: the runner or one worker), then `docproc chunks`
    with CHUNK_OVERLAP=0 compared line by line with the file."""
    print("laptop (docproc ingest of one large text file)")
    megabytes = size.text_sizes[-1] // MB
    path = text_file(work / f"laptop-{megabytes}mb.txt", size.text_sizes[-1], seed=11)
    home = work / "home-laptop"
    env = _env(home, CHUNK_OVERLAP="0")
    ingested, peak_kb, seconds = _ingest_under_time(path, env)
    with sqlite3.connect(home / "ledger.sqlite3") as db:
        worker_peak = max(
            json.loads(body)["peak_rss_mb"] for (body,) in db.execute("SELECT body FROM segments")
        )
    label = f"text {megabytes} MB ({ingested['segments_total']} segments, 2 workers)"
    report.commands.append(f"CHUNK_OVERLAP=0 /usr/bin/time -v docproc ingest {path.name}")
    report.add(
        "laptop",
        f"{label}: max RSS of any process (/usr/bin/time -v)",
        f"{peak_kb / 1024:.0f} MB",
        "< 256 MB",
        peak_kb / 1024 < 256,
    )
    report.add("laptop", f"{label}: max segment worker (VmHWM)", f"{worker_peak:.0f} MB")
    report.add(
        "laptop",
        f"{label}: wall time, chunks",
        f"{seconds:.0f} s, {ingested['chunks_total']}",
        f"{megabytes / seconds:.1f} MB/s",
    )
    chunks = subprocess.Popen(
        [sys.executable, "-m", "docproc.local.cli", "chunks", ingested["document_id"]],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert chunks.stdout is not None
    chunk_lines = (line for row in chunks.stdout for line in json.loads(row)["text"].splitlines())
    total, matched, leftover = _lines_exactly_once(path, chunk_lines)
    chunks.wait()
    report.add(
        "laptop",
        "docproc chunks: file lines found once each, in order",
        f"{matched}/{total} (+{leftover} extra)",
        "all, +0",
        matched == total and leftover == 0 and chunks.returncode == 0,
    )
    shutil.rmtree(home, ignore_errors=True)
    path.unlink()


def media(size: Size, work: Path, report: Report) -> None:
    """`docproc ingest` of an MP3 and an MP4 (with a picture track) on the offline
    transcriber, under /usr/bin/time -v; then `docproc search` for one of the sentences."""
    print("media (docproc ingest of recordings, offline transcriber)")
    for suffix, minutes in size.recordings:
        path = work / f"recording-{minutes}min{suffix}"
        seconds_total = minutes * 60
        # A sentence every ~5 minutes, never closer than a minute to the end
        placements = [(float(t), n % 10) for n, t in enumerate(range(30, seconds_total - 60, 300))]
        placed = recording(path, seconds_total, placements, video=suffix == ".mp4")
        home = work / f"home-{path.stem}"
        env = _env(home)
        ingested, peak_kb, seconds = _ingest_under_time(path, env)
        label = f"{suffix[1:]} {minutes} min ({ingested['segments_total']} windows, 2 workers)"
        report.commands.append(f"/usr/bin/time -v docproc ingest {path.name}")
        report.add(
            "media",
            f"{label}: max RSS of any process (/usr/bin/time -v)",
            f"{peak_kb / 1024:.0f} MB",
            "< 256 MB",
            peak_kb / 1024 < 256,
        )
        report.add(
            "media",
            f"{label}: wall time, chunks",
            f"{seconds:.0f} s, {ingested['chunks_total']}",
            f"{seconds_total / seconds:.0f}x real time",
        )
        target = placed[len(placed) // 2]
        found = subprocess.run(
            [sys.executable, "-m", "docproc.local.cli", "search", target.sentence, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        best = json.loads(found.stdout)[0]
        # Long recordings repeat the ten sample sentences: the best hit must be one of the
        # times this sentence was spoken.
        spoken_at = [p.start for p in placed if p.sentence == target.sentence]
        near = min(abs(float(best["time_start"]) - start) for start in spoken_at)
        report.add(
            "media",
            f"{label}: search a spoken sentence ({len(spoken_at)}x in the file)",
            f"{best['time_start']:.1f}-{best['time_end']:.1f} s, off {near:.1f} s",
            "within 2 s",
            near <= 2,
        )
        shutil.rmtree(home, ignore_errors=True)
        path.unlink()


def machine() -> list[str]:
    memory_kb = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory_kb = int(line.split()[1])
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("pymupdf", "semantic-text-splitter", "qdrant-client", "tiktoken")
    )
    return [
        f"- Machine: {os.cpu_count()} cores, {memory_kb // 1024 // 1024} GiB RAM, "
        f"{platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
    ]


def write_markdown(path: Path, size: Size, report: Report, seconds: float) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `make bench` (`python -m benchmarks.run --size {size.name} --write "
        f"BENCHMARKS.md`) in {seconds:.0f} s. Every ratio compares two figures measured in the "
        "same run on the same machine; these machines are shared and noisy.",
        "",
        *machine(),
        "",
        "| section | metric | value | target | result |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in report.rows],
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--write", type=Path, help="write the results as markdown")
    parser.add_argument("--only", nargs="*", help="run only these sections")
    args = parser.parse_args()
    size = SIZES[args.size]
    report = Report()
    started = time.perf_counter()
    sections = {
        "memory": memory,
        "throughput": throughput,
        "small": small_files,
        "resume": resume,
        "laptop": laptop,
        "media": media,
    }
    with tempfile.TemporaryDirectory(prefix="docproc-bench-") as folder:
        work = Path(folder)
        for name, run in sections.items():
            if not args.only or name in args.only:
                run(size, work, report)
        if not args.only or "bytes" in args.only:
            bytes_read(work, report)
    seconds = time.perf_counter() - started
    print(f"benchmarks ({size.name}) done in {seconds:.0f} s")
    if args.write:
        write_markdown(args.write, size, report, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
