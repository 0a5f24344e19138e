"""How often the laptop runner opens a paged upload: its plan and the segments it reads in its
own process share one opening (a small file's warm ingest paid ~0.7 ms for the second), and
nothing stays open once the pages are read or other processes read them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.extract import pdf as pdf_module
from docproc.local.runner import LocalEnvironment, ingest


@pytest.fixture
def openings(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file MuPDF is asked to open, in order (the real opening still runs)."""
    opened: list[Path] = []
    real = pdf_module.opened_document

    def counted(path: Path, filetype: str = "pdf"):  # type: ignore[no-untyped-def]
        opened.append(path)
        return real(path, filetype)

    monkeypatch.setattr(pdf_module, "opened_document", counted)
    return opened


@pytest.fixture
def one_worker(tmp_path: Path) -> Iterator[LocalEnvironment]:
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    yield env
    env.close()


def test_a_small_pdf_is_opened_once_for_its_plan_and_its_segment(
    tmp_path: Path, one_worker: LocalEnvironment, openings: list[Path]
):
    # Given a 3-page PDF and the runner on one worker (its segment runs in this process)
    pdf = text_pdf(tmp_path / "memo.pdf", pages=3)
    # When it is ingested
    report = ingest(one_worker, pdf, document_id="memo")
    # Then the upload was opened once, and every page was read from that opening
    assert report.status == "complete" and report.pages == 3
    assert len(openings) == 1
    # and it was closed once its last page was read
    assert one_worker.documents is not None and not one_worker.documents.kept_open


def test_a_pdf_planned_into_many_segments_on_one_worker_is_opened_once(
    tmp_path: Path, openings: list[Path]
):
    # Given a PDF of three segments, read one after another in this process; OCR off (on, the
    # plan of a PDF longer than a scanned segment looks at its pages in an opening of its own)
    pdf = text_pdf(tmp_path / "brief.pdf", pages=120)
    settings = LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, OCR="off")
    env = LocalEnvironment(settings)
    # When it is ingested
    try:
        report = ingest(env, pdf, document_id="brief")
    finally:
        env.close()
    # Then the plan's opening served every segment
    assert report.status == "complete" and report.segments_total == 3
    assert len(openings) == 1


def test_the_runner_closes_the_plans_opening_before_other_processes_read_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given the runner on two workers, and a PDF of several segments
    from docproc.local import runner

    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=2))
    pdf = text_pdf(tmp_path / "record.pdf", pages=120)
    kept_open_when_the_pool_started: list[bool] = []
    real_pool = runner._worker_pool

    def pool(environment: LocalEnvironment, workers: int):  # type: ignore[no-untyped-def]
        assert environment.documents is not None
        kept_open_when_the_pool_started.append(environment.documents.kept_open)
        return real_pool(environment, workers)

    monkeypatch.setattr(runner, "_worker_pool", pool)
    try:
        # When it is ingested
        report = ingest(env, pdf, document_id="record")
    finally:
        env.close()
    # Then its pages were read by the pool, and the runner held no opening of it meanwhile
    assert report.status == "complete" and report.segments_total == 3
    assert kept_open_when_the_pool_started == [False]
