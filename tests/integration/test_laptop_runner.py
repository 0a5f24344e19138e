"""`docproc` as a user runs it: a real process, real files, kill -9 and resume."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from benchmarks.rss import descendants
from docproc.config import LocalSettings
from docproc.storage.local import LocalObjectStore
from docproc.wiring import make_edge_vector_store
from tests.e2e.harness import ROOT
from tests.local_points import point_digests
from tests.qdrant_server import qdrant_server
from tests.stub_openai import stub_openai

DOCPROC = [sys.executable, "-m", "docproc.local"]
README = ROOT / "README.md"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCPROC_", "QDRANT_"))}
    env.update(DOCPROC_HOME=str(home), **extra)
    return env


def run(home: Path, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*DOCPROC, *args],
        env=_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docproc {args} failed: {result.stderr}")
    return result


def _segments_done(home: Path) -> int:
    path = home / "ledger.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM segments WHERE status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _running(pid: str) -> bool:
    """Whether the process exists and has not exited (a zombie waits only to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_ingest_status_search_chunks(tmp_path: Path):
    home = tmp_path / "home"
    sample = ROOT / "samples" / "lease-agreement.pdf"
    # When the bundled sample is ingested
    report = json.loads(run(home, "ingest", str(sample), "--json").stdout)
    # Then the report has the fields a caller scripts against, those README lists
    listed = re.search(r"`ingest --json` prints one object: `([^`]+)`", README.read_text())
    assert listed and list(report) == listed.group(1).replace("\n", " ").split(", ")
    assert report["status"] == "complete" and report["document_id"] == "lease-agreement"
    assert report["segments_total"] == report["segments_processed"] == 1
    assert report["pages"] == 3 and report["chunks_total"] >= 1 and report["duration_ms"] > 0
    assert report["workers"] == 1  # one small segment: run in the command's own process
    status = json.loads(run(home, "status", "lease-agreement", "--json").stdout)
    assert (status["status"], status["segments_done"], status["segments_total"]) == (
        "complete",
        1,
        1,
    )
    hits = json.loads(run(home, "search", "security deposit refund", "--json").stdout)
    assert hits and hits[0]["document_id"] == "lease-agreement"
    assert hits[0]["page_start"] <= 2 <= hits[0]["page_end"]
    text = run(home, "search", "security deposit refund").stdout
    assert "page" in text and "lease-agreement" in text
    chunks = [
        json.loads(line) for line in run(home, "chunks", "lease-agreement").stdout.splitlines()
    ]
    assert len(chunks) == report["chunks_total"] and "deposit" in " ".join(
        c["text"] for c in chunks
    )
    # And searches are scoped to the tenant
    assert json.loads(run(home, "search", "deposit", "--tenant", "other", "--json").stdout) == []
    # And a reader that leaves early (`| head`) ends the command quietly
    piped = subprocess.run(
        f"{shlex.join(DOCPROC)} chunks lease-agreement | head -c 10",
        shell=True,
        env=_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(piped.stdout) == 10 and piped.stderr == ""


def test_rejected_input_is_one_typed_line(tmp_path: Path, corpus: Path):
    result = run(
        tmp_path / "home", "ingest", str(corpus / "lorem" / "lorem-ipsum.txt.missing"), check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: InvalidDocument:")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    bad = tmp_path / "archive.pdf"
    bad.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)  # a program: no document
    result = run(tmp_path / "home", "ingest", str(bad), check=False)
    assert result.returncode == 2 and "UnsupportedDocument" in result.stderr
    # A PDF that plans but whose pages cannot be read is refused in its segment: still the
    # input's fault, so still 2 (1 is for failures worth running again)
    broken = corpus / "malformed" / "T02-02_005_page-tree-no-kids.pdf"
    result = run(tmp_path / "home", "ingest", str(broken), check=False, DOCPROC_WORKERS="2")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: SegmentFailures:") and "InvalidDocument" in last


def test_a_worker_that_cannot_start_reports_why(tmp_path: Path):
    # Given a tokenizer that does not exist, which only the segment workers load (to chunk)
    home = tmp_path / "home"
    pdf = text_pdf(tmp_path / "three-segments.pdf", pages=120)
    # When a document of several segments is ingested by a pool of workers
    result = run(
        home,
        "ingest",
        str(pdf),
        check=False,
        DOCPROC_WORKERS="2",
        SEGMENT_PAGES="50",
        TOKENIZER_MODEL="no-such-model",
    )
    # Then the error names the cause, not the pool it broke
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: SegmentFailures: 3 segment(s) failed"), last
    assert "no-such-model" in last and "BrokenProcessPool" not in last


def _how_this_worker_started() -> tuple[int, bool, bool, bool]:
    """A pool task: (this worker's parent, whether it holds what the fork server preloads,
    whether its tokenizer's tables were loaded before the worker asked for them, whether what
    the server loaded is out of the garbage collector's sight)."""
    import gc

    from docproc.chunking import tokens

    return (
        os.getppid(),
        "docproc.local.worker_preload" in sys.modules,
        tokens._vocabulary.cache_info().currsize > 0,
        gc.get_freeze_count() > 0,
    )


def test_workers_fork_from_a_server_that_has_loaded_what_they_need(tmp_path: Path):
    from docproc.local.runner import LocalEnvironment, started_pool

    # Given the runner's pool of two workers
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=2))
    with started_pool(env, 2) as pool:
        # When its workers run tasks
        answers = [pool.submit(_how_this_worker_started).result() for _ in range(4)]
    env.close()
    # Then each is a fork of a server, not a child of the runner, which had imported the
    # pipeline and loaded the tokenizer's tables before the worker started, and frozen them
    # (a worker's collections leave those pages shared with the server)
    assert {parent for parent, *_ in answers} != {os.getpid()}
    assert all(preloaded and tables and frozen for _, preloaded, tables, frozen in answers)


