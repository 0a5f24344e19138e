"""Finalize run again for a version it completed: by the execution that completed it (a
redrive of that execution, or a retry whose first answer was lost) and by a concurrent one."""

from __future__ import annotations

from pathlib import Path

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.local.runner import LocalEnvironment
from docproc.models import FinalizeResult, PlanResult
from docproc.pipeline.finalize import finalize_document
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment

KEY = "uploads/acme/default/contract/contract.pdf"
FIRST = "arn:aws:states:us-east-1:123456789012:execution:docproc-ingest:first"
TWIN = "arn:aws:states:us-east-1:123456789012:execution:docproc-ingest:twin"
NEWER = "arn:aws:states:us-east-1:123456789012:execution:docproc-ingest:newer"


def _environment(tmp_path: Path) -> LocalEnvironment:
    return LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))


def _processed(env: LocalEnvironment, pdf: Path, execution_arn: str) -> PlanResult:
    """An upload of ``pdf`` planned by ``execution_arn``, its one segment processed."""
    upload = env.store.put_upload(KEY, pdf)
    plan = plan_document(
        KEY, upload.version_id, env.store, env.ledger, env.plan_options(), execution_arn
    )
    assert plan.first_task is not None
    process_segment(plan.first_task, env.segment_deps(env.vectors))
    return plan


def _finalize(env: LocalEnvironment, plan: PlanResult, execution_arn: str) -> FinalizeResult:
    run = plan.model_copy(update={"execution_arn": execution_arn})
    return finalize_document(run, env.store, env.ledger, env.vectors, env.pricing)


def test_the_execution_that_completed_a_version_announces_it_again(tmp_path: Path):
    env = _environment(tmp_path)
    # Given execution "first" whose Finalize completed a version (its answer then lost)
    plan = _processed(env, text_pdf(tmp_path / "v1.pdf", pages=2, seed=1), FIRST)
    completed = _finalize(env, plan, FIRST)
    assert (completed.outcome, completed.publish) == ("completed", True)
    # When the same execution runs Finalize again (a redrive re-runs the failed state)
    again = _finalize(env, plan, FIRST)
    # Then it announces the version again, with the summary the first run wrote
    assert (again.outcome, again.publish) == ("completed", True)
    assert again.summary == completed.summary
    # And a concurrent execution of the same version announces nothing
    twin = _finalize(env, plan, TWIN)
    assert (twin.outcome, twin.publish) == ("already_completed", False)
    env.close()


def test_a_completed_version_stays_searchable_when_its_finalize_runs_after_a_newer_upload(
    tmp_path: Path,
):
    env = _environment(tmp_path)
    # Given version 1 completed by execution "first", then version 2 uploaded and planned
    v1 = _processed(env, text_pdf(tmp_path / "v1.pdf", pages=2, seed=1), FIRST)
    chunks = _finalize(env, v1, FIRST).summary.chunks_total
    v2 = _processed(env, text_pdf(tmp_path / "v2.pdf", pages=2, seed=2), NEWER)
    version_1 = v1.document.version
    # When version 1's Finalize runs again, by its execution or a concurrent one
    again, twin = _finalize(env, v1, FIRST), _finalize(env, v1, TWIN)
    # Then version 1 is not retired: searches keep it until version 2 completes
    assert (again.outcome, twin.outcome) == ("completed", "already_completed")
    assert env.vectors.count("acme", "contract", version_1) == chunks
    # And once version 2 completes, it replaces version 1
    assert _finalize(env, v2, NEWER).outcome == "completed"
    assert env.vectors.count("acme", "contract", version_1) == 0
    env.close()
