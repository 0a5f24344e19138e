"""The e2e stack: template.yaml in moto, a Qdrant server on loopback, and the functions run by
one of two runtimes (tests/e2e/runtimes.py):

- ``--lambda-runtime=in-process`` (the default, ``make test``): handlers in the test process.
- ``--lambda-runtime=built`` (``make deploy-check``): every function in processes of the
  runtime's Python from ``sam build``'s artifacts and the image's task root alone. Only tests
  marked ``built_artifacts`` run then (the others reach into a handler's dependencies).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from qdrant_client import QdrantClient

from docproc import aws, wiring
from tests.e2e.harness import ACCOUNT, REGION, DeployedStack, RuntimeFactory
from tests.e2e.iam import AwsCalls
from tests.e2e.runtimes import Artifacts, BuiltArtifactLambdas, InProcessLambdas
from tests.qdrant_server import QdrantServer, qdrant_server

PARAMETERS = {
    "Embedder": "hashing",
    "Transcriber": "pocketsphinx",
    "SegmentPages": "50",
    "SegmentBytes": "65536",
    "MapMaxConcurrency": "2",
    "EventBusName": "docproc-events",
}
# Where tools/deploy_check.py reports the modules each built function loaded.
MODULE_REPORT_DIR = os.environ.get("DOCPROC_MODULE_REPORT_DIR")

StackFactory = Callable[..., DeployedStack]


def _reset_caches(stack: DeployedStack | None = None) -> None:
    aws.client.cache_clear()
    wiring.qdrant_client.cache_clear()
    if stack is not None:
        for module in stack.modules.values():
            # A test may have swapped ``dependencies`` for a double; only the real one caches.
            getattr(module.dependencies, "cache_clear", lambda: None)()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _report_modules(function_name: str, report: dict[str, Any]) -> None:
    if MODULE_REPORT_DIR:
        path = Path(MODULE_REPORT_DIR) / f"{function_name}.txt"
        with path.open("a") as lines:
            for name, file in sorted(report["modules"].items()):
                lines.write(f"{name}\t{file or ''}\n")


def _runtime(config: pytest.Config, aws_endpoint: str) -> RuntimeFactory:
    if config.getoption("--lambda-runtime") == "in-process":
        return lambda functions, images: InProcessLambdas(functions)
    artifacts = Artifacts(
        python=config.getoption("--runtime-python"),
        build_dir=Path(config.getoption("--build-dir")).resolve(),
        layer="DocprocLayer",
        image_root=Path(config.getoption("--image-root")).resolve(),
    )
    base = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_endpoint,
    }
    return lambda functions, images: BuiltArtifactLambdas(
        functions, images, artifacts, base, on_exit=_report_modules
    )


@pytest.fixture
def qdrant_service() -> Iterator[QdrantServer]:
    with qdrant_server() as server:
        yield server


@pytest.fixture
def stack_factory(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    qdrant_service: QdrantServer,
) -> Iterator[StackFactory]:
    """Deploys the template in moto with the given parameters (over the defaults above).

    moto also serves HTTP on loopback: presigned URLs (ffmpeg reads recordings through them)
    and, for the built runtime, every AWS call of the functions' own processes."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        runtime = _runtime(request.config, endpoint)
        deployed: list[DeployedStack] = []
        # In the test process, every AWS call of a function is checked against its role.
        calls = AwsCalls(REGION, ACCOUNT)

        def deploy(
            function_environment: dict[str, str] | None = None, **parameters: str
        ) -> DeployedStack:
            """``function_environment``: variables every function gets besides the
            template's (e.g. SSL_CERT_FILE for a test's own certificate authority)."""
            assert not deployed, "one stack per test"
            _reset_caches()
            stack = DeployedStack(
                {**PARAMETERS, "QdrantUrl": qdrant_service.url, **parameters}, runtime
            )
            for variables in stack.function_environment.values():
                variables.update(function_environment or {})
            for key, value in stack.environment().items():
                monkeypatch.setenv(key, value)
            _reset_caches(stack)
            deployed.append(stack)
            return stack

        try:
            with calls.recording():
                yield deploy
            for stack in deployed:
                denied = calls.denied(stack.role_statements)
                assert not denied, "IAM would refuse (template.yaml):\n" + "\n".join(denied)
        finally:
            for stack in deployed:
                stack.runtime.close()
                _reset_caches(stack)
            server.stop()


@pytest.fixture
def stack(stack_factory: StackFactory) -> Iterator[DeployedStack]:
    """The template deployed in moto with the real handlers behind the Lambda functions."""
    deployed = stack_factory()
    with deployed.lambdas():
        yield deployed


@pytest.fixture
def qdrant(qdrant_service: QdrantServer) -> QdrantClient:
    """A client of the Qdrant server the functions write to."""
    return qdrant_service.client()
