"""Deleting an upload removes the document's points, outputs and ledger rows."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.harness import DeployedStack


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
