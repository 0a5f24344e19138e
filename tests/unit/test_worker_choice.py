"""How many worker processes the laptop runner starts for a document's segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from docproc.config import LocalSettings
from docproc.local.runner import LocalEnvironment
from docproc.models import PagesSegment, SegmentTask
from tests.builders import document_ref


def _pdf_tasks(segments: int, pages_each: int = 50) -> list[SegmentTask]:
    return [
        SegmentTask(
            document=document_ref(),
            segment=PagesSegment(
                index=index,
                page_start=index * pages_each + 1,
                page_end=(index + 1) * pages_each,
                input_key="uploads/acme/c1/d1/f.pdf",
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


def test_docproc_workers_overrides_the_choice_up_to_one_per_segment(
    tmp_path: Path, two_cores: None
):
    assert _env(tmp_path, workers=3).workers_for(_pdf_tasks(2)) == 2
    assert _env(tmp_path, workers=1).workers_for(_pdf_tasks(40)) == 1


def test_one_core_runs_everything_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("docproc.local.runner.os.cpu_count", lambda: 1)
    assert _env(tmp_path).workers_for(_pdf_tasks(40)) == 1
