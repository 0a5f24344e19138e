"""The command's glance at a PDF (docproc.local.workers.pool_expected, before it loads the
pipeline) against the runner's own choice once the document is copied in and planned: the
fork server starts early exactly when the runner will want a pool."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from benchmarks.generators import image_pdf, text_pdf
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


def test_the_command_copies_a_large_file_into_the_store_it_then_uses_before_its_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given a PDF larger than an early copy's threshold, and the command's home
    import docproc.local.__main__ as command
    from docproc.storage import local

    pdf = image_pdf(tmp_path / "scans.pdf", local.EARLY_COPY_FROM + 1_000_000, jpeg=True)
    copies: list[str] = []
    real = local._copy_upload

    def recorded(source: Path, staging: Path) -> local._Copy:
        copies.append(staging.name)
        return real(source, staging)

    monkeypatch.setattr(local, "_copy_upload", recorded)
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCPROC_WORKERS", "1")
    monkeypatch.setattr("sys.argv", ["docproc", "ingest", str(pdf), "--json"])
    # When `docproc ingest FILE` runs
    try:
        assert command.main() == 0
    finally:
        gc.unfreeze()  # what the command froze for its exit: this process goes on
    # Then the file was copied once, by the copy begun before the imports, into the store the
    # runner used (the glance and the settings agree on where it is)
    assert copies == [f".incoming-{os.getpid()}-early"]
    versions = tmp_path / "home" / "objects" / ".versions"
    assert [path.name for path in versions.iterdir()] != []
    assert list(versions.glob(".incoming*")) == []