def test_events_folder_drives_invoke(tmp_path: Path):
    # `docproc invoke` takes the same event files as `sam local invoke`
    result = run(
        tmp_path / "home",
        "invoke",
        "notify_failure",
        "--event",
        str(ROOT / "events" / "notify_failure.json"),
    )
    assert json.loads(result.stdout)["published"] is True
    events = (tmp_path / "home" / "events.jsonl").read_text().splitlines()
    assert json.loads(events[-1])["detail-type"] == "Document Ingestion Failed"


@pytest.mark.parametrize("vector_store", ["edge", "qdrant-server"])
def test_kill_dash_nine_then_resume_matches_a_clean_run(tmp_path: Path, vector_store: str):
    # Given a PDF of 60 segments and a runner with two worker processes, on the laptop's
    # store or on a Qdrant server
    pdf = text_pdf(tmp_path / "long.pdf", pages=300, seed=5)
    if vector_store == "edge":
        _kill_then_resume(tmp_path, pdf, None, None)
        return
    # A server each for the interrupted run and the clean one, to compare their points
    with qdrant_server() as killed, qdrant_server() as clean:
        _kill_then_resume(tmp_path, pdf, killed.url, clean.url)


def _kill_then_resume(
    tmp_path: Path, pdf: Path, qdrant_url: str | None, clean_qdrant_url: str | None
) -> None:
    settings = {"SEGMENT_PAGES": "5", "DOCPROC_WORKERS": "2"}
    if qdrant_url:
        settings["QDRANT_URL"] = qdrant_url
    home = tmp_path / "killed"
    process = subprocess.Popen(
        [*DOCPROC, "ingest", str(pdf), "--json"],
        env=_env(home, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # When it is killed with SIGKILL part-way through
    deadline = time.monotonic() + 120
    while _segments_done(home) < 5:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    workers = descendants(process.pid)
    assert len(workers) >= 2
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # Then its workers die with it (PR_SET_PDEATHSIG)
    deadline = time.monotonic() + 10
    while alive := [pid for pid in workers if _running(pid)]:
        assert time.monotonic() < deadline, f"processes outlived the runner: {alive}"
        time.sleep(0.05)
    done_before = _segments_done(home)
    assert 5 <= done_before < 60

    # Then the same command resumes: finished segments are skipped, the rest is done
    report = json.loads(run(home, "ingest", str(pdf), "--json", **settings).stdout)
    assert report["status"] == "complete" and report["segments_total"] == 60
    assert report["segments_skipped"] >= done_before
    assert report["segments_processed"] == 60 - report["segments_skipped"]

    # And the points equal those of a clean, uninterrupted run
    clean = tmp_path / "clean"
    clean_settings = {**settings, **({"QDRANT_URL": clean_qdrant_url} if clean_qdrant_url else {})}
    run(clean, "ingest", str(pdf), "--json", **clean_settings)
    assert point_digests(home, qdrant_url) == point_digests(clean, clean_qdrant_url)

    # And a third run does nothing at all
    again = json.loads(run(home, "ingest", str(pdf), "--json", **settings).stdout)
    assert again["segments_processed"] == 0 and again["segments_skipped"] == 60


def _chunk_point_ids(home: Path) -> list[str]:
    """The point id of every line of every chunk file the state folder holds."""
    return [
        json.loads(line)["point_id"]
        for path in (home / "objects").rglob("*.chunks.jsonl")
        for line in path.read_text().splitlines()
    ]


@pytest.mark.slow
def test_workers_embedding_through_an_api_write_batches_at_once_through_the_served_shard(
    tmp_path: Path,
):
    # Given a PDF of 6 segments, and an embeddings API that takes a while to answer
    home = tmp_path / "home"
    pdf = text_pdf(tmp_path / "long.pdf", pages=30, seed=5)
    with stub_openai() as api:
        api.under_way.delay_seconds = 0.05
        api.under_way.gather = 4
        settings = {
            "SEGMENT_PAGES": "5",
            "DOCPROC_WORKERS": "2",
            "EMBEDDER": "openai",
            "OPENAI_BASE_URL": api.url,
            "OPENAI_API_KEY": "sk-test",
            "EMBEDDING_DIMENSIONS": "8",
            "OPENAI_REQUESTS_IN_FLIGHT": "3",
            "EMBED_BATCH_SIZE": "4",
            "CHUNK_TOKENS": "128",
            "CHUNK_OVERLAP": "0",
        }
        # When two workers ingest it, each with 3 batches in flight, looked up in the shard the
        # runner serves and embedded on threads of their own, and upserted by another
        report = json.loads(run(home, "ingest", str(pdf), "--json", **settings).stdout)
        # Then requests of both workers overlapped, and every chunk reached the store once
        assert report["status"] == "complete" and report["workers"] == 2
        assert api.under_way.most_at_once >= 4
        point_ids = _chunk_point_ids(home)
        assert len(point_ids) == report["chunks_total"] > 6 * 3 * 4  # more batches than in flight
        assert set(point_digests(home)) == set(point_ids)


def test_the_offline_embedder_only_stores_at_a_qdrant_server_a_batch_at_a_time(tmp_path: Path):
    # Given a text file of many batches, and a Qdrant server that takes a while to answer
    home, notes = tmp_path / "home", tmp_path / "notes.txt"
    notes.write_text(
        "".join(f"Clause {i}: rent is due on day {i % 28 + 1}.\n\n" for i in range(400))
    )
    with qdrant_server() as qdrant:
        qdrant.points.delay_seconds = 0.05
        settings = {
            "QDRANT_URL": qdrant.url,
            "HASHING_BATCHES_IN_FLIGHT": "2",
            "EMBED_BATCH_SIZE": "4",
            "CHUNK_TOKENS": "64",
            "CHUNK_OVERLAP": "0",
        }
        # When docproc ingests it with the offline embedder and 2 batches in flight (the next
        # hashed while one is stored)
        report = json.loads(run(home, "ingest", str(notes), "--json", **settings).stdout)
        # Then every request for points was a batch's upsert, in turn: none asked what the
        # server already held (hashing a batch again costs less than asking)
        assert report["status"] == "complete"
        assert qdrant.points.count == len(qdrant.upserts) == -(-report["chunks_total"] // 4)
        assert qdrant.points.most_at_once == 1
        # And every chunk of the chunk file is a point
        point_ids = _chunk_point_ids(home)
        assert len(point_ids) == report["chunks_total"] > 3 * 2 * 4
        assert set(point_digests(home, qdrant.url)) == set(point_ids)


def test_thousand_page_pdf_twice_processes_nothing_the_second_time(tmp_path: Path):
    pdf = text_pdf(tmp_path / "thousand.pdf", pages=1000, seed=9)
    home = tmp_path / "home"
    first = json.loads(run(home, "ingest", str(pdf), "--json", DOCPROC_WORKERS="2").stdout)
    assert first["segments_total"] == 20 and first["segments_processed"] == 20
    assert first["workers"] == 2
    second = json.loads(run(home, "ingest", str(pdf), "--json").stdout)
    assert second["segments_processed"] == 0 and second["segments_skipped"] == 20
    assert second["workers"] == 0  # nothing ran
    assert second["chunks_total"] == first["chunks_total"]


def test_a_command_finding_the_store_open_in_another_process_changes_nothing(tmp_path: Path):
    # Given an ingested document, and the laptop's store held open by another process
    home, sample = tmp_path / "home", ROOT / "samples" / "lease-agreement.pdf"
    run(home, "ingest", str(sample))
    settings = LocalSettings(DOCPROC_HOME=home)
    holder = make_edge_vector_store(home / "vectors", settings, settings)
    holder.claim()
    # When docproc ingests another document or a folder, deletes the first, or searches
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "third.pdf").write_bytes(sample.read_bytes())
    commands = [
        ("ingest", str(sample), "--document-id", "second"),
        ("ingest", str(folder)),
        ("delete", "lease-agreement"),
        ("search", "rent"),
    ]
    results = [run(home, *command, check=False) for command in commands]
    # Then each is refused with the typed error, and nothing was recorded or removed
    assert [r.returncode for r in results] == [1, 1, 1, 1]
    assert all("VectorStoreBusy" in r.stderr for r in results)
    for unknown in ("second", "third"):
        assert run(home, "status", unknown, check=False).returncode == 2
        assert not (home / "objects" / "uploads" / "local" / "default" / unknown).exists()
    events = (home / "events.jsonl").read_text()
    assert "Failed" not in events and "Deleted" not in events
    # And once the other process lets go, the first document is there as it was
    holder.close()
    assert json.loads(run(home, "search", "rent", "--json").stdout)


def test_delete_a_document_the_ledger_never_knew(tmp_path: Path, generated):
    # Given an upload whose ingest stopped before the ledger knew of it (copied in, no more)
    home = tmp_path / "home"
    LocalObjectStore(home / "objects").put_upload(
        "uploads/local/c-1/early/a.pdf", generated["pdf_3"]
    )
    # When it is deleted by its id
    (deleted,) = json.loads(run(home, "delete", "early", "--json").stdout)
    # Then its case is found from where the upload lies, and no copy of it is left
    assert (deleted["document_id"], deleted["case_id"]) == ("early", "c-1")
    assert not list((home / "objects").rglob("*.pdf"))


def test_delete_a_document_then_a_case(tmp_path: Path, generated):
    home = tmp_path / "home"
    for name, pdf in (("one", generated["pdf_3"]), ("two", generated["pdf_3"])):
        run(home, "ingest", str(pdf), "--case", "c-1", "--document-id", name)
    run(home, "ingest", str(generated["pdf_3"]), "--case", "c-2", "--document-id", "other")

    deleted = json.loads(run(home, "delete", "one", "--json").stdout)
    assert [d["document_id"] for d in deleted] == ["one"]
    assert run(home, "status", "one", check=False).returncode == 2
    deleted = json.loads(run(home, "delete", "--case", "c-1", "--json").stdout)
    assert [d["document_id"] for d in deleted] == ["two"]

    hits = json.loads(run(home, "search", "Marker phrase", "--json", "--top-k", "50").stdout)
    assert {h["document_id"] for h in hits} == {"other"}
    assert not list((home / "objects" / "work" / "local").glob("one*"))
    assert not (home / "objects" / "uploads" / "local" / "c-1").exists() or not any(
        (home / "objects" / "uploads" / "local" / "c-1").rglob("*.pdf")
    )
    events = [
        json.loads(line)["detail-type"] for line in (home / "events.jsonl").read_text().splitlines()
    ]
    assert events.count("Document Deleted") == 2


_WATCH_THE_START = """
import json, os, sys
from benchmarks.rss import descendants
started_before = []

def watch(event, args):
    # The first import of the command's own module: what runs below this process by then?
    if event == "import" and args[0] == "docproc.local.cli" and not started_before:
        started_before.append(len(descendants(os.getpid())) > 0)

sys.addaudithook(watch)
sys.argv = ["docproc", *sys.argv[1:]]
from docproc.local.__main__ import main
code = main()
print(json.dumps({"code": code, "server_before_the_command": started_before[0]}))
"""


_AFTER_THE_COMMAND = """
import gc, json, sys
sys.argv = ["docproc", *sys.argv[1:]]
from docproc.local.__main__ import main
code = main()
print(json.dumps({"code": code, "frozen": gc.get_freeze_count()}))
"""


def test_the_command_leaves_what_it_loaded_to_the_exit_not_to_the_garbage_collector(
    tmp_path: Path,
):
    # Given a one-page PDF
    pdf = text_pdf(tmp_path / "note.pdf", pages=1)
    # When `docproc ingest` has run it, in a process of its own
    result = subprocess.run(
        [sys.executable, "-c", _AFTER_THE_COMMAND, "ingest", str(pdf)],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    # Then it succeeded and what it made is frozen: the interpreter's teardown does not walk it
    # in collections (~0.1 s of a small file's command)
    assert report["code"] == 0
    assert report["frozen"] > 10_000, report


@pytest.mark.parametrize(("pages", "server_first"), [(400, True), (10, False)])
def test_the_workers_server_starts_before_the_command_loads_when_a_pdf_wants_a_pool(
    tmp_path: Path, pages: int, server_first: bool
):
    # Given a PDF of 8 segments of 50 pages for two workers, and one of a single segment
    pdf = text_pdf(tmp_path / "record.pdf", pages=pages, lines_per_page=3)
    # When `docproc ingest` runs it
    result = subprocess.run(
        [sys.executable, "-c", _WATCH_THE_START, "ingest", str(pdf), "--json"],
        env=_env(tmp_path / "home", DOCPROC_WORKERS="2"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    ingested = json.loads("\n".join(result.stdout.splitlines()[:-1]))
    # Then the workers' server was already running when the command began to load, for the
    # long PDF only; and both were ingested
    assert report == {"code": 0, "server_before_the_command": server_first}
    assert ingested["status"] == "complete"
    assert ingested["workers"] == (2 if server_first else 1)
