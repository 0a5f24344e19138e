"""Every file in events/ is parsed by its function's model and invoked through its handler."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from docproc.errors import InvalidEvent
from tests.e2e.harness import ROOT
from tests.e2e.runtimes import FakeContext, load_handler_module
from tests.integration.conftest import BUCKET, Aws
from tests.webhook_receiver import webhook_receiver

EVENTS = ROOT / "events"
ORDER = ["start", "plan", "process_segment", "finalize", "notify_failure", "delete"]
# Functions that take another kind of event (a published one, an operator's), tested on their
# own below.
OTHERS = ["webhook", "reindex"]
# A second kind of event a function takes: its file -> the function.
SECOND_KINDS = {"start_backfill": "start", "reindex_segment": "reindex"}


def _event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _ingest_state_machine(sfn, monkeypatch) -> str:
    """A stand-in ingest state machine (one Pass state) that Start's executions go to."""
    machine = sfn.create_state_machine(
        name="docproc-ingest",
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/docproc-ingest",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", machine)
    return str(machine)


def test_every_event_file_belongs_to_a_function():
    # Given the events folder and the functions folder
    names = sorted(path.stem for path in EVENTS.glob("*.json"))
    functions = sorted(path.name for path in (ROOT / "functions").iterdir() if path.is_dir())
    # Then each function has one sample event (and one per second kind it takes), nothing else
    assert sorted(set(names) - set(SECOND_KINDS)) == functions == sorted(ORDER + OTHERS)
    assert set(SECOND_KINDS) <= set(names) and set(SECOND_KINDS.values()) <= set(functions)


def test_event_files_drive_the_handlers_in_pipeline_order(moto_aws: Aws, monkeypatch):
    # Given the sample PDF uploaded where events/plan.json says it is
    plan_event = _event("plan")
    key = plan_event["event"]["detail"]["object"]["key"]
    moto_aws.s3.put_object(
        Bucket=BUCKET, Key=key, Body=(ROOT / "samples" / "lease-agreement.pdf").read_bytes()
    )
    sfn = boto3.client("stepfunctions")
    machine = _ingest_state_machine(sfn, monkeypatch)
    results = {}
    # When each handler is invoked with its event file
    for name in ORDER:
        if name == "delete":
            moto_aws.s3.delete_object(Bucket=BUCKET, Key=key)
        module = load_handler_module(name)
        results[name] = module.handler(_event(name), FakeContext(name))

    # Then Start named the execution after the version, and a duplicate event starts
    # nothing new (Step Functions answers with the running execution, or refuses)
    assert results["start"]["execution_name"].startswith("acme-lease-1-")
    again = load_handler_module("start").handler(_event("start"), FakeContext("start"))
    assert again["duplicate"] or again["execution_arn"] == results["start"]["execution_arn"]
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1
    # And plan produced exactly the task and result the next event files hold
    assert results["plan"]["first_task"] == _event("process_segment")
    assert results["plan"]["document"] == _event("finalize")["document"]
    assert results["process_segment"]["chunks"] >= 1
    assert results["finalize"]["summary"]["pages"] == 3
    assert results["notify_failure"]["published"] is True
    assert results["delete"]["skipped"] is False and results["delete"]["ledger_rows_deleted"] == 2
    published = moto_aws.published()
    assert [e["detail-type"] for e in published] == [
        "Document Ingestion Failed",
        "Document Deleted",
    ]
    assert published[0]["detail"]["document_id"] == "lease-1"
    assert not list(moto_aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="work/").get("Contents", []))


def test_the_webhook_event_file_is_delivered_signed(moto_aws: Aws, monkeypatch, tmp_path: Path):
    # Given a receiver over https and the function's key in Secrets Manager
    with webhook_receiver("whsec-events", tls_folder=tmp_path) as receiver:
        arn = boto3.client("secretsmanager").create_secret(
            Name="webhook", SecretString="whsec-events"
        )["ARN"]
        for name, value in {
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET_ARN": arn,
            "SSL_CERT_FILE": str(receiver.ca_file),
        }.items():
            monkeypatch.setenv(name, value)
        # When events/webhook.json is handed to the function
        result = load_handler_module("webhook").handler(_event("webhook"), FakeContext("webhook"))
    # Then the receiver got it once, signed, under the event's id
    (delivery,) = receiver.received
    assert delivery.verified and result["attempts"] == 1 and result["status"] == 200
    assert delivery.event["id"] == _event("webhook")["id"] == result["event_id"]
    assert delivery.event["data"] == _event("webhook")["detail"]


