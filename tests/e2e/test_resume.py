"""A failed segment fails the execution, is named in the failure event, and is the only work a
re-run does; the final point set equals a clean run's."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence

import pytest
from qdrant_client import QdrantClient, models

from docproc.embedding.port import Embedder
from docproc.errors import PermanentDependencyError
from tests.e2e.harness import BUCKET, DeployedStack

KEY = "uploads/acme/case-9/resumable/record.pdf"
FAILING_PAGE_MARKER = "Marker phrase for page number 151 "  # first page of segment 3


class RecordingEmbedder:
    """Delegates to the real embedder; records which texts were embedded; can fail once."""

    def __init__(self, inner: Embedder, fail_on: str | None) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.embedded: list[str] = []

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.fail_on and any(self.fail_on in text for text in texts):
            self.fail_on = None
            raise PermanentDependencyError("injected failure")
        self.embedded.extend(texts)
        return self.inner.embed(texts)


def _install_embedder(stack: DeployedStack, monkeypatch: pytest.MonkeyPatch, fail_on: str | None):
    module = stack.modules["ProcessSegmentFunction"]
    real = module.dependencies()
    recording = RecordingEmbedder(real.embedder, fail_on)
    patched = dataclasses.replace(real, embedder=recording)
    monkeypatch.setattr(module, "dependencies", lambda: patched)
    return recording


def _point_set(qdrant: QdrantClient, collection: str) -> dict[str, str]:
    points, _ = qdrant.scroll(
        collection,
        scroll_filter=models.Filter(
            must=[
                models.FieldCondition(key="document_id", match=models.MatchValue(value="resumable"))
            ]
        ),
        limit=100_000,
        with_payload=True,
    )
    return {
        str(p.id): hashlib.sha256(json.dumps(p.payload, sort_keys=True).encode()).hexdigest()
        for p in points
    }


def test_failed_segment_is_reported_and_alone_redone(
    stack: DeployedStack, qdrant: QdrantClient, generated, monkeypatch: pytest.MonkeyPatch
):
    # Given a 6-segment PDF whose segment 3 fails once with a non-retryable error
    recording = _install_embedder(stack, monkeypatch, FAILING_PAGE_MARKER)
    (event,) = stack.upload(KEY, generated["pdf_300"].read_bytes())

    # When it is ingested
    failed = stack.run(event)

    # Then the execution fails (no Catch swallows it) ...
    assert failed["status"] == "FAILED"
    # ... the failure event names the segment, with a resume hint
    (result,) = stack.deliver_status_change(failed)
    assert result["published"] is True
    published = stack.published()
    assert [e["detail-type"] for e in published] == ["Document Ingestion Failed"]
    detail = published[0]["detail"]
    assert detail["document_id"] == "resumable" and detail["tenant_id"] == "acme"
    assert [s["segment"] for s in detail["failed_segments"]] == [3]
    assert "PermanentDependencyError" in detail["failed_segments"][0]["error"]
    assert detail["segments_total"] == 6 and detail["execution_arn"] == failed["executionArn"]
    assert "redrive" in detail["resume_hint"]
    first_run_texts = len(recording.embedded)
    assert first_run_texts > 0

    # When the execution is redriven (the same input again)
    recording.embedded.clear()
    resumed = stack.rerun(event)

    # Then it succeeds and only segment 3 was embedded again
    assert resumed["status"] == "SUCCEEDED", resumed.get("cause")
    assert recording.embedded, "segment 3 was redone"
    assert all(
        any(f"page number {page} " in text for page in range(151, 201))
        for text in recording.embedded
    )
    assert [e["detail-type"] for e in stack.published()] == ["Document Ingested"]
    summary = json.loads(
        stack.s3.get_object(
            Bucket=BUCKET,
            Key=next(
                k for k in stack.object_keys("work/acme/resumable/") if k.endswith("document.json")
            ),
        )["Body"].read()
    )
    resumed_points = _point_set(qdrant, summary["collection"])
    assert len(resumed_points) == summary["chunks_total"]

    # And a clean run of the same version produces exactly the same points
    qdrant.delete(
        summary["collection"],
        points_selector=models.FilterSelector(
            filter=models.Filter(
                must=[
                    models.FieldCondition(
                        key="document_id", match=models.MatchValue(value="resumable")
                    )
                ]
            )
        ),
    )
    table = stack.dynamodb.Table("docproc-e2e-ledger")
    for item in stack.ledger_items():
        table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    for key in stack.object_keys("work/acme/resumable/"):
        stack.s3.delete_object(Bucket=BUCKET, Key=key)
    clean = stack.rerun(event)
    assert clean["status"] == "SUCCEEDED"
    assert _point_set(qdrant, summary["collection"]) == resumed_points


def test_a_completed_version_is_not_redone(stack: DeployedStack, generated, monkeypatch):
    # Given a document that was ingested
    recording = _install_embedder(stack, monkeypatch, None)
    (event,) = stack.upload(
        "uploads/acme/case-9/twice/record.pdf", generated["pdf_120"].read_bytes()
    )
    assert stack.run(event)["status"] == "SUCCEEDED"
    stack.published()
    stack.invocations.clear()
    recording.embedded.clear()

    # When the same S3 event is delivered again, Start refuses a second execution
    assert stack.deliver(event)["duplicate"] is True
    assert [name for name, _ in stack.invocations] == ["StartFunction"]
    stack.invocations.clear()

    # And an execution of that version run anyway (a redrive) stops at Plan: no segment
    # work and no second event
    again = stack.rerun(event)
    assert again["status"] == "SUCCEEDED"
    assert json.loads(again["output"])["status"] == "already_ingested"
    assert [name for name, _ in stack.invocations] == ["PlanFunction"]
    assert recording.embedded == []
    assert stack.published() == []
