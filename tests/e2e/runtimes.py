"""Where the e2e stack's Lambda functions run: in the test process, or from the built artifacts.

``InProcessLambdas`` imports each ``functions/<name>/app.py`` into the test process (fast; what
``make test`` runs, and what lets a test reach into a handler's dependencies).

``BuiltArtifactLambdas`` is what ``make deploy-check`` runs: each function in processes of the
runtime's Python (``python3.13 -I -S``), with nothing on ``sys.path`` but what Lambda would
have: the function's built directory and its layer (zip functions, from ``sam build``), or the
image's task root (assembled from functions/Dockerfile by tools/deploy_check.py). One process
is one execution environment: kept warm between invocations, another started when all are
busy (as Lambda scales out). It sets what Lambda's runtime sets (function name, memory size,
region, task root, an X-Ray trace id per invocation) and enforces the function's timeout.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.e2e.iam import acting_as

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")

# (result, None) or (None, {"errorType": ..., "errorMessage": ...}), as Lambda answers.
Answer = tuple[Any, dict[str, str] | None]


def load_handler_module(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (they are all ``app``)."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"docproc_functions_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeContext:
    """The attributes Powertools and the handlers read from a Lambda context."""

    function_name: str
    # The handlers run inside the test process, whose memory (moto, every handler and the
    # test data) is not one function's: Lambda's largest size keeps the segment memory budget,
    # which reads this process's RSS, from tripping on it. Tests of the budget pass a small
    # limit; the built-artifact runtime gives each function its template MemorySize.
    memory_limit_in_mb: int = 10_240
    invoked_function_arn: str = ""
    aws_request_id: str = "e2e-request"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the template declares it and as ``sam build`` left it."""

    name: str
    code_dir: str  # functions/<name>
    handler: str  # app.handler (zip) or functions.<name>.app.handler (image)
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]


class InProcessLambdas:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self.modules = {
            name: load_handler_module(Path(spec.code_dir).name) for name, spec in functions.items()
        }

    def invoke(self, function_name: str, payload: Any) -> Answer:
        handler = self.modules[function_name].handler
        try:
            with acting_as(function_name):
                return handler(payload, FakeContext(function_name)), None
        except Exception as exc:
            return None, {"errorType": type(exc).__name__, "errorMessage": str(exc)}

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Artifacts:
    """Where the built code of each kind of function is."""

    python: str  # the runtime's interpreter
    build_dir: Path  # sam build's output: <Function>/ and <Layer>/python
    layer: str  # logical id of the zip functions' layer
    image_root: Path  # the image's task root, as the Dockerfile makes it

    def paths(self, spec: FunctionSpec, image: bool) -> list[str]:
        if image:
            return [str(self.image_root)]
        return [str(self.build_dir / spec.name), str(self.build_dir / self.layer / "python")]


@dataclass
class _Environment:
    process: subprocess.Popen[str]
    protocol: Any
    init_seconds: float
    log: list[str] = field(default_factory=list)


