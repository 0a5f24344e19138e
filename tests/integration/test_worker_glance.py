"""The command's glance at a PDF (docproc.local.workers.pool_expected, before it loads the
pipeline) against the runner's own choice once the document is copied in and planned: the
fork server starts early exactly when the runner will want a pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.local.runner import LocalEnvironment, PlannedDocument, plan_upload
from docproc.local.workers import pool_expected


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    # Around the runner's threshold on 2 cores (~1,500 pages) and on 4 (~820)
    folder = tmp_path_factory.mktemp("pdfs")
    return [
        text_pdf(folder / f"pages-{pages}.pdf", pages=pages, lines_per_page=3)
        for pages in (800, 1050, 1600)
    ]


@pytest.mark.parametrize("cores", [2, 4])
def test_the_glance_expects_a_pool_when_the_runner_chooses_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdfs: list[Path], cores: int
):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home"))
    choices = {}
    for pdf in pdfs:
        # Given text PDFs on both sides of the runner's threshold
        # When the runner plans each, as `docproc ingest` does
        planned = plan_upload(env, pdf)
        assert isinstance(planned, PlannedDocument)
        pooled = env.workers_for(planned.tasks) > 1
        choices[pdf.name] = pooled
        # Then the glance before the command's imports made the same call
        assert pool_expected(["ingest", str(pdf)], {}, cores) == pooled, pdf.name
    env.close()
    # And both sides of the threshold were tried
    assert set(choices.values()) == {True, False}, choices
