"""Plan, ProcessSegment and Finalize as deployed: the built artifacts in processes of the
runtime's Python (tests/e2e/runtimes.py), the functions' environment from template.yaml, AWS
served by moto's server and Qdrant by the loopback REST server. For the memory benchmark."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from samtranslator.yaml_helper import yaml_parse

from tests.e2e.runtimes import Artifacts, BuiltArtifactLambdas, FunctionSpec
from tests.qdrant_server import QdrantServer, qdrant_server

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
BUCKET, TABLE = "bench-documents", "bench-ledger"
FUNCTIONS = ("PlanFunction", "ProcessSegmentFunction", "FinalizeFunction")
IMAGES = {"PlanFunction", "ProcessSegmentFunction"}
# What a deployer sets; everything else is the template's default (each section names its
# embedder: the API's loopback stand-in, or the offline one).
PARAMETERS = {"Transcriber": "pocketsphinx"}


@dataclass(frozen=True)
class LambdaRun:
    segments: int
    chunks: int
    # The segments' own time, as each reports it (duration_ms: its work, no cold start).
    segment_seconds: float
    plan_seconds: float  # the invocation, cold start included
    plan_timeout: int
    plan_mb: float
    segment_mb: float
    finalize_mb: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def template() -> dict[str, Any]:
    return yaml_parse((ROOT / "template.yaml").read_text())  # type: ignore[no-any-return]


def template_defaults() -> dict[str, str]:
    """Each parameter of template.yaml and its default ("" where it has none)."""
    return {name: str(spec.get("Default", "")) for name, spec in template()["Parameters"].items()}


def _functions(qdrant_url: str, given: dict[str, str]) -> dict[str, FunctionSpec]:
    """Each function's handler, memory, timeout and environment, read from template.yaml, with
    the ``given`` parameters (and PARAMETERS) in place of the template's defaults."""
    document = template()
    parameters = template_defaults() | PARAMETERS | given | {"QdrantUrl": qdrant_url}
    resources = {"DocumentsBucket": BUCKET, "LedgerTable": TABLE}

    def value(raw: Any) -> str:
        if isinstance(raw, dict) and "Ref" in raw:
            return resources.get(raw["Ref"]) or parameters[raw["Ref"]]
        return str(raw)

    globals_ = document["Globals"]["Function"]["Environment"]["Variables"]
    specs = {}
    for name in FUNCTIONS:
        properties = document["Resources"][name]["Properties"]
        variables = {**globals_, **properties.get("Environment", {}).get("Variables", {})}
        image = properties.get("PackageType") == "Image"
        specs[name] = FunctionSpec(
            name=name,
            code_dir="",
            handler=properties["ImageConfig"]["Command"][0] if image else properties["Handler"],
            memory_mb=int(properties["MemorySize"]),
            timeout_s=int(properties["Timeout"]),
            environment={key: value(raw) for key, raw in variables.items()},
        )
    return specs


class LambdaStack:
    def __init__(self, work: Path, build_dir: Path, image_root: Path) -> None:
        from tools.deploy_check import find_runtime_python

        self._artifacts = Artifacts(find_runtime_python(), build_dir, "DocprocLayer", image_root)
        self._work = work

    def __enter__(self) -> LambdaStack:
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        self._reset_aws()
        self._qdrant_context = qdrant_server()
        self._qdrant = self._qdrant_context.__enter__()
        credentials = {
            "region_name": REGION,
            "endpoint_url": self._endpoint,
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        self.s3 = boto3.client("s3", **credentials)
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        table = template()["Resources"]["LedgerTable"]["Properties"]
        boto3.resource("dynamodb", **credentials).create_table(
            TableName=TABLE,
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            BillingMode=table["BillingMode"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        )
        self._secrets = boto3.client("secretsmanager", **credentials)
        return self

    @property
    def qdrant(self) -> QdrantServer:
        """The Qdrant server on loopback that the functions write to."""
        return self._qdrant

    def secret(self, name: str, value: str) -> str:
        """A secret in the stack's Secrets Manager: its ARN, for a ``...SecretArn`` parameter."""
        return str(self._secrets.create_secret(Name=name, SecretString=value)["ARN"])

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._qdrant_context.__exit__(kind, error, trace)
        self._reset_aws()  # the objects it holds (a 1 GB upload) are this process's memory
        self._moto.stop()

    def _reset_aws(self) -> None:
        """Empty moto's accounts: its state is the process's, shared by every server it starts,
        so an earlier stack's table and bucket would still be there."""
        reset = urllib.request.Request(f"{self._endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=30) as answer:
            answer.read()

    def ingest(self, path: Path, parameters: dict[str, str] | None = None) -> LambdaRun:
        """Upload, Plan, every segment, Finalize, each function cold (new environments), the
        stack deployed with ``parameters`` (beside PARAMETERS)."""
        specs = _functions(self._qdrant.url, parameters or {})
        runtime = BuiltArtifactLambdas(
            specs,
            IMAGES,
            self._artifacts,
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self._endpoint,
            },
        )
        try:
            key = f"uploads/bench/case/{uuid.uuid4().hex[:12]}/{path.name}"
            with path.open("rb") as body:
                put = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Object Created",
                "source": "aws.s3",
                "detail": {
                    "bucket": {"name": BUCKET},
                    "object": {
                        "key": key,
                        "size": path.stat().st_size,
                        "etag": put["ETag"].strip('"'),
                        "version-id": put["VersionId"],
                        "sequencer": "0",
                    },
                },
            }
            started = time.perf_counter()
            plan = self._invoke(runtime, "PlanFunction", {"event": event, "execution_arn": "bench"})
            plan_seconds = time.perf_counter() - started
            if plan["first_task"] is not None:
                tasks = [plan["first_task"]]
            else:
                manifest = plan["manifest"]
                body = self.s3.get_object(Bucket=manifest["bucket"], Key=manifest["key"])["Body"]
                tasks = json.loads(body.read())
            segments = [self._invoke(runtime, "ProcessSegmentFunction", task) for task in tasks]
            self._invoke(runtime, "FinalizeFunction", plan)
            peaks = runtime.peak_rss_mb()
            return LambdaRun(
                segments=len(tasks),
                chunks=sum(int(segment["chunks"]) for segment in segments),
                segment_seconds=sum(int(segment["duration_ms"]) for segment in segments) / 1000,
                plan_seconds=plan_seconds,
                plan_timeout=specs["PlanFunction"].timeout_s,
                plan_mb=peaks["PlanFunction"],
                segment_mb=max(float(segment["peak_rss_mb"]) for segment in segments),
                finalize_mb=peaks["FinalizeFunction"],
            )
        finally:
            runtime.close()

    @staticmethod
    def _invoke(runtime: BuiltArtifactLambdas, function: str, event: Any) -> Any:
        result, error = runtime.invoke(function, event)
        if error is not None:
            raise RuntimeError(f"{function}: {error['errorType']}: {error['errorMessage']}")
        return result