class BuiltArtifactLambdas:
    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        images: set[str],
        artifacts: Artifacts,
        base_environment: dict[str, str],
        on_exit: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.functions = functions
        self.images = images
        self.artifacts = artifacts
        self.base_environment = base_environment
        self.on_exit = on_exit
        self.logs: dict[str, list[str]] = {name: [] for name in functions}
        self.init_seconds: dict[str, list[float]] = {name: [] for name in functions}
        self._idle: dict[str, list[_Environment]] = {name: [] for name in functions}
        self._all: list[tuple[str, _Environment]] = []
        self._lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._environment_ids = itertools.count(1)
        # Each environment's /tmp; removed with the test process.
        self._tmp = tempfile.TemporaryDirectory(prefix="lambda-tmp-", ignore_cleanup_errors=True)

    def _environment_for(self, spec: FunctionSpec, index: int) -> dict[str, str]:
        image = spec.name in self.images
        task_root = str(self.artifacts.image_root) if image else str(self.artifacts.build_dir)
        tmp = Path(self._tmp.name) / f"{spec.name}-{index}"
        tmp.mkdir()
        region = self.base_environment["AWS_DEFAULT_REGION"]
        return {
            **self.base_environment,
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_REGION": region,
            "DOCPROC_FUNCTION_ARN": f"arn:aws:lambda:{region}:123456789012:function:{spec.name}",
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": spec.handler,
            # Tracing is Active in the template: the SDK sends segments to a daemon that is
            # not there (UDP), as it would to Lambda's.
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "TMPDIR": str(tmp),
            "HOME": str(tmp),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }

    def _start(self, function_name: str) -> _Environment:
        spec = self.functions[function_name]
        image = function_name in self.images
        index = next(self._environment_ids)
        process = subprocess.Popen(
            [
                self.artifacts.python,
                "-I",
                "-S",
                str(BOOTSTRAP),
                spec.handler,
                *self.artifacts.paths(spec, image),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._environment_for(spec, index),
            cwd=self.artifacts.image_root if image else self.artifacts.build_dir / spec.name,
        )
        environment = _Environment(process, process.stdout, 0.0)
        threading.Thread(
            target=self._collect_log, args=(function_name, environment), daemon=True
        ).start()
        hello = json.loads(process.stdout.readline() or '{"init_error": "exited"}')  # type: ignore[union-attr]
        if "init_error" in hello:
            process.wait(timeout=10)
            raise RuntimeError(
                f"{function_name} failed to start: {hello['init_error']}\n"
                + "".join(environment.log[-40:])
            )
        environment.init_seconds = hello["init_seconds"]
        with self._lock:
            self.init_seconds[function_name].append(hello["init_seconds"])
            self._all.append((function_name, environment))
        return environment

    def _collect_log(self, function_name: str, environment: _Environment) -> None:
        assert environment.process.stderr is not None
        for line in environment.process.stderr:
            environment.log.append(line)
            with self._lock:
                self.logs[function_name].append(line)

    def invoke(self, function_name: str, payload: Any) -> Answer:
        with self._lock:
            idle = self._idle[function_name]
            environment = idle.pop() if idle else None
        if environment is None:
            environment = self._start(function_name)
        spec = self.functions[function_name]
        request = {
            "event": payload,
            "request_id": f"e2e-{next(self._request_ids)}",
            "deadline_ms": int((time.time() + spec.timeout_s) * 1000),
        }
        process = environment.process
        assert process.stdin is not None
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        timer = threading.Timer(spec.timeout_s, process.kill)
        timer.start()
        line = environment.protocol.readline()
        timer.cancel()
        if not line:  # killed by the timeout, or crashed: this environment is gone
            process.wait()
            timed_out = process.returncode == -9
            return None, {
                "errorType": "Sandbox.Timedout" if timed_out else "Runtime.ExitError",
                "errorMessage": f"{function_name} exited with {process.returncode}",
            }
        answer = json.loads(line)
        with self._lock:
            self._idle[function_name].append(environment)
        if "errorType" in answer:
            return None, {"errorType": answer["errorType"], "errorMessage": answer["errorMessage"]}
        return answer["result"], None

    @staticmethod
    def _report(environment: _Environment) -> dict[str, Any]:
        process = environment.process
        assert process.stdin is not None
        process.stdin.write(json.dumps({"report": True}) + "\n")
        process.stdin.flush()
        return dict(json.loads(environment.protocol.readline()))

    def peak_rss_mb(self) -> dict[str, float]:
        """Each function's largest peak resident memory (VmHWM) among its environments."""
        peaks: dict[str, float] = {}
        for function_name, environment in self._all:
            if environment.process.poll() is None:
                peak = float(self._report(environment)["peak_rss_mb"])
                peaks[function_name] = max(peaks.get(function_name, 0.0), peak)
        return peaks

    def close(self) -> None:
        all_environments, self._all = self._all, []
        for function_name, environment in all_environments:
            process = environment.process
            if process.poll() is None and self.on_exit is not None:
                self.on_exit(function_name, self._report(environment))
            if process.poll() is None:
                assert process.stdin is not None
                process.stdin.close()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
