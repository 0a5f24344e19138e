"""How many worker processes a run's segments get, and the server they fork from.

A pool's workers fork from a server process that first loads what they need (the interpreter,
PyMuPDF, the tokenizer's tables: ~0.6-0.8 s here). The runner decides on a pool once the file is
copied in and planned, ~0.7 s into the command, most of it the command's own imports; the
workers then waited for the server to load. ``docproc.local.__main__`` asks ``pool_expected``
before those imports, from what a glance at the input tells (a PDF's pages), and starts the
server at once when the run will want a pool: it loads on another core while the command
imports and plans.

Only the standard library is imported here (PyMuPDF when a PDF's pages are counted): the glance
must not delay the command it is made for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from multiprocessing import get_context
from multiprocessing.context import ForkServerContext
from pathlib import Path

# Starting the workers, measured here: the fork server's interpreter, PyMuPDF and the
# tokenizer's tables (0.7-0.8 s), then a fork per worker (milliseconds).
WORKER_START_SECONDS = 1.0
# One core's pace per kind of segment, start-up excluded (BENCHMARKS.md, throughput: the text
# PDF's per-segment stages on one worker take ~4.1 s for 2,000 pages; pages of scans or images
# with little text go faster, so a pool pays for fewer of them): for choosing the workers.
PAGES_PER_SECOND = 450.0
# Pages Plan guessed are scans go at OCR's pace (BENCHMARKS.md, scanned pages: 2.08 letter
# pages/s on one core).
OCR_PAGES_PER_SECOND = 2.0
BYTES_PER_SECOND = 2.0 * 1024 * 1024
RECORDED_SECONDS_PER_SECOND = 100.0

# SegmentingSettings.segment_pages's default (a test keeps the two equal): the glance reads
# SEGMENT_PAGES from the environment without loading the settings.
DEFAULT_SEGMENT_PAGES = 50
# A PDF's header may start anywhere in its first KiB (as docproc.extract.sniff reads it).
_PDF_HEADER_WINDOW = 1024

# Named, not imported: it imports the whole pipeline.
_WORKER_PRELOAD = "docproc.local.worker_preload"


def pool_size(segments: int, alone: float, cores: int, requested: int = 0) -> int:
    """How many processes to run ``segments`` segments on, ``alone`` seconds of one core's
    work: ``requested`` (DOCPROC_WORKERS) when set; otherwise a pool of every core only when
    the work outweighs starting it (WORKER_START_SECONDS), else the runner's own process."""
    if requested:
        return min(requested, segments)
    if cores == 1 or segments <= 1:
        return 1
    # On n cores the work takes alone / n plus the start-up: worth it past this.
    if alone / cores + WORKER_START_SECONDS >= alone * 0.8:
        return 1
    return min(cores, segments)


def workers_context() -> ForkServerContext:
    """Workers fork from a server process that has imported and loaded what they need
    (docproc.local.worker_preload), started once per command: each worker then starts in
    milliseconds, and the interpreter, PyMuPDF and the tokenizer's tables are loaded once, not
    once per worker. Not a fork of the runner itself: it has threads (the vector store's
    server, the shard's own), which a fork does not carry over."""
    context = get_context("forkserver")
    context.set_forkserver_preload([_WORKER_PRELOAD])
    return context


def start_workers_server() -> None:
    """Start the workers' fork server now, without waiting for it: it loads what the workers
    need while this process goes on with other work. The first pool waits for it to be ready
    (starting it then if nothing has); a second call finds it running."""
    # Imported here: a command that runs no pool (a small file) does not pay for it.
    from multiprocessing import forkserver

    workers_context()
    forkserver.ensure_running()


def pool_expected(arguments: Sequence[str], environ: Mapping[str, str], cores: int) -> bool:
    """Whether ``docproc ARGUMENTS`` will run its segments on a pool, judged before the command
    loads anything: an ``ingest`` of one PDF file whose pages are work that pool_size gives
    more than one process. Everything else is left to the runner, which starts the server as it
    plans: several documents (a folder: docproc.local.folders starts it once the documents
    planned so far, scaled to the folder's bytes, will fill a pool), a recording (its length
    needs a probe), a text file (its segments need the settings). A wrong guess only starts the
    server early, or not early."""
    try:
        requested = int(environ.get("DOCPROC_WORKERS") or 0)
        per_segment = int(environ.get("SEGMENT_PAGES") or DEFAULT_SEGMENT_PAGES)
    except ValueError:
        return False  # the settings will say what is wrong
    if requested == 1 or per_segment < 1 or (cores == 1 and not requested):
        return False
    path = ingested_file(arguments)
    if path is None:
        return False
    pages = pdf_pages(path)
    if pages is None:
        return False
    segments = math.ceil(pages / per_segment)
    return pool_size(segments, pages / PAGES_PER_SECOND, cores, requested) > 1


def ingested_file(arguments: Sequence[str]) -> Path | None:
    """The file ``docproc ARGUMENTS`` ingests on its own (docproc.local.cli.cmd_ingest), if
    the command is an ``ingest`` of one file."""
    if not arguments or arguments[0] != "ingest" or "--glob" in arguments:
        return None
    # Option values (a tenant, a case) are not paths: a name that is nothing on disk is passed
    # over.
    named = [Path(argument) for argument in arguments[1:] if argument[:1] != "-"]
    existing = [path for path in named if path.exists()]
    if len(existing) != 1 or not existing[0].is_file():
        return None
    return existing[0]


def pdf_pages(path: Path) -> int | None:
    """The pages of the PDF at ``path``; None when it is not one, or cannot be read (the
    planner reports why)."""
    try:
        with path.open("rb") as reader:
            head = reader.read(_PDF_HEADER_WINDOW)
    except OSError:
        return None
    if b"%PDF" not in head:
        # Not opened otherwise: MuPDF repairs what it takes for a damaged PDF by reading it all.
        return None
    import pymupdf

    try:
        document = pymupdf.open(path, filetype="pdf")
        try:
            pages: int = document.page_count
        finally:
            document.close()
    except Exception:  # noqa: BLE001 - whatever the reason: the glance is only a hint
        return None
    return pages
