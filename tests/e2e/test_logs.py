"""Logs of a whole run carry ids and counts: never secrets, URLs or document text.

The run exercises what could leak: the OpenAI and Qdrant keys read from Secrets Manager and
sent by real clients (the stub and the server receive them), presigned URLs (a recording is
probed and transcribed through them), document text (a PDF whose every page says a known
sentence, a recording of known sentences), a failure, a deletion; at DEBUG level.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from benchmarks.generators import recording
from docproc.observability import logger
from tests.e2e.conftest import StackFactory
from tests.e2e.harness import BUCKET, REGION, DeployedStack
from tests.qdrant_server import QdrantServer
from tests.stub_openai import StubOpenAI, stub_openai

OPENAI_KEY = "sk-openai-e2e-5d02b7"
QDRANT_KEY = "qdrant-key-e2e-7c1f9a"


@pytest.fixture
def openai() -> Iterator[StubOpenAI]:
    with stub_openai() as stub:
        yield stub


@pytest.fixture
def captured_logs(stack_factory: StackFactory) -> Iterator[io.StringIO]:
    """What the package logs in the test process (the built runtime keeps each function's own
    output instead), at DEBUG level."""
    level = logger.log_level
    logger.setLevel("DEBUG")
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        yield captured
    finally:
        logger.setLevel(level)
        handler.setStream(previous)


def _chunk_texts(stack: DeployedStack, prefix: str) -> list[str]:
    texts = []
    for key in stack.object_keys(prefix):
        if key.endswith(".chunks.jsonl"):
            body = stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            texts.extend(json.loads(line)["text"] for line in body.splitlines())
    return texts


@pytest.mark.built_artifacts
def test_a_run_logs_no_secret_url_or_text(
    stack_factory: StackFactory,
    openai: StubOpenAI,
    qdrant_service: QdrantServer,
    captured_logs: io.StringIO,
    generated,
    tmp_path: Path,
    capfd: pytest.CaptureFixture,
):
    # Given both keys in Secrets Manager, read and sent by the real clients
    secrets = boto3.client("secretsmanager", region_name=REGION)
    openai_arn = secrets.create_secret(Name="openai", SecretString=OPENAI_KEY)["ARN"]
    qdrant_arn = secrets.create_secret(Name="qdrant", SecretString=QDRANT_KEY)["ARN"]
    stack = stack_factory(
        function_environment={"POWERTOOLS_LOG_LEVEL": "DEBUG"},
        Embedder="openai",
        OpenAIBaseUrl=openai.url,
        OpenAIApiKeySecretArn=openai_arn,
        QdrantApiKeySecretArn=qdrant_arn,
        EmbeddingDimensions="32",
    )
    audio = tmp_path / "hearing.m4a"
    recording(audio, 11 * 60, [(30.0, 4), (640.0, 8)])
    capfd.readouterr()
    with stack.lambdas():
        # When a 120-page PDF and a recording are ingested, one deleted, and a bad one fails
        (pdf,) = stack.upload("uploads/acme/case-l/logged/a.pdf", generated["pdf_120"].read_bytes())
        assert stack.run(pdf)["status"] == "SUCCEEDED"
        (talk,) = stack.upload("uploads/acme/case-l/heard/h.m4a", audio.read_bytes())
        assert stack.run(talk)["status"] == "SUCCEEDED"
        texts, spoken = (
            _chunk_texts(stack, "work/acme/logged/"),
            _chunk_texts(stack, "work/acme/heard/"),
        )
        stack.delete("uploads/acme/case-l/logged/a.pdf")
        (bad,) = stack.upload("uploads/acme/case-l/bad/b.pdf", b"%PDF-1.7\nnot really a pdf")
        failed = stack.run(bad)
        assert failed["status"] == "FAILED"
        stack.deliver_status_change(failed)
    out, err = capfd.readouterr()
    built = getattr(stack.runtime, "logs", {})
    logs = (
        captured_logs.getvalue()
        + out
        + err
        + "".join(line for lines in built.values() for line in lines)
    )

    # Then the keys were in use (the services received them) ...
    assert {r["authorization"] for r in openai.requests} == {f"Bearer {OPENAI_KEY}"}
    assert QDRANT_KEY in qdrant_service.api_keys
    # ... the logs are there, with correlation keys ...
    assert '"document_id":"logged"' in logs.replace(" ", "")
    assert '"document_id":"heard"' in logs.replace(" ", "")
    # ... and nothing that must not be: no key, no URL (presigned or not), no document text
    assert OPENAI_KEY not in logs and QDRANT_KEY not in logs
    assert "X-Amz-Signature" not in logs and "X-Amz-Credential" not in logs
    assert "https://" not in logs and "http://127.0.0.1" not in logs
    assert any("page number 57" in text for text in texts)
    for page in (1, 57, 120):
        assert f"Marker phrase for page number {page} " not in logs
    assert len(spoken) == 2, "the recording's two sentences were transcribed"
    for text in spoken:
        assert text[:40] not in logs
