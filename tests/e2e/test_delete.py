"""Deleting an upload removes the document's points, outputs and ledger rows."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.harness import DeployedStack
from tests.e2e.iam import as_the_test


def document_points(qdrant: QdrantClient, collection: str, document_id: str) -> int:
    return qdrant.count(
        collection,
        count_filter=models.Filter(
            must=[
                models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id))
            ]
        ),
    ).count


@pytest.mark.built_artifacts
def test_deleting_the_upload_deletes_the_document(stack: DeployedStack, qdrant, generated):
    # Given two ingested documents of one case
    keep = "uploads/acme/case-d/keep/a.pdf"
    gone = "uploads/acme/case-d/gone/b.pdf"
    for key in (keep, gone):
        (event,) = stack.upload(key, generated["pdf_120"].read_bytes())
        assert stack.run(event)["status"] == "SUCCEEDED"
    collection = stack.published()[0]["detail"]["collection"]
    assert document_points(qdrant, collection, "gone") > 0

    # When one upload is deleted
    (result,) = stack.delete(gone)

    # Then its points, work outputs and ledger rows are gone, and the app is told
    assert result["skipped"] is False and result["ledger_rows_deleted"] == 4
    assert document_points(qdrant, collection, "gone") == 0
    assert stack.object_keys("work/acme/gone/") == []
    assert not [i for i in stack.ledger_items() if i["pk"] == "DOC#acme#gone"]
    (event,) = stack.published()
    assert event["detail-type"] == "Document Deleted"
    assert event["detail"]["document_id"] == "gone" and event["detail"]["case_id"] == "case-d"
    # And the other document is untouched
    assert document_points(qdrant, collection, "keep") > 0
    assert stack.object_keys("work/acme/keep/")


@pytest.mark.built_artifacts
def test_deleting_an_old_version_keeps_the_document(stack: DeployedStack, qdrant, generated):
    key = "uploads/acme/case-d/versioned/a.pdf"
    (event,) = stack.upload(key, generated["pdf_3"].read_bytes())
    assert stack.run(event)["status"] == "SUCCEEDED"
    old_version = event["detail"]["object"]["version-id"]
    stack.upload(key, generated["pdf_3"].read_bytes())  # a newer version, not run
    stack.published()
    # Permanently deleting a non-current version emits Object Deleted for the key
    (result,) = stack.delete(key, version_id=old_version)
    assert result["skipped"] is True
    assert stack.object_keys("work/acme/versioned/")


@pytest.mark.parametrize(
    ("name", "before"),
    [
        ("a.pdf", "ProcessSegmentFunction"),
        ("a.pdf", "FinalizeFunction"),
        ("a.txt", "ProcessSegmentFunction"),
    ],
)
def test_an_upload_deleted_while_it_is_ingested_stays_deleted(
    stack: DeployedStack, qdrant, generated, monkeypatch, name, before
):
    # Given an upload whose ingest runs: a PDF of three segments (each reads its sub-PDF), or
    # a text of one (which reads the upload's version, kept after the deletion)
    key = f"uploads/acme/case-d/brief/{name}"
    body = generated["pdf_120"].read_bytes() if name.endswith(".pdf") else b"A brief.\n" * 50
    (event,) = stack.upload(key, body)
    # And the upload is deleted (and Delete runs) just before the first segment, or Finalize
    invoke, deleted, once = stack.runtime.invoke, [], threading.RLock()

    def deleting_first(function: str, payload: dict) -> Any:
        with once:  # the Map's segments start at once; Delete's own invocation comes here
            if function == before and not deleted:
                with as_the_test():
                    deleted.extend(stack.delete(key))
        return invoke(function, payload)

    monkeypatch.setattr(stack.runtime, "invoke", deleting_first)
    execution = stack.run(event)
    # Then the ingest ends without bringing it back: no point, no ledger row, no work output
    # written before or after the deletion, and the application hears only of the deletion
    assert deleted and deleted[0]["skipped"] is False
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    for collection in qdrant.get_collections().collections:
        assert document_points(qdrant, collection.name, "brief") == 0
    assert not [i for i in stack.ledger_items() if i["pk"] == "DOC#acme#brief"]
    assert stack.object_keys("work/acme/brief/") == []
    assert [e["detail-type"] for e in stack.published()] == ["Document Deleted"]
