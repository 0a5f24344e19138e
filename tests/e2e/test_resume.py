"""A failed segment fails the execution, is named in the failure event, and is the only work a
re-run does; the final point set equals a clean run's.

The embedder is the real openai client (its key in Secrets Manager) against a loopback server
that refuses one segment's request, so the failure comes from outside the functions and the
same tests run on the built artifacts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import boto3
import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.conftest import StackFactory
from tests.e2e.harness import BUCKET, REGION, DeployedStack
from tests.stub_openai import Scripted, StubOpenAI, stub_openai

KEY = "uploads/acme/case-9/resumable/record.pdf"
FAILING_PAGE_MARKER = "Marker phrase for page number 151 "  # first page of segment 3
API_KEY = "sk-e2e-resume"


@pytest.fixture
def openai() -> Iterator[StubOpenAI]:
    with stub_openai() as stub:
        yield stub


@pytest.fixture
def openai_stack(stack_factory: StackFactory, openai: StubOpenAI) -> Iterator[DeployedStack]:
    """The stack with EMBEDDER=openai: the stub server, the key read from Secrets Manager.
    The client does not retry in the invocation: a 5xx is the state machine's to retry."""
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="openai-key", SecretString=API_KEY
    )["ARN"]
    stack = stack_factory(
        function_environment={"OPENAI_MAX_RETRIES": "0"},
        Embedder="openai",
        OpenAIBaseUrl=openai.url,
        OpenAIApiKeySecretArn=arn,
        EmbeddingDimensions="64",
    )
    with stack.lambdas():
        yield stack


def _embedded(openai: StubOpenAI) -> list[str]:
    return [text for request in openai.requests for text in request["input"]]


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


@pytest.mark.built_artifacts
def test_failed_segment_is_reported_and_alone_redone(
    openai_stack: DeployedStack, openai: StubOpenAI, qdrant: QdrantClient, generated
):
    stack = openai_stack
    # Given a 6-segment PDF whose segment 3 the embeddings API refuses once (401: not retried)
    openai.script.append(Scripted(401, when_input_contains=FAILING_PAGE_MARKER))
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
    assert detail["version"] == event["detail"]["object"]["version-id"]
    assert [s["segment"] for s in detail["failed_segments"]] == [3]
    assert "PermanentDependencyError" in detail["failed_segments"][0]["error"]
    assert detail["segments_total"] == 6 and detail["execution_arn"] == failed["executionArn"]
    assert "redrive" in detail["resume_hint"]
    assert _embedded(openai), "the other segments were embedded"
    # and every request carried the key from Secrets Manager
    assert {request["authorization"] for request in openai.requests} == {f"Bearer {API_KEY}"}

    # When the execution is redriven (the same input again)
    openai.requests.clear()
    resumed = stack.rerun(event)

    # Then it succeeds and only segment 3 was embedded again
    assert resumed["status"] == "SUCCEEDED", resumed.get("cause")
    redone = _embedded(openai)
    assert redone, "segment 3 was redone"
    assert all(any(f"page number {page} " in text for page in range(151, 201)) for text in redone)
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


@pytest.mark.built_artifacts
def test_a_completed_version_is_not_redone(
    openai_stack: DeployedStack, openai: StubOpenAI, generated
):
    stack = openai_stack
    # Given a document that was ingested
    (event,) = stack.upload(
        "uploads/acme/case-9/twice/record.pdf", generated["pdf_120"].read_bytes()
    )
    assert stack.run(event)["status"] == "SUCCEEDED"
    stack.published()
    stack.invocations.clear()
    openai.requests.clear()

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
    assert openai.requests == []
    assert stack.published() == []


@pytest.mark.built_artifacts
def test_a_transient_failure_is_retried_by_the_state_machine(
    openai_stack: DeployedStack, openai: StubOpenAI, generated
):
    stack = openai_stack
    # Given the embeddings API failing once (503) for segment 3 of a 6-segment PDF
    openai.script.append(Scripted(503, when_input_contains=FAILING_PAGE_MARKER))
    (event,) = stack.upload(
        "uploads/acme/case-9/retried/record.pdf", generated["pdf_300"].read_bytes()
    )
    # When it is ingested
    execution = stack.run(event)
    # Then ProcessSegment raised TransientError for segment 3, the definition's Retry ran it
    # again, and the execution succeeded without a redrive
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    attempts = [
        payload["segment"]["index"]
        for name, payload in stack.invocations
        if name == "ProcessSegmentFunction"
    ]
    assert sorted(attempts) == [0, 1, 2, 3, 3, 4, 5]
    (row,) = [i for i in stack.ledger_items() if i["sk"].endswith("#00003")]
    assert row["status"] == "done" and int(row["attempts"]) == 2
