"""Secrets come from Secrets Manager (moto) through Powertools; the wired embedder uses them."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from docproc import aws
from docproc.config import SegmentSettings, load_settings
from docproc.errors import ConfigurationError
from tests.conftest import aws_backend
from tests.e2e.runtimes import load_handler_module
from tests.stub_deepgram import stub_deepgram
from tests.stub_openai import stub_openai


@pytest.fixture
def secrets():
    with aws_backend():
        yield boto3.client("secretsmanager")


def test_plain_and_json_secrets(secrets):
    plain = secrets.create_secret(Name="plain", SecretString="sk-plain")["ARN"]
    wrapped = secrets.create_secret(Name="json", SecretString=json.dumps({"api_key": "sk-json"}))[
        "ARN"
    ]
    assert aws.secret(plain, max_age_seconds=300) == "sk-plain"
    assert aws.secret(wrapped, max_age_seconds=300) == "sk-json"


def test_a_missing_secret_is_a_configuration_error(secrets):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf"
    with pytest.raises(ConfigurationError) as error:
        aws.secret(arn, max_age_seconds=300)
    assert "sk-" not in str(error.value)


def test_openai_embedder_is_built_from_settings_and_the_secret(secrets, monkeypatch):
    arn = secrets.create_secret(Name="openai", SecretString="sk-from-secrets-manager")["ARN"]
    with stub_openai() as stub:
        for name, value in {
            "DOCPROC_BUCKET": "bucket-1",
            "LEDGER_TABLE": "ledger-1",
            "QDRANT_URL": "http://qdrant.invalid:6333",
            "EMBEDDER": "openai",
            "EMBEDDING_DIMENSIONS": "16",
            "OPENAI_BASE_URL": stub.url,
            "OPENAI_API_KEY_SECRET_ARN": arn,
        }.items():
            monkeypatch.setenv(name, value)
        settings = load_settings(SegmentSettings)
        embedder = aws.embedder(settings, aws.Secrets(max_age_seconds=300))
        (vector,) = embedder.embed(["hello"])
        assert len(vector) == 16 and embedder.dimensions == 16
        assert stub.requests[0]["authorization"] == "Bearer sk-from-secrets-manager"
        assert stub.requests[0]["model"] == "text-embedding-3-small"


def test_deepgram_transcriber_reads_its_key_from_secrets_manager_on_first_use(secrets, monkeypatch):
    arn = secrets.create_secret(Name="deepgram", SecretString=json.dumps({"api_key": "dg-sm"}))[
        "ARN"
    ]
    with stub_deepgram() as stub:
        stub.words = [("Objection.", 0.2, 0.8, 0)]
        for name, value in {
            "DOCPROC_BUCKET": "bucket-1",
            "LEDGER_TABLE": "ledger-1",
            "QDRANT_URL": "http://qdrant.invalid:6333",
            "TRANSCRIBER": "deepgram",
            "DEEPGRAM_BASE_URL": stub.url,
            "DEEPGRAM_API_KEY_SECRET_ARN": arn,
        }.items():
            monkeypatch.setenv(name, value)
        settings = load_settings(SegmentSettings)
        transcriber = aws.transcriber(settings, aws.Secrets(max_age_seconds=300))
        # Nothing is read or imported until a recording needs it
        assert stub.requests == []
        (utterance,) = transcriber.transcribe(iter([b"\x00\x00" * 16_000]), 16_000)
        assert [w.text for w in utterance.words] == ["Objection."]
        assert stub.requests[0]["authorization"] == "Token dg-sm"
        assert transcriber.model_name == "deepgram-nova-3"


def test_deepgram_without_a_key_is_refused_at_start_up(monkeypatch):
    for name, value in {
        "DOCPROC_BUCKET": "bucket-1",
        "LEDGER_TABLE": "ledger-1",
        "QDRANT_URL": "http://qdrant.invalid:6333",
        "TRANSCRIBER": "deepgram",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DEEPGRAM_API_KEY", raising=False)
    monkeypatch.delenv("DEEPGRAM_API_KEY_SECRET_ARN", raising=False)
    with pytest.raises(ConfigurationError, match="DEEPGRAM_API_KEY_SECRET_ARN"):
        load_settings(SegmentSettings)


def test_a_rotated_key_is_in_use_within_the_max_age(secrets, monkeypatch):
    # Given ProcessSegment's dependencies built with the OpenAI key from Secrets Manager
    arn = secrets.create_secret(Name="openai-rotating", SecretString="sk-before")["ARN"]
    with stub_openai() as stub:
        for name, value in {
            "DOCPROC_BUCKET": "bucket-1",
            "LEDGER_TABLE": "ledger-1",
            "QDRANT_URL": "http://qdrant.invalid:6333",
            "EMBEDDER": "openai",
            "EMBEDDING_DIMENSIONS": "8",
            "OPENAI_BASE_URL": stub.url,
            "OPENAI_API_KEY_SECRET_ARN": arn,
            "SECRETS_MAX_AGE_SECONDS": "1",
        }.items():
            monkeypatch.setenv(name, value)
        dependencies = load_handler_module("process_segment").dependencies
        built = dependencies()
        built.embedder.embed(["before"])
        # While the cached value is fresh, the warm container keeps what it built
        assert dependencies() is built
        # When the key is rotated and the max age passes
        secrets.put_secret_value(SecretId=arn, SecretString="sk-after")
        time.sleep(1.1)
        # Then the next invocation's dependencies use the new key
        dependencies().embedder.embed(["after"])
        assert [r["authorization"] for r in stub.requests] == [
            "Bearer sk-before",
            "Bearer sk-after",
        ]


def test_the_qdrant_client_starts_no_thread_that_could_outlive_a_short_command():
    import threading

    from docproc.wiring import qdrant_client

    # Given the threads running now
    before = set(threading.enumerate())
    # When docproc makes its client of a Qdrant server (nothing needs to listen: no call yet)
    client = qdrant_client("http://127.0.0.1:9", None)
    started = set(threading.enumerate()) - before
    client.close()
    # Then no thread was started: qdrant-client's background version check builds an SSL
    # context on a daemon thread, and a process exiting meanwhile can crash in OpenSSL's cleanup
    assert not started, started


def test_closing_a_qdrant_store_leaves_the_process_s_client_of_its_server_open():
    from docproc.vectors.qdrant import QdrantVectorStore
    from docproc.wiring import qdrant_client
    from tests.qdrant_server import qdrant_server

    with qdrant_server() as server:
        # Given a store of a Qdrant server, used and then closed (a laptop environment done)
        first = QdrantVectorStore(qdrant_client(server.url, None), "first", 3)
        first.ensure_collection()
        first.close()
        # When another store of the same server is made in the process (it gets the same
        # client: one per server per process)
        second = QdrantVectorStore(qdrant_client(server.url, None), "second", 3)
        # Then it works (red before: the first had closed the shared client, and every call
        # of the second failed as TransientError "qdrant: ResponseHandlingException")
        second.ensure_collection()
        assert server.engine.collection_exists("second")
