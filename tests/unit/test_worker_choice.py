"""How many worker processes the laptop runner starts for a document's segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from docproc.config import LocalSettings, SegmentingSettings
from docproc.local.runner import LocalEnvironment
from docproc.local.workers import DEFAULT_SEGMENT_PAGES, pool_expected
from docproc.models import PagesSegment, SegmentTask
from tests.builders import document_ref


def _pdf_tasks(segments: int, pages_each: int = 50, scanned: bool = False) -> list[SegmentTask]:
    return [
        SegmentTask(
            document=document_ref(),
            segment=PagesSegment(
                index=index,
                page_start=index * pages_each + 1,
                page_end=(index + 1) * pages_each,
                input_key="uploads/acme/c1/d1/f.pdf",
                scanned_pages=pages_each if scanned else 0,
            ),
        )
        for index in range(segments)
    ]


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("docproc.local.runner.os.cpu_count", lambda: 2)


def _env(tmp_path: Path, workers: int = 0) -> LocalEnvironment:
    return LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path, DOCPROC_WORKERS=workers))


def test_a_long_document_gets_every_core(tmp_path: Path, two_cores: None):
    # Given 2,000 pages (40 segments): ~4.4 s of one core's work
    # Then both cores: half of it saves more than a worker's start-up costs
    assert _env(tmp_path).workers_for(_pdf_tasks(40)) == 2


def test_a_document_that_would_not_repay_a_pool_runs_in_this_process(
    tmp_path: Path, two_cores: None
):
    # Given 1,050 pages (21 segments, like the benchmark's 1,009-page JPEG PDF): ~2.3 s of one
    # core's work, of which a second core would save ~1.2 s while starting it costs ~1 s
    assert _env(tmp_path).workers_for(_pdf_tasks(21)) == 1
    # And one segment never starts a pool
    assert _env(tmp_path).workers_for(_pdf_tasks(1, pages_each=5000)) == 1


def test_scans_get_every_core_where_as_many_text_pages_would_not(tmp_path: Path, two_cores: None):
    # Given 60 pages in 6 segments: as text, a fraction of a second's work
    assert _env(tmp_path).workers_for(_pdf_tasks(6, pages_each=10)) == 1
    # When Plan guessed they are scans, each OCR'd in about half a second
    # Then both cores (before: one, as if they were text: 3.3 s instead of 2.2 s for 60 small
    # scans, twice the time for letter pages)
    assert _env(tmp_path).workers_for(_pdf_tasks(6, pages_each=10, scanned=True)) == 2


def test_docproc_workers_overrides_the_choice_up_to_one_per_segment(
    tmp_path: Path, two_cores: None
):
    assert _env(tmp_path, workers=3).workers_for(_pdf_tasks(2)) == 2
    assert _env(tmp_path, workers=1).workers_for(_pdf_tasks(40)) == 1


def test_one_core_runs_everything_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("docproc.local.runner.os.cpu_count", lambda: 1)
    assert _env(tmp_path).workers_for(_pdf_tasks(40)) == 1


# --- the command's glance before it loads the pipeline (docproc.local.workers) ---------------


def _blank_pdf(path: Path, pages: int) -> Path:
    import pymupdf

    document = pymupdf.open()
    for _ in range(pages):
        document.new_page()
    document.save(path)
    document.close()
    return path


def _expected(arguments: list[str], cores: int = 2, **environ: str) -> bool:
    return pool_expected(arguments, environ, cores)


def test_a_pdf_whose_pages_want_a_pool_starts_the_workers_server_before_the_imports(
    tmp_path: Path,
):
    # Given a 2,000-page PDF (~4.4 s of one core's work: the runner gives it both cores) and one
    # of 1,050 pages (which the runner keeps in its own process)
    long = _blank_pdf(tmp_path / "long.pdf", 2000)
    shorter = _blank_pdf(tmp_path / "shorter.pdf", 1050)
    # Then the command expects a pool for the first alone, whatever options come with it
    assert _expected(["ingest", str(long)])
    assert _expected(["ingest", "--tenant", "acme", str(long), "--json"])
    assert not _expected(["ingest", str(shorter)])
    # And on more cores, the shorter one repays a pool too (as the runner decides)
    assert _expected(["ingest", str(shorter)], cores=4)


def test_the_glance_follows_docproc_workers_and_the_segments_it_allows(tmp_path: Path):
    pdf = _blank_pdf(tmp_path / "sixty.pdf", 60)
    # Given DOCPROC_WORKERS=2: a pool whenever there are two segments to share
    assert _expected(["ingest", str(pdf)], DOCPROC_WORKERS="2")
    assert not _expected(["ingest", str(pdf)], DOCPROC_WORKERS="2", SEGMENT_PAGES="60")
    # And never with one worker, or one core
    long = _blank_pdf(tmp_path / "long.pdf", 2000)
    assert not _expected(["ingest", str(long)], DOCPROC_WORKERS="1")
    assert not _expected(["ingest", str(long)], cores=1)
    # And a setting the command will refuse is left for it to report
    assert not _expected(["ingest", str(long)], DOCPROC_WORKERS="many")


def test_several_documents_are_left_to_the_runner(tmp_path: Path):
    # Given 2,000 pages in a folder, and in two files named together
    folder = tmp_path / "records"
    folder.mkdir()
    first = _blank_pdf(folder / "a.pdf", 1000)
    second = _blank_pdf(folder / "b.pdf", 1000)
    # Then the glance leaves them to the runner, which starts the workers' server as it plans
    # them (docproc.local.folders): opening every file of a large folder first would delay the
    # command for nothing when they do not add up to a pool
    assert not _expected(["ingest", str(folder)])
    assert not _expected(["ingest", str(first), str(second)])
    # While one of those files of 2,000 pages is expected to want a pool, unless files are
    # chosen by a pattern (the command's own selection, as for a folder)
    long = _blank_pdf(folder / "long.pdf", 2000)
    assert _expected(["ingest", str(long)])
    assert not _expected(["ingest", str(long), "--glob", "*.pdf"])


def test_what_is_not_a_readable_pdf_is_left_to_the_runner(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("The deposit is due on signing.\n" * 1000)
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 1000)
    # Then neither a text file nor a PDF MuPDF cannot open is expected to need a pool, and
    # the glance raises nothing (the command reports what is wrong with them)
    assert not _expected(["ingest", str(text)])
    assert not _expected(["ingest", str(damaged)])
    assert not _expected(["ingest", str(tmp_path / "missing.pdf")])
    # And commands other than ingest are not looked at
    assert not _expected(["search", str(_blank_pdf(tmp_path / "long.pdf", 2000))])


def test_the_glance_and_the_settings_agree_on_a_segments_pages():
    assert SegmentingSettings.model_fields["segment_pages"].default == DEFAULT_SEGMENT_PAGES


def test_the_command_and_the_settings_agree_on_the_default_home():
    from docproc.config import LocalSettings
    from docproc.local.__main__ import DEFAULT_HOME

    assert LocalSettings.model_fields["home"].default == Path(DEFAULT_HOME)
