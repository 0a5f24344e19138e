"""The AWS adapters against moto; the ledger contract against DynamoDB and SQLite alike."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from docproc.errors import ObjectNotFound, PermanentDependencyError, TransientError
from docproc.extract.sniff import EPUB, sniff_zip
from docproc.ledger.dynamodb import DynamoDBLedger
from docproc.ledger.port import Ledger
from docproc.ledger.sqlite import SQLiteLedger
from docproc.notify.eventbridge import EventBridgeNotifier
from docproc.storage.local import LocalObjectStore
from docproc.storage.port import ObjectStore
from docproc.storage.ranged import open_ranged
from docproc.storage.s3 import S3ObjectStore
from tests.aws_faults import aws_answers
from tests.builders import document_ref, document_summary, segment_record
from tests.conftest import aws_backend
from tests.integration.conftest import BUS, ledger_table_definition

REF = document_ref()
_segment = segment_record


def test_segments_are_recorded_once(ledger: Ledger):
    # Given a segment marked done
    assert ledger.mark_segment_done("acme", "d1", "v1", _segment(0)) is True
    # When a concurrent duplicate marks it again, or a late failure is recorded
    assert ledger.mark_segment_done("acme", "d1", "v1", _segment(0, chunks=99)) is False
    ledger.mark_segment_failed("acme", "d1", "v1", 0, "late")
    # Then the first record stands
    record = ledger.get_segment("acme", "d1", "v1", 0)
    assert record.status == "done" and record.chunks == 2


def test_failed_segments_count_attempts_and_can_then_succeed(ledger: Ledger):
    ledger.mark_segment_failed("acme", "d1", "v1", 1, "TransientError: boom")
    ledger.mark_segment_failed("acme", "d1", "v1", 1, "TransientError: boom")
    assert ledger.get_segment("acme", "d1", "v1", 1).attempts == 2
    assert ledger.mark_segment_done("acme", "d1", "v1", _segment(1)) is True
    assert ledger.get_segment("acme", "d1", "v1", 1).status == "done"


def test_segments_are_listed_in_order_per_version(ledger: Ledger):
    for index in (2, 0, 1):
        ledger.mark_segment_done("acme", "d1", "v1", _segment(index))
    ledger.mark_segment_done("acme", "d1", "v2", _segment(0))
    assert [r.index for r in ledger.list_segments("acme", "d1", "v1")] == [0, 1, 2]
    assert [r.index for r in ledger.list_segments("acme", "d1", "v2")] == [0]


def test_a_completion_records_the_execution_that_made_it(ledger: Ledger):
    # Given a version started and completed by one execution
    ledger.start_document(REF, 1, execution_arn="arn:first")
    summary = document_summary(REF, segments_total=1, chunks_total=2)
    assert ledger.complete_document(REF, summary, "arn:first") is True
    # When a concurrent execution of the same version completes it too
    assert ledger.complete_document(REF, summary, "arn:twin") is False
    # Then the row names the first, also once a newer version has started
    assert ledger.get_document("acme", "d1").completed_by == "arn:first"
    newer = ledger.start_document(REF.model_copy(update={"version": "v2"}), 1, "arn:newer")
    assert (newer.completed_version, newer.completed_by) == ("v1", "arn:first")


def test_the_searchable_version_s_totals_outlive_a_newer_upload_that_fails(ledger: Ledger):
    # Given a version completed with 3 segments
    ledger.start_document(REF, 3, execution_arn=None)
    summary = document_summary(REF, segments_total=3, chunks_total=90)
    assert ledger.complete_document(REF, summary, None) is True
    # When a newer upload of 5 segments starts, then fails
    newer = REF.model_copy(update={"version": "v2"})
    ledger.start_document(newer, 5, execution_arn=None)
    ledger.fail_document("acme", "d1", "v2", "InvalidDocument")
    # Then the row's totals are the newer version's, and the completed version's are kept:
    # what a re-index of the version search still sees embeds
    row = ledger.get_document("acme", "d1")
    assert (row.status, row.segments_total, row.completed_version) == ("failed", 5, "v1")
    assert row.completed_totals == (3, 900)


def test_one_version_s_segment_rows_are_deleted_and_nothing_else(ledger: Ledger):
    # Given a document row, and segment rows of two versions
    ledger.start_document(REF, 2, execution_arn=None)
    for version, index in (("v1", 0), ("v1", 1), ("v2", 0)):
        ledger.mark_segment_done("acme", "d1", version, segment_record(index))
    # When version v1's segment rows are deleted
    deleted = ledger.delete_segments("acme", "d1", "v1")
    # Then those two went; the other version's row and the document row stay
    assert deleted == 2
    assert ledger.list_segments("acme", "d1", "v1") == []
    assert len(ledger.list_segments("acme", "d1", "v2")) == 1
    assert ledger.get_document("acme", "d1") is not None


def test_recorded_collections_are_kept_apart_from_documents_and_never_expire(ledger: Ledger):
    # Given a completed document, and two collections recorded (one twice)
    ledger.start_document(REF, 1, execution_arn=None)
    summary = document_summary(REF, segments_total=1, chunks_total=2)
    assert ledger.complete_document(REF, summary, None) is True
    for collection in ("docproc_m2_256", "docproc_m1_384", "docproc_m2_256"):
        ledger.record_collection(collection)
    # When expired segment rows are removed, long after, and the document is deleted
    ledger.delete_expired_segments(datetime.now(UTC) + timedelta(days=3650))
    ledger.delete_document("acme", "d1")
    assert ledger.get_document("acme", "d1") is None
    # Then both collections are still named, once each, and no query of documents sees them
    assert ledger.collections() == ["docproc_m1_384", "docproc_m2_256"]
    assert [list(ledger.documents_by_status(s)) for s in ("complete", "failed")] == [[], []]


def test_the_laptop_ledger_keeps_a_completion_unannounced_until_told(tmp_path: Path):
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    v2 = REF.model_copy(update={"version": "v2"})
    # Given a version completed (and a twin's completion, which changes nothing)
    ledger.start_document(REF, 1)
    summary = document_summary(REF, segments_total=1, chunks_total=2)
    assert ledger.complete_document(REF, summary) is True
    assert ledger.complete_document(REF, summary) is False
    # Then it is unannounced until the runner says it handed the event over
    assert ledger.is_unannounced("acme", "d1", "v1") is True
    ledger.announced("acme", "d1", "v1")
    assert ledger.is_unannounced("acme", "d1", "v1") is False
    # And a newer version's completion makes an older one's missed announcement moot
    ledger.start_document(REF, 1)
    ledger.complete_document(REF, summary)
    ledger.start_document(v2, 1)
    ledger.complete_document(v2, document_summary(v2, segments_total=1, chunks_total=1))
    assert ledger.is_unannounced("acme", "d1", "v1") is False
    assert ledger.is_unannounced("acme", "d1", "v2") is True
    # And deleting the document forgets it
    ledger.delete_document("acme", "d1")
    assert ledger.is_unannounced("acme", "d1", "v2") is False


def test_the_laptop_ledger_remembers_a_deletion_until_it_finishes(tmp_path: Path):
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    # Given a deletion begun in case c1, begun again without knowing the case, and another
    ledger.begin_deletion("acme", "d1", "c1")
    ledger.begin_deletion("acme", "d1", None)
    ledger.begin_deletion("acme", "d2", None)
    ledger.begin_deletion("other", "d1", "c9")
    # Then both are unfinished, the first with the case it was first given, per tenant
    assert ledger.unfinished_deletions("acme") == {"d1": "c1", "d2": None}
    # And a finished one is forgotten, in its tenant only
    ledger.deletion_finished("acme", "d1")
    assert ledger.unfinished_deletions("acme") == {"d2": None}
    assert ledger.unfinished_deletions("other") == {"d1": "c9"}


def test_document_lifecycle(ledger: Ledger):
    # Given a start, a restart of the same version, and completion
    first = ledger.start_document(REF, 3)
    again = ledger.start_document(REF, 3, execution_arn="arn:x")
    assert (first.attempts, again.attempts) == (1, 2)
    assert again.started_at == first.started_at
    summary = document_summary(REF, segments_total=3, chunks_total=6)
    ledger.complete_document(REF, summary)
    done = ledger.get_document("acme", "d1")
    assert (done.status, done.completed_version, done.chunks_total) == ("complete", "v1", 6)
    # When a new version starts, the completed one stays the searchable one
    newer = ledger.start_document(REF.model_copy(update={"version": "v2"}), 1)
    assert (newer.version, newer.completed_version, newer.attempts) == ("v2", "v1", 1)
    ledger.fail_document("acme", "d1", "v2", "InvalidDocument")
    failed = ledger.get_document("acme", "d1")
    assert (failed.status, failed.last_error, failed.completed_version) == (
        "failed",
        "InvalidDocument",
        "v1",
    )


def test_dynamodb_throttling_is_transient():
    # Given the ledger on a client that does not retry itself (the state machine does)
    with aws_backend():
        resource = boto3.resource("dynamodb", config=Config(retries={"total_max_attempts": 1}))
        table = resource.create_table(
            TableName=f"ledger-{uuid.uuid4().hex[:8]}", **ledger_table_definition()
        )
        ledger = DynamoDBLedger(table, ttl_days=15)
        throttled = (
            b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
            b'"message":"The level of configured provisioned throughput was exceeded"}'
        )
        # When DynamoDB answers a read with throttling,
        # Then the ledger raises TransientError (retried by the state machine)
        with (
            aws_answers(table.meta.client, "GetItem", 400, throttled, "application/x-amz-json-1.0"),
            pytest.raises(TransientError, match="ProvisionedThroughputExceeded"),
        ):
            ledger.get_document("acme", "d1")


# --- S3 ------------------------------------------------------------------------------------


@pytest.fixture
def s3_store() -> Iterator[S3ObjectStore]:
    with aws_backend():
        client = boto3.client("s3")
        bucket = f"docs-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        yield S3ObjectStore(client, bucket)


def test_s3_reads_the_pinned_version(s3_store: S3ObjectStore):
    # Given an object overwritten after its first version was pinned
    s3 = s3_store._s3
    first = s3.put_object(Bucket=s3_store.bucket, Key="uploads/k", Body=b"first version")[
        "VersionId"
    ]
    s3.put_object(Bucket=s3_store.bucket, Key="uploads/k", Body=b"second!")
    # Then reads with the pinned version see the first content
    info = s3_store.head("uploads/k", first)
    assert (info.size, info.version_id) == (13, first)
    assert s3_store.read_range("uploads/k", 6, 13, first) == b"version"
    with s3_store.local_copy("uploads/k", first) as path:
        assert path.read_bytes() == b"first version"
    assert not path.exists(), "the temporary copy is removed"
    assert s3_store.head("uploads/k").size == 7


def test_s3_object_reads_as_a_seekable_file_of_its_pinned_version(s3_store: S3ObjectStore):
    # Given an EPUB uploaded, then overwritten by something else
    s3 = s3_store._s3
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as epub:
        epub.writestr("mimetype", "application/epub+zip")
        epub.writestr("OEBPS/chapter.xhtml", "<html/>" * 20_000)
    key = "uploads/acme/case/book/book.epub"
    first = s3.put_object(Bucket=s3_store.bucket, Key=key, Body=archive.getvalue())["VersionId"]
    s3.put_object(Bucket=s3_store.bucket, Key=key, Body=b"not a zip")
    # When zipfile reads the pinned version through ranged reads
    with open_ranged(s3_store, key, len(archive.getvalue()), first) as file:
        # Then it finds its members and reads one, seeking like on a local file
        assert sniff_zip(file) == EPUB
        file.seek(-10, io.SEEK_END)
        assert file.read() == archive.getvalue()[-10:]


def test_s3_missing_objects_are_typed(s3_store: S3ObjectStore):
    with pytest.raises(ObjectNotFound):
        s3_store.head("uploads/missing")
    with pytest.raises(ObjectNotFound):
        s3_store.get_bytes("work/missing")
    assert s3_store.exists("work/missing") is False


def test_s3_put_list_delete(s3_store: S3ObjectStore, tmp_path: Path):
    source = tmp_path / "f"
    source.write_bytes(b"x" * 1000)
    s3_store.put_file("work/a/1", source, "application/pdf")
    s3_store.put_bytes("work/a/2", b"{}", "application/json")
    s3_store.put_bytes("work/b/1", b"{}", "application/json")
    assert list(s3_store.list_keys("work/a/")) == ["work/a/1", "work/a/2"]
    assert s3_store.read_range("work/a/1", 990, 2000) == b"x" * 10
    assert s3_store.delete_prefix("work/a/") == 2
    assert list(s3_store.list_keys("work/")) == ["work/b/1"]


@pytest.fixture(params=["s3", "folder"])
def spooling_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    """Each store over its own scratch folder (the function's /tmp, the laptop's state)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    if request.param == "folder":
        yield LocalObjectStore(scratch)
        return
    with aws_backend():
        client = boto3.client("s3")
        client.create_bucket(Bucket="outputs")
        yield S3ObjectStore(client, "outputs", tmp_dir=scratch)


