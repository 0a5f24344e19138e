"""A changed document replaces the old one: searches see the old version until Finalize, then
only the new one. (Qdrant applies Finalize's one batch request in order, not atomically: a
search during the request itself may see both; README, Versions.)"""

from __future__ import annotations

from pathlib import Path

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings
from docproc.local.runner import LocalEnvironment, ingest
from docproc.pipeline.finalize import finalize_document
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment


def _versions_seen(env: LocalEnvironment) -> set[str]:
    vector = env.embedder.embed(["Marker phrase for page number 2 of the record"])[0]
    hits = env.vectors.search(vector, "acme", document_id="contract", limit=100)
    return {hit.payload["version"] for hit in hits}


def test_a_reingest_is_invisible_until_finalize_then_replaces_the_old_version(tmp_path: Path):
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    first = text_pdf(tmp_path / "v1.pdf", pages=4, seed=1)
    second = text_pdf(tmp_path / "v2.pdf", pages=4, seed=2)
    v1 = ingest(env, first, tenant_id="acme", document_id="contract").version
    assert _versions_seen(env) == {v1}

    # When a changed file is planned and its segments processed (not yet finalized)
    key = "uploads/acme/default/contract/v1.pdf"
    upload = env.store.put_upload(key, second)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    deps = env.segment_deps(env.vectors)
    process_segment(plan.first_task, deps)
    # Then searches still see only the old version
    assert _versions_seen(env) == {v1}

    # When it is finalized, searches see only the new one, and the old points are gone
    finalize_document(plan, env.store, env.ledger, env.vectors, env.pricing)
    assert _versions_seen(env) == {plan.document.version}
    assert env.vectors.count("acme", "contract", v1) == 0
    env.close()


def test_same_content_as_a_new_upload_is_a_no_op(tmp_path: Path):
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    pdf = text_pdf(tmp_path / "a.pdf", pages=2)
    copy = tmp_path / "renamed.pdf"
    copy.write_bytes(pdf.read_bytes())
    ingest(env, pdf, tenant_id="acme", document_id="same")
    again = ingest(env, copy, tenant_id="acme", document_id="same")
    assert again.segments_processed == 0 and again.status == "complete"
    env.close()


def test_two_tenants_with_the_same_ids_never_see_each_other(tmp_path: Path):
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    alpha = text_pdf(tmp_path / "alpha.pdf", pages=2, seed=1)
    beta = text_pdf(tmp_path / "beta.pdf", pages=2, seed=2)
    ingest(env, alpha, tenant_id="alpha", case_id="c", document_id="doc")
    ingest(env, beta, tenant_id="beta", case_id="c", document_id="doc")
    vector = env.embedder.embed(["Marker phrase for page number 1"])[0]
    for tenant in ("alpha", "beta"):
        hits = env.vectors.search(vector, tenant, limit=50)
        assert hits and {hit.payload["tenant_id"] for hit in hits} == {tenant}
    assert env.vectors.count("alpha", "doc") and env.vectors.count("beta", "doc")
    env.close()
