"""At-least-once delivery and overlapping runs: one result, no duplicates, newest version wins."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.harness import DeployedStack


def _count(qdrant: QdrantClient, collection: str, document: str, version: str | None = None):
    must = [models.FieldCondition(key="document_id", match=models.MatchValue(value=document))]
    if version:
        must.append(models.FieldCondition(key="version", match=models.MatchValue(value=version)))
    return qdrant.count(collection, count_filter=models.Filter(must=must)).count


@pytest.mark.built_artifacts
def test_two_concurrent_executions_of_one_version(stack: DeployedStack, qdrant, generated):
    # Given the same upload event run by two executions at once (a redrive racing a retry)
    (event,) = stack.upload("uploads/acme/case-c/twin/a.pdf", generated["pdf_120"].read_bytes())
    first, second = stack.start(event), stack.start(event)
    # When both finish
    outcomes = [stack.wait(first)["status"], stack.wait(second)["status"]]
    # Then both end well, with one announcement and no duplicate points
    assert outcomes == ["SUCCEEDED", "SUCCEEDED"]
    (announced,) = stack.published()
    detail = announced["detail"]
    assert _count(qdrant, detail["collection"], "twin") == detail["chunks_total"]


@pytest.mark.built_artifacts
def test_an_overwrite_during_a_run_gets_its_own_run_and_wins(
    stack: DeployedStack, qdrant, generated
):
    key = "uploads/acme/case-c/moving/a.pdf"
    # Given a run of version 1 in progress when version 2 is uploaded
    (old,) = stack.upload(key, generated["pdf_300"].read_bytes())
    old_run = stack.start(event=old)
    (new,) = stack.upload(key, generated["pdf_120"].read_bytes())
    new_run = stack.start(event=new)
    # When both runs finish, each on the version it pinned
    assert stack.wait(old_run)["status"] == "SUCCEEDED"
    assert stack.wait(new_run)["status"] == "SUCCEEDED"
    # Then the newest version is the document: announced last, and the only points left
    announced = [e["detail"] for e in stack.published() if e["detail"]["document_id"] == "moving"]
    v1, v2 = old["detail"]["object"]["version-id"], new["detail"]["object"]["version-id"]
    assert announced and announced[-1]["version"] == v2
    collection = announced[-1]["collection"]
    assert _count(qdrant, collection, "moving", v1) == 0
    assert _count(qdrant, collection, "moving", v2) == announced[-1]["chunks_total"]
    items = {i["sk"]: i for i in stack.ledger_items() if i["pk"] == "DOC#acme#moving"}
    assert items["DOCUMENT"]["completed_version"] == v2
