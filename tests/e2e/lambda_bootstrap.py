"""One Lambda execution environment: run by the runtime's Python with only the built artifacts
on ``sys.path`` (``python3.13 -I -S lambda_bootstrap.py HANDLER PATH...``).

It stands in for Lambda's runtime interface client, as the harness's built-artifact runtime
describes: the init phase imports the handler's module; then each line on stdin is one
invocation (the event, a request id, the deadline), answered by one line on the protocol pipe
(the result, or Lambda's ``errorType``/``errorMessage``). Whatever the function prints or logs
goes to stderr, as Lambda sends it to CloudWatch. Only the standard library is imported here:
the point is to prove what the artifacts alone import.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import sys
import time
import traceback


class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.invoked_function_arn = os.environ["DOCPROC_FUNCTION_ARN"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "harness"
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _trace_id() -> str:
    # What the runtime sets per invocation when tracing is active (the X-Ray SDK reads it).
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=1"
    )


def _peak_rss_mb() -> float:
    """The environment's peak resident memory (VmHWM) over its whole life."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    handler_name, *paths = sys.argv[1:]
    sys.path[:0] = paths
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the function's stdout (Powertools' logs) goes where Lambda sends it
    sys.stdout = sys.stderr

    module_name, _, function_name = handler_name.rpartition(".")
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # Lambda reports this as Runtime.ImportModuleError
        traceback.print_exc()
        protocol.write(json.dumps({"init_error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 1
    init_seconds = time.perf_counter() - started
    protocol.write(json.dumps({"ready": True, "init_seconds": init_seconds}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("report"):
            modules = {
                name: getattr(module, "__file__", None) for name, module in sys.modules.items()
            }
            protocol.write(json.dumps({"modules": modules, "peak_rss_mb": _peak_rss_mb()}) + "\n")
            continue
        os.environ["_X_AMZN_TRACE_ID"] = _trace_id()
        context = Context(request["request_id"], request["deadline_ms"])
        try:
            answer = {"result": handler(request["event"], context)}
        except Exception as exc:
            traceback.print_exc()
            answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        protocol.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
