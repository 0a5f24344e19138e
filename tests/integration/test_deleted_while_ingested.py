"""A document deleted while a version of it is ingested stays deleted: its segments and its
Finalize, running after the deletion, leave nothing behind and announce nothing, and the
same file ingested again afterwards is ingested whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.errors import ObjectNotFound
from docproc.local.runner import (
    LocalEnvironment,
    PlannedDocument,
    delete_local_document,
    finish_document,
    ingest,
    plan_upload,
    run_segments,
)
from docproc.models import PlanResult
from docproc.pipeline.delete import delete_document
from docproc.pipeline.finalize import finalize_document
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment

KEY = "uploads/acme/c-1/brief/brief.pdf"


def _planned(env: LocalEnvironment, pdf: Path) -> PlanResult:
    upload = env.store.put_upload(KEY, pdf)
    plan = plan_document(KEY, upload.version_id, env.store, env.ledger, env.plan_options())
    assert plan.first_task is not None
    return plan


def _left_behind(env: LocalEnvironment, plan: PlanResult) -> tuple[int, int, list[str]]:
    """The version's points (staged or not), segment rows and work/ objects."""
    ref = plan.document
    return (
        env.vectors.count("acme", "brief", ref.version),
        len(env.ledger.list_segments("acme", "brief", ref.version)),
        list(env.store.list_keys(ref.work_prefix)),
    )


@pytest.fixture
def env(tmp_path: Path):
    environment = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home"))
    yield environment
    environment.close()


def test_a_segment_that_finds_its_input_deleted_with_its_document_is_gone_not_failed(
    env: LocalEnvironment, tmp_path: Path
):
    # Given a planned version whose document (and upload) is deleted before its segment runs
    plan = _planned(env, text_pdf(tmp_path / "brief.pdf", pages=2))
    delete_local_document(env, "acme", "brief")
    # When the segment runs, then Finalize
    result = process_segment(plan.first_task, env.segment_deps(env.own_vectors()))
    final = finalize_document(plan, env.store, env.ledger, env.vectors, env.pricing)
    # Then the segment is gone (no failure recorded), Finalize announces nothing, and the
    # version left nothing behind
    assert (result.gone, result.chunks) == (True, 0)
    assert (final.outcome, final.publish) == ("deleted", False)
    assert env.ledger.get_document("acme", "brief") is None
    assert _left_behind(env, plan) == (0, 0, [])


def test_a_segment_whose_input_is_missing_while_its_document_exists_fails(
    env: LocalEnvironment, tmp_path: Path
):
    # Given a planned version whose upload's copy is gone, its document still in the ledger
    plan = _planned(env, text_pdf(tmp_path / "brief.pdf", pages=2))
    env.store.purge_uploads("uploads/acme/c-1/brief/")
    # When the segment runs, it fails typed, and its failure is recorded
    with pytest.raises(ObjectNotFound):
        process_segment(plan.first_task, env.segment_deps(env.own_vectors()))
    (record,) = env.ledger.list_segments("acme", "brief", plan.document.version)
    assert record.status == "failed" and "ObjectNotFound" in (record.error or "")


def test_a_version_done_before_the_deletion_is_not_brought_back_and_can_be_ingested_again(
    env: LocalEnvironment, tmp_path: Path
):
    # Given a version whose segment was done when its document was deleted as the cloud's
    # Delete does it (points, rows, work/; the upload's version stays in a versioned bucket)
    pdf = text_pdf(tmp_path / "brief.pdf", pages=2)
    plan = _planned(env, pdf)
    process_segment(plan.first_task, env.segment_deps(env.vectors))
    deletion = delete_document(
        "acme", "brief", env.store, env.ledger, env.vectors, env.notifier, lambda _: None
    )
    assert deletion.ledger_rows_deleted == 2
    # And the segment ran again afterwards (a retry): its points and row are written again
    process_segment(plan.first_task, env.segment_deps(env.vectors))
    assert _left_behind(env, plan)[:2] != (0, 0)
    # When Finalize runs
    final = finalize_document(plan, env.store, env.ledger, env.vectors, env.pricing)
    # Then nothing is published, and no point, row or work output of the version is left
    assert (final.outcome, final.publish) == ("deleted", False)
    assert env.ledger.get_document("acme", "brief") is None
    assert _left_behind(env, plan) == (0, 0, [])
    # And the same file ingested again is ingested whole, not skipped as done
    report = ingest(env, pdf, tenant_id="acme", case_id="c-1", document_id="brief")
    assert (report.status, report.segments_processed) == ("complete", 1)
    assert env.vectors.count("acme", "brief", report.version) == report.chunks_total > 0


def test_docproc_ingest_reports_a_document_deleted_before_it_finished(
    env: LocalEnvironment, tmp_path: Path
):
    # Given `docproc ingest` whose segments ran
    planned = plan_upload(env, text_pdf(tmp_path / "brief.pdf", pages=2), "acme", "c-1", "brief")
    assert isinstance(planned, PlannedDocument)
    results = run_segments(env, planned.tasks, workers=1)
    # When `docproc delete` (another process) deletes the document before it finishes
    delete_local_document(env, "acme", "brief")
    report = finish_document(env, planned, results)
    # Then the ingest reports it deleted, announces nothing, and leaves nothing behind
    assert report.status == "deleted"
    assert [event["detail-type"] for event in env.events.read()] == ["Document Deleted"]
    assert _left_behind(env, planned.plan) == (0, 0, [])
