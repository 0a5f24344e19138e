"""NotifyFailure reports and marks the failed execution's own version, on DynamoDB and SQLite.

The version comes from the execution's input (the S3 event Start handed on), never from the
ledger's current row, which by then may belong to a newer upload or say the version completed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from docproc.ledger.dynamodb import DynamoDBLedger
from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import ExecutionStatusChangeEvent
from docproc.pipeline.notify_failure import notify_failure
from tests.builders import document_ref, document_summary, segment_record

OLD, NEW = document_ref(version="v1"), document_ref(version="v2")


class RecordingNotifier:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((detail_type, detail))


def _failed_execution(
    version: str, error: str = "SegmentsIncomplete"
) -> ExecutionStatusChangeEvent:
    upload = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": {
            "bucket": {"name": "b"},
            "object": {"key": OLD.source_key, "size": 10, "etag": "e", "version-id": version},
        },
    }
    return ExecutionStatusChangeEvent.model_validate(
        {
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "detail": {
                "executionArn": f"arn:aws:states:us-east-1:1:execution:docproc-ingest:{version}",
                "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:docproc-ingest",
                "name": version,
                "status": "FAILED",
                "input": json.dumps(upload),
                "error": error,
                "cause": "...",
            },
        }
    )


def test_an_older_run_failing_leaves_the_newer_version_alone(ledger: Ledger):
    # Given version 1 with a failed segment, then version 2 uploaded and running
    ledger.start_document(OLD, 3)
    ledger.mark_segment_done("acme", "d1", "v1", segment_record(0))
    ledger.mark_segment_failed("acme", "d1", "v1", 1, "PermanentDependencyError: 401")
    ledger.start_document(NEW, 5)
    ledger.mark_segment_done("acme", "d1", "v2", segment_record(0))
    notifier = RecordingNotifier()

    # When version 1's execution fails
    result = notify_failure(_failed_execution("v1"), ledger, notifier)

    # Then version 2 is still processing, and the event is about version 1 and its segments
    row = ledger.get_document("acme", "d1")
    assert (row.version, row.status) == ("v2", "processing")
    detail = result.detail
    assert (detail.version, detail.document_status) == ("v1", "superseded")
    assert detail.segments_done == 1
    assert [(s.segment, s.error) for s in detail.failed_segments] == [
        (1, "PermanentDependencyError: 401")
    ]
    assert detail.segments_total is None  # the row's total is version 2's
    assert [kind for kind, _ in notifier.published] == ["Document Ingestion Failed"]


def test_a_run_failing_after_finalize_leaves_the_document_complete(ledger: Ledger):
    # Given a version that completed (Finalize ran), whose execution then failed publishing
    ledger.start_document(OLD, 1)
    ledger.mark_segment_done("acme", "d1", "v1", segment_record(0))
    ledger.complete_document(OLD, document_summary(OLD, segments_total=1, chunks_total=2))

    # When NotifyFailure hears of the failed execution
    result = notify_failure(
        _failed_execution("v1", error="States.TaskFailed"), ledger, RecordingNotifier()
    )

    # Then the document stays complete and searchable, and the event says so
    row = ledger.get_document("acme", "d1")
    assert (row.status, row.completed_version) == ("complete", "v1")
    assert (result.detail.document_status, result.detail.segments_done) == ("complete", 1)


def test_the_failed_version_is_marked_failed(ledger: Ledger):
    ledger.start_document(OLD, 2)
    ledger.mark_segment_done("acme", "d1", "v1", segment_record(0))
    result = notify_failure(_failed_execution("v1"), ledger, RecordingNotifier())
    row = ledger.get_document("acme", "d1")
    assert (row.status, row.last_error) == ("failed", "SegmentsIncomplete")
    assert (result.detail.document_status, result.detail.segments_total) == ("failed", 2)


def _expiries(ledger: Ledger, version: str) -> list[int]:
    if isinstance(ledger, DynamoDBLedger):
        items = ledger._table.scan()["Items"]  # the raw rows: the port does not expose TTLs
        return sorted(int(i["expires_at"]) for i in items if i["sk"].startswith(f"SEG#{version}#"))
    assert isinstance(ledger, SQLiteLedger)
    rows = ledger._db().execute("SELECT expires_at FROM segments WHERE version = ?", (version,))
    return sorted(int(row[0]) for row in rows)


def _set_expiries(ledger: Ledger, version: str, epoch: int) -> None:
    if isinstance(ledger, DynamoDBLedger):
        for item in ledger._table.scan()["Items"]:
            if item["sk"].startswith(f"SEG#{version}#"):
                ledger._table.update_item(
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET expires_at = :e",
                    ExpressionAttributeValues={":e": epoch},
                )
        return
    assert isinstance(ledger, SQLiteLedger)
    with ledger._transaction() as db:
        db.execute("UPDATE segments SET expires_at = ? WHERE version = ?", (epoch, version))


def test_a_failure_renews_the_versions_segment_rows_for_the_redrive_window(ledger: Ledger):
    # Given segment rows written long ago, about to expire
    ledger.start_document(OLD, 2)
    ledger.mark_segment_done("acme", "d1", "v1", segment_record(0))
    ledger.mark_segment_failed("acme", "d1", "v1", 1, "TransientError")
    soon = int((utc_now() + timedelta(days=1)).timestamp())
    _set_expiries(ledger, "v1", soon)
    # When the execution fails now
    notify_failure(_failed_execution("v1"), ledger, RecordingNotifier())
    # Then both rows live the ledger's TTL (at least the 14-day redrive window) from now
    floor = int((utc_now() + timedelta(days=14)).timestamp())
    assert [expiry >= floor for expiry in _expiries(ledger, "v1")] == [True, True]
