"""The Backfill state machine in moto's engine: uploads from before docproc are ingested as
their upload events would have been, and what is already ingested is not started again."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from benchmarks.generators import text_pdf
from docproc.local.cli import main
from docproc.observability import logger
from tests.e2e.harness import BUCKET, DeployedStack
from tests.e2e.iam import as_the_test


@pytest.mark.built_artifacts
def test_backfill_starts_each_upload_once_as_its_event_would(stack: DeployedStack, tmp_path):
    # Given one document ingested through its upload event
    (event,) = stack.upload("uploads/acme/case-1/done-1/notes.txt", b"Already ingested.\n" * 5)
    assert stack.run(event)["status"] == "SUCCEEDED"
    # And uploads from before docproc (their events never delivered), and a stray key
    stack.s3.put_object(
        Bucket=BUCKET, Key="uploads/acme/case-1/old-1/letter.txt", Body=b"An old letter.\n" * 9
    )
    pdf = text_pdf(tmp_path / "record.pdf", pages=3)
    stack.s3.put_object(
        Bucket=BUCKET, Key="uploads/acme/case-2/old-2/record.pdf", Body=pdf.read_bytes()
    )
    stack.s3.put_object(Bucket=BUCKET, Key="uploads/README.txt", Body=b"not an upload")
    stack.published()  # what the first run announced
    stack.invocations.clear()
    # When the Backfill state machine runs over uploads/
    backfill = stack.backfill("uploads/")
    # Then it succeeds, having handed every listed object to Start
    assert backfill["status"] == "SUCCEEDED", backfill.get("cause")
    starts = [payload for name, payload in stack.invocations if name == "StartFunction"]
    assert sorted(payload["key"] for payload in starts) == [
        "uploads/README.txt",
        "uploads/acme/case-1/done-1/notes.txt",
        "uploads/acme/case-1/old-1/letter.txt",
        "uploads/acme/case-2/old-2/record.pdf",
    ]
    # And each document has exactly one ingest execution, named as its upload's event names it
    # (the ingested one was not started again), and every one succeeded
    executions = stack.ingest_executions()
    names = sorted(execution["name"] for execution in executions)
    assert len(names) == 3 and len(set(names)) == 3
    assert {execution["status"] for execution in executions} == {"SUCCEEDED"}
    # And the main application hears about the two backfilled documents
    ingested = sorted(
        event["detail"]["document_id"]
        for event in stack.published()
        if event["detail-type"] == "Document Ingested"
    )
    assert ingested == ["old-1", "old-2"]
    # And its Map Run's results lie under jobs/, apart from the documents' outputs
    (results,) = stack.object_keys("jobs/")
    assert results.startswith("jobs/backfill/")
    # When it runs again, nothing new is started
    assert stack.backfill("uploads/acme/")["status"] == "SUCCEEDED"
    assert len(stack.ingest_executions()) == 3


def test_an_upload_deleted_after_it_was_listed_is_skipped(stack: DeployedStack, monkeypatch):
    # Given two uploads from before docproc
    kept, gone = "uploads/acme/case-4/kept/a.txt", "uploads/acme/case-4/gone/b.txt"
    for key in (kept, gone):
        stack.s3.put_object(Bucket=BUCKET, Key=key, Body=b"An old note.\n" * 4)
    # And one of them is deleted after the Backfill listed it, just before Start looks at it
    invoke = stack.runtime.invoke

    def deleting_first(function: str, payload: dict) -> Any:
        if function == "StartFunction" and payload.get("key") == gone:
            with as_the_test():
                stack.s3.delete_object(Bucket=BUCKET, Key=gone)
        return invoke(function, payload)

    monkeypatch.setattr(stack.runtime, "invoke", deleting_first)
    # When the Backfill runs over them, tolerating no failed item
    backfill = stack.backfill("uploads/acme/case-4/", tolerated=0.0)
    # Then it succeeds: the deleted upload is skipped, not a failed item (a redrive would
    # fail it again, for ever), and only the other one is ingested
    assert backfill["status"] == "SUCCEEDED", backfill.get("cause")
    (ingest,) = stack.ingest_executions()
    assert ingest["status"] == "SUCCEEDED"
    assert json.loads(ingest["input"])["detail"]["object"]["key"] == kept


@pytest.fixture
def command_line_logging():
    """`main` points the package's log handler at this test's (captured) stderr: put it back,
    or later tests would log to a closed stream."""
    handler = logger.registered_handler
    stream, level = getattr(handler, "stream", None), logger.log_level
    yield
    if isinstance(handler, logging.StreamHandler):
        handler.stream = stream  # (setStream would flush the captured stream, closed by now)
    logger.setLevel(level)


def test_docproc_backfill_starts_the_state_machine(
    stack: DeployedStack, tmp_path, monkeypatch, capsys, command_line_logging
):
    # Given an upload from before docproc
    stack.s3.put_object(
        Bucket=BUCKET, Key="uploads/acme/case-3/old-3/memo.md", Body=b"# Memo\n\nOld memo.\n"
    )
    monkeypatch.setenv("DOCPROC_HOME", str(tmp_path / "home"))
    arn = stack.state_machine_arns["BackfillStateMachine"]
    # When an operator runs `docproc backfill` against the stack
    code = main(["backfill", "--prefix", "uploads/acme/", "--state-machine-arn", arn, "--json"])
    # Then the Backfill state machine runs over that prefix and the document is ingested
    assert code == 0
    execution = stack.wait(json.loads(capsys.readouterr().out)["execution_arn"])
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert json.loads(execution["input"])["prefix"] == "uploads/acme/"
    (ingest,) = stack.ingest_executions()
    assert ingest["status"] == "SUCCEEDED"
    # And a prefix outside uploads/ is refused before anything starts
    assert main(["backfill", "--prefix", "work/", "--state-machine-arn", arn]) == 2