def test_the_backfill_event_file_starts_the_execution_its_upload_event_would(
    moto_aws: Aws, monkeypatch
):
    # Given the upload the two Start event files name, and the ingest state machine
    key = _event("start_backfill")["key"]
    assert key == _event("start")["detail"]["object"]["key"]
    moto_aws.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version = moto_aws.s3.put_object(
        Bucket=BUCKET, Key=key, Body=(ROOT / "samples" / "lease-agreement.pdf").read_bytes()
    )["VersionId"]
    sfn = boto3.client("stepfunctions")
    machine = _ingest_state_machine(sfn, monkeypatch)
    start = load_handler_module("start")
    # When Start gets the backfill item, and the upload's own event for that version
    backfilled = start.handler(_event("start_backfill"), FakeContext("start"))
    upload = _event("start")
    upload["detail"]["object"]["version-id"] = version
    evented = start.handler(upload, FakeContext("start"))
    # Then the backfill item names the execution the upload's event started, and gives it
    # an upload event of that version as its input; Start itself started nothing more
    assert backfilled["execution_name"] == evented["execution_name"]
    detail = backfilled["input"]["detail"]
    assert detail["object"]["key"] == key and detail["object"]["version-id"] == version
    assert backfilled["input"]["detail-type"] == "Object Created"
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_the_reindex_event_files_embed_the_ingested_chunks_into_the_new_collection(
    moto_aws: Aws,
):
    # Given the sample PDF ingested through the pipeline's event files
    key = _event("plan")["event"]["detail"]["object"]["key"]
    moto_aws.s3.put_object(
        Bucket=BUCKET, Key=key, Body=(ROOT / "samples" / "lease-agreement.pdf").read_bytes()
    )
    for name in ("plan", "process_segment", "finalize"):
        load_handler_module(name).handler(_event(name), FakeContext(name))
    reindex = load_handler_module("reindex")
    reindex.dependencies.cache_clear()
    # When the Reindex function gets the plan event
    plan = reindex.handler(_event("reindex"), FakeContext("reindex"))
    # Then its manifest holds the one done segment, exactly the item of the segment event file
    manifest = json.loads(
        moto_aws.s3.get_object(Bucket=BUCKET, Key=plan["manifest"]["key"])["Body"].read()
    )
    assert manifest == [_event("reindex_segment")["item"]]
    assert plan["report"]["documents"] == 1 and plan["report"]["tokens"] > 0
    collection = plan["report"]["collection"]
    assert collection.endswith("_1024")
    # When it gets the segment event, twice
    first = reindex.handler(_event("reindex_segment"), FakeContext("reindex"))
    again = reindex.handler(_event("reindex_segment"), FakeContext("reindex"))
    # Then the segment's chunks are in the new collection once, and the second run skipped it
    assert first == {"chunks": first["chunks"], "skipped": False, "gone": False}
    assert first["chunks"] >= 1
    assert again == {"chunks": 0, "skipped": True, "gone": False}
    client = moto_aws.qdrant.client()
    assert client.count(collection).count == first["chunks"]


@pytest.mark.parametrize("name", ORDER + OTHERS)
def test_a_malformed_event_is_a_typed_error(moto_aws: Aws, name: str):
    # Given an event missing everything
    module = load_handler_module(name)
    # When the handler gets it, Then it fails with InvalidEvent before doing any work
    with pytest.raises(InvalidEvent):
        module.handler({"unexpected": True}, FakeContext(name))


def test_event_files_are_valid_json():
    for path in Path(EVENTS).glob("*.json"):
        json.loads(path.read_text())
