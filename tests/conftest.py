"""Shared fixtures. Every test runs offline: AWS is moto, servers are on loopback."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from moto import mock_aws

from benchmarks.generators import text_pdf

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"

# Integration tests run against moto in-process, or against a real endpoint such as
# LocalStack when DOCPROC_TEST_AWS_ENDPOINT is set (e.g. http://localhost:4566).
TEST_AWS_ENDPOINT = os.environ.get("DOCPROC_TEST_AWS_ENDPOINT")

# Never reach a real account, whatever the developer's shell has configured.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "OPENAI_API_KEY"):
    os.environ.pop(_name, None)
if TEST_AWS_ENDPOINT:
    os.environ["AWS_ENDPOINT_URL"] = TEST_AWS_ENDPOINT
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="docproc",
    POWERTOOLS_DEV="false",
)


def aws_backend() -> AbstractContextManager[object]:
    """moto in-process, unless the tests were pointed at a real endpoint."""
    return nullcontext() if TEST_AWS_ENDPOINT else mock_aws()


@pytest.fixture(scope="session", autouse=True)
def temporary_files_under_pytest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The temporary files of the tests and of every process they start go under pytest's
    own temporary folder, which it prunes. A process a test kills cannot remove its own
    (multiprocessing's socket folders, a segment's scratch file): in /tmp they piled up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmp")))
        patch.setattr(tempfile, "tempdir", None)  # gettempdir() caches its answer: look again
        yield


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Generated PDFs, made once per session."""
    folder = tmp_path_factory.mktemp("generated")
    yield {
        "pdf_300": text_pdf(folder / "record-300.pdf", pages=300),
        "pdf_120": text_pdf(folder / "record-120.pdf", pages=120, seed=11),
        "pdf_3": text_pdf(folder / "record-3.pdf", pages=3, seed=3),
    }


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--lambda-runtime",
        choices=["in-process", "built"],
        default="in-process",
        help="run the e2e functions in the test process or from the built artifacts",
    )
    parser.addoption("--runtime-python", default="python3.13")
    parser.addoption("--build-dir", default=".aws-sam/build")
    parser.addoption("--image-root", default="build/image")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--lambda-runtime") != "built":
        return
    skip = pytest.mark.skip(reason="reaches into a handler in the test process")
    for item in items:
        if "e2e" in item.nodeid and "built_artifacts" not in item.keywords:
            item.add_marker(skip)


# Tables that tests report (file -> outcome), printed at the end of the run.
REPORT_TABLES: dict[str, list[tuple[str, str]]] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, rows in REPORT_TABLES.items():
        terminalreporter.section(title)
        width = max((len(name) for name, _ in rows), default=0)
        for name, outcome in rows:
            terminalreporter.line(f"{name:<{width}}  {outcome}")