def _files(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


def test_a_written_object_is_stored_whole_and_leaves_no_scratch_file(
    spooling_store: ObjectStore, tmp_path: Path
):
    # Given an output written in pieces through the store's writer
    with spooling_store.writer("work/t/0.chunks.jsonl", "application/x-ndjson") as out:
        for line in range(1000):
            out.write(b'{"n": %d}\n' % line)
        # Then nothing is stored before the block ends
        assert not spooling_store.exists("work/t/0.chunks.jsonl")
    # Then it is stored whole, and nothing else is left behind
    assert spooling_store.get_bytes("work/t/0.chunks.jsonl") == b"".join(
        b'{"n": %d}\n' % line for line in range(1000)
    )
    scratch = tmp_path / "scratch"
    expected = ["work/t/0.chunks.jsonl"] if isinstance(spooling_store, LocalObjectStore) else []
    assert _files(scratch) == expected


def test_an_output_whose_writing_fails_is_not_stored(spooling_store: ObjectStore, tmp_path: Path):
    # Given an output whose maker fails part-way, over an earlier attempt's stored output
    spooling_store.put_bytes("work/t/0.chunks.jsonl", b"earlier\n", "application/x-ndjson")
    with (
        pytest.raises(RuntimeError),
        spooling_store.writer("work/t/0.chunks.jsonl", "application/x-ndjson") as out,
    ):
        out.write(b"half of it")
        raise RuntimeError("extraction failed")
    # Then the earlier output stands and no scratch file is left
    assert spooling_store.get_bytes("work/t/0.chunks.jsonl") == b"earlier\n"
    scratch = tmp_path / "scratch"
    expected = ["work/t/0.chunks.jsonl"] if isinstance(spooling_store, LocalObjectStore) else []
    assert _files(scratch) == expected


# --- EventBridge ---------------------------------------------------------------------------


def test_events_reach_the_bus():
    with aws_backend():
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="r", EventBusName=BUS, EventPattern='{"source": ["docproc"]}')
        events.put_targets(Rule="r", EventBusName=BUS, Targets=[{"Id": "1", "Arn": arn}])
        EventBridgeNotifier(events, BUS).publish("Document Ingested", {"document_id": "d1"})
        (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
        assert '"document_id": "d1"' in message["Body"]
        assert '"detail-type": "Document Ingested"' in message["Body"]


@pytest.mark.parametrize(
    ("code", "error"), [("AccessDenied", PermanentDependencyError), ("SlowDown", TransientError)]
)
def test_keys_s3_did_not_delete_are_not_counted_as_deleted(s3_store: S3ObjectStore, code, error):
    # Given two work outputs
    for key in ("work/a/1.jsonl", "work/a/2.jsonl"):
        s3_store._s3.put_object(Bucket=s3_store.bucket, Key=key, Body=b"{}")
    partial = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Error><Key>work/a/2.jsonl</Key><Code>{code}</Code><Message>no</Message></Error>"
        "</DeleteResult>"
    ).encode()
    # When S3 answers the batch delete with one key it could not delete (Quiet mode),
    # Then the delete fails, saying how many and why, instead of counting 2 deleted
    with (
        aws_answers(s3_store._s3, "DeleteObjects", 200, partial, "application/xml"),
        pytest.raises(error, match=f"1 of 2 keys not deleted \\({code}\\)"),
    ):
        s3_store.delete_prefix("work/a/")
