"""`docproc ingest FOLDER`: many documents in one command, through the real command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from benchmarks.generators import text_pdf
from docproc.extract.compound import compound_file
from docproc.local.folders import folder_document_id
from tests.integration.test_laptop_runner import run

# A program: not a document docproc reads.
EXECUTABLE = b"MZ\x90\x00" + b"\x00" * 64


def _lines(stdout: str) -> tuple[dict[str, dict], dict]:
    records = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    summary = records.pop()["summary"]
    return {record["document_id"]: record for record in records}, summary


def _case_folder(root: Path) -> Path:
    """A case folder: text, Markdown and a PDF (one in a sub-folder), a broken PDF in the
    middle, a ZIP of notes, a hidden file, a program and a Visio drawing (a
    compound file of a kind not read)."""
    folder = root / "case-files"
    (folder / "exhibits").mkdir(parents=True)
    (folder / "a-letter.txt").write_text("The tenant paid the deposit on 3 March.\n" * 20)
    (folder / "b-broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    text_pdf(folder / "exhibits" / "c-record.pdf", pages=3)
    (folder / "d-notes.md").write_text("# Notes\n\nThe hearing is on 12 May.\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "installer.exe").write_bytes(EXECUTABLE)
    with zipfile.ZipFile(folder / "e-photos.zip", "w") as archive:
        archive.writestr("captions.txt", "The photos show the damp north wall.")
    # A compound file of a kind docproc does not read, told by its streams
    (folder / "floor-plan.vsd").write_bytes(compound_file({"VisioDocument": bytes(600)}))
    return folder


def test_a_folder_ingests_each_document_past_a_bad_one_and_a_rerun_skips_them(tmp_path: Path):
    home = tmp_path / "home"
    folder = _case_folder(tmp_path)
    # When the folder is ingested
    first = run(home, "ingest", str(folder), "--json", check=False)
    # Then every readable document is complete, the broken one is refused, and the run went on
    documents, summary = _lines(first.stdout)
    assert {key: value["status"] for key, value in documents.items()} == {
        "a-letter": "complete",
        "b-broken": "rejected",
        "exhibits--c-record": "complete",
        "d-notes": "complete",
        "e-photos": "complete",
    }
    assert documents["b-broken"]["error"].startswith("InvalidDocument")
    assert documents["exhibits--c-record"]["pages"] == 3
    # And the hidden file, the program and the drawing were skipped and counted, not fatal
    assert summary["hidden_skipped"] == 1 and summary["unsupported_skipped"] == 2
    # And some documents failed: exit status 1
    assert first.returncode == 1, first.stderr
    # And what was ingested is searchable under the folder's ids
    hits = json.loads(run(home, "search", "deposit paid", "--json", "--top-k", "1").stdout)
    assert hits[0]["document_id"] == "a-letter"
    # When the same command runs again
    second = run(home, "ingest", str(folder), "--json", check=False)
    documents, summary = _lines(second.stdout)
    # Then the complete documents are skipped, nothing is redone
    assert summary["already_complete"] == 4 and summary["complete"] == 4
    assert all(documents[name]["skipped"] for name in ("a-letter", "d-notes"))
    assert second.returncode == 1


def test_a_long_document_does_not_hold_up_the_short_ones(tmp_path: Path):
    # Given a folder whose first document is long (24 segments of 4 KiB) and two short ones
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "a-long.txt").write_text(
        "".join(f"Line {i} of the long transcript of the hearing.\n" for i in range(2000))
    )
    (folder / "b-short.txt").write_text("The deposit was paid on 3 March.\n")
    (folder / "c-short.md").write_text("# Notes\n\nThe hearing is on 12 May.\n")
    # When the folder is ingested on one worker
    one = run(
        tmp_path / "one", "ingest", str(folder), "--json", SEGMENT_BYTES="4096", DOCPROC_WORKERS="1"
    )
    documents, summary = _lines(one.stdout)
    # Then every document is complete, and the short ones were done first: segments are taken
    # from each document in turn, not one document after the other
    assert summary["complete"] == 3
    assert documents["a-long"]["segments_total"] >= 20
    assert list(documents) == ["b-short", "c-short", "a-long"]
    # When it is ingested again elsewhere on a pool of two workers shared by the documents
    two = run(
        tmp_path / "two", "ingest", str(folder), "--json", SEGMENT_BYTES="4096", DOCPROC_WORKERS="2"
    )
    pooled, summary = _lines(two.stdout)
    # Then the same documents are complete with the same chunks (which finishes first is the
    # workers' race), and the long one is searchable
    assert summary["complete"] == 3
    assert {k: v["chunks_total"] for k, v in pooled.items()} == {
        k: v["chunks_total"] for k, v in documents.items()
    }
    hits = json.loads(run(tmp_path / "two", "search", "Line 1999", "--json").stdout)
    assert hits[0]["document_id"] == "a-long"


def test_glob_picks_files_and_every_document_refused_is_exit_status_2(tmp_path: Path):
    home = tmp_path / "home"
    folder = _case_folder(tmp_path)
    # Only the PDFs: one good, one broken
    result = run(home, "ingest", str(folder), "--glob", "*.pdf", "--json", check=False)
    documents, _ = _lines(result.stdout)
    assert sorted(documents) == ["b-broken", "exhibits--c-record"]
    # Only the broken one: every document refused
    result = run(home, "ingest", str(folder), "--glob", "b-*", check=False)
    assert result.returncode == 2, result.stdout
    assert "b-broken: rejected" in result.stdout


def test_ids_that_clash_are_refused_before_anything_is_ingested(tmp_path: Path):
    home = tmp_path / "home"
    folder = tmp_path / "clash"
    folder.mkdir()
    (folder / "lease.txt").write_text("one\n")
    (folder / "lease.md").write_text("two\n")
    result = run(home, "ingest", str(folder), check=False)
    assert result.returncode == 2
    assert "lease.txt" in result.stderr and "lease.md" in result.stderr
    assert json.loads(run(home, "stats", "--json").stdout)["documents"] == 0


def test_a_folder_path_becomes_a_safe_document_id():
    assert folder_document_id(Path("contracts/2024/lease agreement.pdf")) == (
        "contracts--2024--lease-agreement"
    )
    assert folder_document_id(Path("notes.md")) == "notes"


def test_a_folders_segments_start_while_the_rest_of_it_is_planned(tmp_path: Path, monkeypatch):
    from contextlib import contextmanager

    from docproc.config import LocalSettings
    from docproc.local import folders
    from docproc.local.runner import LocalEnvironment

    # Given four one-segment documents of the same size and two workers
    paths = []
    for name in "abcd":
        paths.append(tmp_path / f"{name}.txt")
        paths[-1].write_text(f"Document {name} is about the deposit.\n" * 5)
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=2))
    events: list[tuple[str, object]] = []
    plan_upload, started_pool = folders.plan_upload, folders.started_pool
    start_workers_server = folders.start_workers_server

    def recorded_plan(env, path, *args):
        events.append(("plan", path.name))
        return plan_upload(env, path, *args)

    def recorded_server():
        events.append(("server", None))
        start_workers_server()

    class RecordedPool:
        def __init__(self, pool):
            self.pool = pool

        def submit(self, function, task_json):
            events.append(("run", json.loads(task_json)["document"]["document_id"]))
            return self.pool.submit(function, task_json)

    @contextmanager
    def recorded_pool(env, workers):
        events.append(("pool", workers))
        with started_pool(env, workers) as pool:
            yield RecordedPool(pool)

    monkeypatch.setattr(folders, "plan_upload", recorded_plan)
    monkeypatch.setattr(folders, "start_workers_server", recorded_server)
    monkeypatch.setattr(folders, "started_pool", recorded_pool)
    candidates = [folders.Candidate(p, p.stem, p.stat().st_size) for p in paths]
    # When the folder is ingested
    outcomes = list(folders.ingest_all(env, candidates, "local", "default"))
    # Then the workers' server started after the first document (the folder's bytes tell that
    # its four segments will want both workers), the pool once the second was planned, and
    # each later document's segment went to the workers as soon as it was planned
    assert events == [
        ("plan", "a.txt"),
        ("server", None),
        ("plan", "b.txt"),
        ("pool", 2),
        ("run", "a"),
        ("run", "b"),
        ("plan", "c.txt"),
        ("run", "c"),
        ("plan", "d.txt"),
        ("run", "d"),
    ]
    assert sorted((o.document_id, o.status, o.chunks_total) for o in outcomes) == [
        (name, "complete", 1) for name in "abcd"
    ]
    # And the same folder again, already ingested, starts no workers at all
    events.clear()
    again = list(folders.ingest_all(env, candidates, "local", "default"))
    env.close()
    assert events == [("plan", name) for name in ("a.txt", "b.txt", "c.txt", "d.txt")]
    assert all(outcome.skipped for outcome in again)
