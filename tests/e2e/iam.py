"""Every AWS call a function makes in the e2e stack, checked against the IAM role the template
gives it. moto does not enforce IAM, so a permission the template forgot would otherwise show
only in AWS, as AccessDenied.

The handlers run in the test process (``InProcessLambdas``): while one runs, its thread acts
as that function (``acting_as``), and so do the threads it starts (S3 transfers, embedding
batches). moto's Step Functions engine runs in the test process too: an execution's threads
act as its state machine's role, so the calls its tasks make (invoking a function, reading a
Map's items, writing its results, publishing an event, starting and waiting for another
execution) are checked as well. Each botocore call made meanwhile is recorded with who made
it; at the end of the test each is matched, as IAM would, against the statements of that
role as the harness created it (its resources resolved to the stack's ARNs): an action, a
resource, the ``s3:prefix`` condition of a listing, and the partition key of a DynamoDB item
written or read (``dynamodb:LeadingKeys``). A read that S3 answered 404 needs the listing
too: without ``s3:ListBucket`` S3 answers 403. Presigned URLs are not calls, and are not
seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError

_acting = threading.local()


@contextmanager
def acting_as(function: str | None) -> Iterator[None]:
    """AWS calls made in this thread (and the threads it starts) are ``function``'s: a
    function's name, or the name of a state machine's role; None: the test's own, not
    checked."""
    previous = getattr(_acting, "function", None)
    _acting.function = function
    try:
        yield
    finally:
        _acting.function = previous


def as_the_test() -> AbstractContextManager[None]:
    """AWS calls made in this thread meanwhile are the test's own (a fault it injects while
    a function or an execution runs), not checked."""
    return acting_as(None)


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    params: dict[str, Any]
    # S3 answered 404: AWS does so only to a role that may list the key, else 403.
    missing: bool = False


@dataclass(frozen=True)
class Request:
    """What IAM authorizes for a call: an action on a resource, and the condition keys."""

    action: str
    resource: str
    conditions: tuple[tuple[str, str], ...] = ()


class AwsCalls:
    """The calls the functions and the executions made while ``recording``."""

    def __init__(self, region: str, account: str) -> None:
        self.calls: list[Call] = []
        self._region = region
        self._account = account
        self._lock = threading.Lock()

    @contextmanager
    def recording(self) -> Iterator[AwsCalls]:
        real_call = BaseClient._make_api_call
        real_submit = ThreadPoolExecutor.submit

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = getattr(_acting, "function", None)
            if function is None:
                return real_call(client, operation, params)
            service = client.meta.service_model.endpoint_prefix
            missing = False
            try:
                return real_call(client, operation, params)
            except ClientError as exc:
                missing = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
                raise
            finally:
                with self._lock:
                    self.calls.append(Call(function, service, operation, dict(params), missing))

        def submit(
            executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> Future[Any]:
            function = getattr(_acting, "function", None)
            if function is None:
                return real_submit(executor, fn, *args, **kwargs)

            def as_submitter() -> Any:
                with acting_as(function):
                    return fn(*args, **kwargs)

            return real_submit(executor, as_submitter)

        with (
            mock.patch.object(BaseClient, "_make_api_call", make_api_call),
            mock.patch.object(ThreadPoolExecutor, "submit", submit),
            _threads_inherit_acting(),
            _executions_act_as_their_role(),
        ):
            yield self

    def denied(self, policies: Callable[[str], list[dict[str, Any]]]) -> list[str]:
        """Each call some request of which no statement of its function's role allows:
        ``policies(function)`` gives the role's statements."""
        refused = []
        for call in self.calls:
            statements = policies(call.function)
            for request in self._requests(call):
                if not any(_allows(statement, request) for statement in statements):
                    refused.append(
                        f"{call.function}: {call.operation} needs {request.action} on "
                        f"{request.resource}"
                        + (f" with {dict(request.conditions)}" if request.conditions else "")
                    )
        return sorted(set(refused))

    def _requests(self, call: Call) -> list[Request]:
        params, service = call.params, call.service
        if service == "s3":
            return _s3_requests(call.operation, params, call.missing)
        if service == "dynamodb":
            leading = _leading_key(params)
            conditions = (("dynamodb:LeadingKeys", leading),) if leading is not None else ()
            return [
                Request(
                    f"dynamodb:{call.operation}",
                    self._table(table, params.get("IndexName")),
                    conditions,
                )
                for table in _tables(params)
            ]
        if service == "events":
            return [
                Request("events:PutEvents", self._bus(entry.get("EventBusName", "default")))
                for entry in params.get("Entries", [])
            ]
        if service == "secretsmanager":
            return [Request(f"secretsmanager:{call.operation}", params["SecretId"])]
        if service == "lambda" and call.operation == "Invoke":
            return [Request("lambda:InvokeFunction", self._function(params["FunctionName"]))]
        if service == "states":
            resource = params.get("stateMachineArn") or params.get("executionArn") or "*"
            return [Request(f"states:{call.operation}", resource)]
        return [Request(f"{service}:{call.operation}", "*")]

    def _function(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:lambda:{self._region}:{self._account}:function:{name}"

    def _table(self, name: str, index: str | None) -> str:
        arn = f"arn:aws:dynamodb:{self._region}:{self._account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def _bus(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:events:{self._region}:{self._account}:event-bus/{name}"


@contextmanager
def _threads_inherit_acting() -> Iterator[None]:
    """A thread started while acting (the engine's workers, one per state, branch or Map
    iteration) acts likewise. Pool threads are left alone: they outlive the task that
    started them, and ``submit`` passes the acting on with each task."""
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        function = getattr(_acting, "function", None)
        pool_worker = getattr(getattr(thread, "_target", None), "__module__", "")
        if function is not None and pool_worker != "concurrent.futures.thread":
            run = thread.run

            def run_acting() -> None:
                with acting_as(function):
                    run()

            thread.run = run_acting  # type: ignore[method-assign]
        real_start(thread)

    with mock.patch.object(threading.Thread, "start", start):
        yield


@contextmanager
def _executions_act_as_their_role() -> Iterator[None]:
    """An execution in moto's engine acts as its state machine's role (named by the role's
    name), whoever started it: the test, a function, or another execution."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    real_logic = ExecutionWorker._execution_logic

    def execution_logic(worker: ExecutionWorker) -> None:
        role_arn = worker._evaluation_details.aws_execution_details.role_arn
        with acting_as(role_arn.rsplit("/", 1)[-1]):
            real_logic(worker)

    with mock.patch.object(ExecutionWorker, "_execution_logic", execution_logic):
        yield


def _leading_key(params: dict[str, Any]) -> str | None:
    """The partition key of the one item a call writes or reads (the ledger's ``pk``), as
    the resource layer or the client gives it; None for other calls (a query, a batch)."""
    item = params.get("Item") or params.get("Key") or {}
    value = item.get("pk")
    if isinstance(value, dict):  # the client's form: {"S": "..."}
        value = value.get("S")
    return value if isinstance(value, str) else None


def _tables(params: dict[str, Any]) -> list[str]:
    if "TableName" in params:
        return [params["TableName"]]
    return list(params.get("RequestItems", {}))


def _s3_requests(operation: str, params: dict[str, Any], missing: bool) -> list[Request]:
    bucket = params.get("Bucket", "")
    key = params.get("Key", "")
    objects = f"arn:aws:s3:::{bucket}/{key}"
    if operation in {"GetObject", "HeadObject"}:
        action = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
        read = Request(action, objects)
        if missing:  # the code was told "not found": a role that may not list hears 403
            return [read, Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", key),))]
        return [read]
    if operation in {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}:
        return [Request("s3:PutObject", objects)]
    if operation == "DeleteObject":
        return [Request("s3:DeleteObject", objects)]
    if operation == "DeleteObjects":
        return [
            Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{entry['Key']}")
            for entry in params["Delete"]["Objects"]
        ]
    if operation in {"ListObjectsV2", "ListObjects"}:
        prefix = (("s3:prefix", params.get("Prefix", "")),)
        return [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", prefix)]
    if operation == "ListObjectVersions":
        prefix = (("s3:prefix", params.get("Prefix", "")),)
        return [Request("s3:ListBucketVersions", f"arn:aws:s3:::{bucket}", prefix)]
    return [Request(f"s3:{operation}", objects)]


def listed(value: Any) -> list[Any]:
    """A policy field as IAM reads it: one value or a list of them."""
    return value if isinstance(value, list) else [value]


def _allows(statement: dict[str, Any], request: Request) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not any(fnmatchcase(request.action, action) for action in listed(statement["Action"])):
        return False
    if not any(fnmatchcase(request.resource, pattern) for pattern in listed(statement["Resource"])):
        return False
    return _conditions_hold(statement.get("Condition", {}), dict(request.conditions))


# The condition operators this check models, each on a single-valued key of the request.
_MATCHES: dict[str, Callable[[str, str], bool]] = {
    "StringLike": fnmatchcase,
    "ForAllValues:StringEquals": str.__eq__,
}


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        matches = _MATCHES.get(operator)
        for key, patterns in tests.items():
            if matches is None or key not in context:
                # Conditions this check does not model refuse, so that none is passed unread
                # (ForAllValues of a key the request lacks would hold in IAM: refused here).
                return False
            if not any(matches(context[key], pattern) for pattern in listed(patterns)):
                return False
    return True
