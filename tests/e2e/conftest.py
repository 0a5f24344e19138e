from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws
from qdrant_client import QdrantClient

from docproc import aws, wiring
from tests.e2e.harness import DeployedStack

PARAMETERS = {
    "Embedder": "hashing",
    "Transcriber": "pocketsphinx",
    "QdrantUrl": ":memory:",
    "SegmentPages": "50",
    "SegmentBytes": "65536",
    "MapMaxConcurrency": "2",
    "EventBusName": "docproc-events",
}


def _reset_caches(stack: DeployedStack | None = None) -> None:
    aws.client.cache_clear()
    wiring.qdrant_client.cache_clear()
    if stack is not None:
        for module in stack.modules.values():
            # A test may have swapped ``dependencies`` for a double; only the real one caches.
            getattr(module.dependencies, "cache_clear", lambda: None)()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[DeployedStack]:
    """The template deployed in moto with the real handlers behind the Lambda functions."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        _reset_caches()
        deployed = DeployedStack(PARAMETERS)
        for key, value in deployed.environment().items():
            monkeypatch.setenv(key, value)
        _reset_caches(deployed)
        with deployed.lambdas_in_process():
            yield deployed
        _reset_caches(deployed)


@pytest.fixture
def qdrant(stack: DeployedStack) -> QdrantClient:
    """The in-memory Qdrant the handlers write to (one per process, shared through wiring)."""
    return wiring.qdrant_client(":memory:", None, None)
