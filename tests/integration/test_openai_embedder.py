"""The real openai client against a loopback server speaking the embeddings API."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from docproc.chunking.tokens import token_counter
from docproc.embedding.openai import OpenAIEmbedder
from docproc.errors import PermanentDependencyError, TransientError
from tests.stub_openai import Scripted, StubOpenAI, stub_openai


@pytest.fixture
def stub() -> Iterator[StubOpenAI]:
    with stub_openai() as server:
        yield server


def _embedder(stub: StubOpenAI, **kwargs) -> OpenAIEmbedder:
    client = openai.OpenAI(
        api_key="sk-test-not-a-secret",
        base_url=stub.url,
        max_retries=kwargs.pop("retries", 2),
        timeout=5,
    )
    return OpenAIEmbedder(
        client,
        model="text-embedding-3-small",
        dimensions=8,
        count_tokens=token_counter("text-embedding-3-small"),
        **kwargs,
    )


@pytest.mark.parametrize("encoding_format", ["base64", "float"])
def test_vectors_come_back_in_order_in_either_encoding(stub: StubOpenAI, encoding_format):
    embedder = _embedder(stub, encoding_format=encoding_format)
    texts = ["alpha", "beta gamma", "delta"]
    vectors = embedder.embed(texts)
    for vector, text in zip(vectors, texts, strict=True):
        assert vector == pytest.approx(stub.vector(text, 8), abs=1e-6)
    assert stub.requests[0]["encoding_format"] == encoding_format
    assert stub.requests[0]["dimensions"] == 8
    assert stub.requests[0]["authorization"] == "Bearer sk-test-not-a-secret"


def test_a_server_that_ignores_base64_still_works(stub: StubOpenAI):
    stub.force_float = True
    (vector,) = _embedder(stub).embed(["alpha"])
    assert vector == pytest.approx(stub.vector("alpha", 8))


@pytest.mark.parametrize("force_float", [False, True])
def test_vectors_are_held_as_float32_whichever_way_they_came(stub: StubOpenAI, force_float):
    # Given a server answering base64 as asked, or JSON floats whatever was asked
    stub.force_float = force_float
    # When a batch is embedded
    vectors = _embedder(stub).embed(["alpha", "beta"])
    # Then each vector is 4 bytes a value, as the API computed it, not 24-byte Python floats
    # (a segment holds several batches of 1536-dim vectors at once)
    assert [memoryview(vector).format for vector in vectors] == ["f", "f"]
    assert [len(vector) for vector in vectors] == [8, 8]


@pytest.mark.parametrize("embedding", ["AAAAAAA=", "not base64!", 3])
def test_a_vector_that_is_not_float32s_is_a_permanent_error(stub: StubOpenAI, embedding):
    # Given a server whose answer holds a vector of 5 bytes, or of no base64, or a number
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    stub.script.append(Scripted(200, body=body))
    # Then embedding fails with the error that is not retried
    with pytest.raises(PermanentDependencyError):
        _embedder(stub).embed(["alpha"])


def test_batches_are_bounded_by_count(stub: StubOpenAI):
    embedder = _embedder(stub, batch_size=2)
    assert len(embedder.embed([f"text {i}" for i in range(5)])) == 5
    assert [len(r["input"]) for r in stub.requests] == [2, 2, 1]


def test_rate_limit_with_retry_after_is_absorbed(stub: StubOpenAI):
    stub.script.append(Scripted(429, headers={"Retry-After": "0"}))
    assert len(_embedder(stub).embed(["alpha"])) == 1
    assert len(stub.requests) == 2


def test_rate_limit_that_persists_becomes_transient(stub: StubOpenAI):
    stub.script.append(Scripted(429, times=10, headers={"Retry-After": "0"}))
    with pytest.raises(TransientError):
        _embedder(stub, retries=2).embed(["alpha"])
    assert len(stub.requests) == 3  # the first try and two retries inside the invocation


def test_server_errors_become_transient(stub: StubOpenAI):
    stub.script.append(Scripted(503, times=10, headers={"Retry-After": "0"}))
    with pytest.raises(TransientError):
        _embedder(stub, retries=0).embed(["alpha"])


@pytest.mark.parametrize("status", [400, 401])
def test_client_errors_are_not_retried(stub: StubOpenAI, status: int):
    stub.script.append(Scripted(status, times=10))
    with pytest.raises(PermanentDependencyError):
        _embedder(stub).embed(["alpha"])
    assert len(stub.requests) == 1


def test_oversized_input_is_refused_not_truncated(stub: StubOpenAI):
    with pytest.raises(PermanentDependencyError):
        _embedder(stub).embed(["word " * 9000])
    assert stub.requests == []
