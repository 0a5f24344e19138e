"""Logs of a whole run carry ids and counts: never secrets, URLs or document text."""

from __future__ import annotations

import io
import logging

import boto3
import pytest

from docproc.observability import logger
from tests.e2e.conftest import _reset_caches
from tests.e2e.harness import REGION, DeployedStack
from tests.qdrant_server import QdrantServer

SECRET = "qdrant-key-e2e-7c1f9a"


def test_a_run_logs_no_secret_url_or_text(
    stack: DeployedStack,
    qdrant_service: QdrantServer,
    generated,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture,
):
    # Given a Qdrant key in Secrets Manager that the functions read, and DEBUG logging
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="qdrant", SecretString=SECRET
    )["ARN"]
    monkeypatch.setenv("QDRANT_API_KEY_SECRET_ARN", arn)
    _reset_caches(stack)
    level = logger.log_level
    logger.setLevel("DEBUG")
    # Everything the package logs goes through this one handler: capture its stream.
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        capfd.readouterr()
        # When a 120-page document is ingested and then deleted, and a bad one fails
        (event,) = stack.upload(
            "uploads/acme/case-l/logged/a.pdf", generated["pdf_120"].read_bytes()
        )
        assert stack.run(event)["status"] == "SUCCEEDED"
        stack.delete("uploads/acme/case-l/logged/a.pdf")
        (bad,) = stack.upload("uploads/acme/case-l/bad/b.pdf", b"%PDF-1.7\nnot really a pdf")
        failed = stack.run(bad)
        assert failed["status"] == "FAILED"
        stack.deliver_status_change(failed)
        out, err = capfd.readouterr()
    finally:
        logger.setLevel(level)
        handler.setStream(previous)
    logs = captured.getvalue() + out + err
    # Then the logs are there, with correlation keys ...
    assert '"document_id":"logged"' in logs.replace(" ", "")
    # ... and nothing that must not be, though the key was in use (the server received it)
    assert SECRET in qdrant_service.api_keys
    assert SECRET not in logs
    assert "X-Amz-Signature" not in logs and "https://" not in logs
    for page in (1, 57, 120):
        assert f"Marker phrase for page number {page} " not in logs
    assert "agreement party clause" not in logs.lower()
