"""template.yaml deployed into moto, with Lambda tasks dispatched to the real handlers.

What is real: the SAM template (translated by aws-sam-translator), the state machine
definition (executed by moto's Step Functions engine), the handlers and the whole package,
S3, DynamoDB, EventBridge rules and SQS (moto), a Qdrant server's REST API that every function
reaches as a separate Lambda would (tests/qdrant_server.py). What moto cannot do is stood in
for, each in one place here:
  - Lambda code runs without Docker: ``LambdaFunction._invoke_lambda`` is patched to hand the
    event to a runtime (tests/e2e/runtimes.py): the handlers imported into the test process,
    or each function in processes of the runtime's Python from ``sam build``'s artifacts.
  - moto's EventBridge has no Step Functions or Lambda targets: each rule from the template
    also gets an SQS "tap" target; the harness reads what the rule matched and starts the
    execution / invokes the function with it, as the real target would.
  - moto's Step Functions emits no "Execution Status Change" events: the harness builds the
    event from DescribeExecution and puts it on the bus, where the template's rule decides.
  - moto's S3 sends "Object Deleted" for a versioned bucket only when the last version goes,
    not for a delete marker or one old version: the harness puts those events on the bus.
  - moto's S3 events carry one constant "sequencer"; S3's grows per key with each event:
    ``upload`` numbers the events it hands on, in upload order.
  - moto's Step Functions has no redrive: ``rerun`` starts a new execution with the same
    input, which is what a redrive does to the segments (finished ones are skipped).
  - moto's Distributed Map counts a failed item and goes on: the Map Run never fails, whatever
    its ToleratedFailureCount/Percentage (both 0 by default: one failed item fails it).
    ``_tolerated_failures`` fails it with ``States.ExceedToleratedFailureThreshold`` past them.
  - moto's ``states:startExecution`` integration (the Backfill state machine runs ingests
    with ``.sync:2``) hands the ASL's parameter names (``StateMachineArn``) to boto3, which
    wants ``stateMachineArn``, and returns boto3's names and datetimes where Step Functions
    returns ``ExecutionArn`` and strings: ``_sfn_integration`` translates both ways.
  - moto's DynamoDB checks a write's condition, then writes, with nothing between two threads'
    requests: two twin Finalizes could both pass ``updated_at = :read`` and both announce.
    DynamoDB checks and writes an item at once; ``atomic_item_writes`` makes moto's writes
    take turns.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from unittest import mock

import boto3
from moto.awslambda.models import LambdaFunction
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.e2e.runtimes import Answer, FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "docproc"
BUCKET = "docproc-e2e-documents"
TABLE = "docproc-e2e-ledger"
CODE_BUCKET = "docproc-e2e-code"
_NO_VALUE = object()


class LambdaRuntime(Protocol):
    def invoke(self, function_name: str, payload: Any) -> Answer: ...

    def close(self) -> None: ...


RuntimeFactory = Callable[[dict[str, FunctionSpec], set[str]], LambdaRuntime]


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# code runs in-process in the e2e harness\n")
    return buffer.getvalue()


class _Resolver:
    """Evaluates the intrinsic functions the translated template uses."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self.parameters.update(parameters)
        self.physical: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self(item) for item in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return _NO_VALUE
                if arg in self.parameters:
                    return self.parameters[arg]
                if arg.startswith("AWS::"):
                    return self.pseudo(arg)
                return self.physical[arg]
            if key == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                assert attribute == "Arn", attribute
                return self.arns[resource]
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                variables = {name: self(v) for name, v in variables.items()}
                return self._sub(text, variables)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                return self(arg[0]) == self(arg[1])
            if key == "Fn::Not":
                return not self(arg[0])
            if key == "Fn::Join":
                return arg[0].join(str(self(item)) for item in arg[1])
        resolved = {key: self(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        out, index = [], 0
        while (start := text.find("${", index)) != -1:
            end = text.index("}", start)
            out.append(text[index:start])
            name = text[start + 2 : end]
            if name in variables:
                out.append(str(variables[name]))
            elif "." in name:
                out.append(self({"Fn::GetAtt": name.split(".", 1)}))
            else:
                out.append(str(self({"Ref": name})))
            index = end + 1
        out.append(text[index:])
        return "".join(out)


def packaged_template() -> tuple[dict[str, Any], dict[str, str]]:
    """template.yaml as `sam package` would hand it to CloudFormation (code in S3, images in
    ECR), and each function's code folder."""
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    code_dirs: dict[str, str] = {}
    for logical_id, resource in sam["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            if properties.get("PackageType") == "Image":
                # functions.<name>.app.handler -> functions/<name>/
                module = properties["ImageConfig"]["Command"][0]
                code_dirs[logical_id] = "functions/" + module.split(".")[1]
                properties["ImageUri"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/docproc:e2e"
            else:
                code_dirs[logical_id] = properties["CodeUri"]
                properties["CodeUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            # (the harness creates each state machine from its file: see DeployedStack)
            definition = Path(properties["DefinitionUri"]).name
            properties["DefinitionUri"] = {"Bucket": CODE_BUCKET, "Key": definition}
    return sam, code_dirs


def _step_functions_names(value: Any, top: bool = True) -> Any:
    """boto3's answer as the Step Functions integration gives it: top-level names capitalised
    (ExecutionArn), datetimes as ISO strings."""
    if isinstance(value, dict):
        return {
            (key[0].upper() + key[1:] if top else key): _step_functions_names(item, top=False)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_step_functions_names(item, top=False) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@contextmanager
def _sfn_integration() -> Iterator[None]:
    """See the module docstring: moto's states:startExecution integration, made to speak
    both boto3 (to moto) and Step Functions (to the state machine)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_task,
    )

    service = sfn_task.StateTaskServiceSfn
    normalise = service._normalise_parameters
    build_sync2 = service._build_sync2_resolver

    def parameters(self: Any, params: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        normalise(self, params, *args, **kwargs)
        for key in list(params):
            params[key[0].lower() + key[1:]] = params.pop(key)

    def responses(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(response, dict):
            translated = _step_functions_names(response)
            response.clear()
            response.update(translated)

    def sync2(self: Any, *args: Any, **kwargs: Any) -> Callable[[], Any]:
        resolve = build_sync2(self, *args, **kwargs)
        return lambda: _step_functions_names(resolve()) if resolve is not None else None

    with (
        mock.patch.object(service, "_normalise_parameters", parameters),
        mock.patch.object(service, "_normalise_response", responses),
        mock.patch.object(service, "_build_sync2_resolver", sync2),
    ):
        yield


@contextmanager
def _tolerated_failures() -> Iterator[None]:
    """See the module docstring: a Map Run fails when its failed items exceed what it
    tolerates, as Step Functions' does."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    component = distributed.DistributedIterationComponent
    map_run = component._map_run
    threshold = StatesErrorNameType.StatesExceedToleratedFailureThreshold

    def checked(self: Any, env: Any, eval_input: Any) -> None:
        map_run(self, env, eval_input)
        # moto gives an unset threshold as 0, so a failure must pass both to fail the run:
        # Step Functions' rule wherever at most one is set, as in docproc's state machines.
        items = eval_input.map_run_record.item_counter
        failed, total = items.failed.get(), items.total.get()
        if failed > eval_input.tolerated_failure_count and (
            100.0 * failed / max(total, 1) > eval_input.tolerated_failure_percentage
        ):
            cause = f"The specified tolerated failure threshold was exceeded: {failed} of {total}"
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=threshold),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=EventDetails(
                        executionFailedEventDetails=ExecutionFailedEventDetails(
                            error=threshold.to_name(), cause=cause
                        )
                    ),
                )
            )

    with mock.patch.object(component, "_map_run", checked):
        yield


@contextmanager
def atomic_item_writes() -> Iterator[None]:
    """See the module docstring: moto's DynamoDB item writes, one at a time."""
    from moto.dynamodb.models import DynamoDBBackend

    turn = threading.RLock()  # re-entrant: a transaction's items go through put/update/delete

    def taking_turns(write: Callable[..., Any]) -> Callable[..., Any]:
        def written(*args: Any, **kwargs: Any) -> Any:
            with turn:
                return write(*args, **kwargs)

        return written

    with ExitStack() as patches:
        for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
            write = getattr(DynamoDBBackend, name)
            patches.enter_context(mock.patch.object(DynamoDBBackend, name, taking_turns(write)))
        yield


class DeployedStack:
    """The stack inside an active ``mock_aws``; see the module docstring."""

    def __init__(self, parameters: dict[str, str], runtime: RuntimeFactory) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.lambda_ = boto3.client("lambda", region_name=REGION)
        self.iam = boto3.client("iam", region_name=REGION)
        self.dynamodb = boto3.resource("dynamodb", region_name=REGION)
        self.function_environment: dict[str, dict[str, str]] = {}
        self.functions: dict[str, FunctionSpec] = {}
        # Each function's execution role (its name in moto's IAM).
        self.function_roles: dict[str, str] = {}
        self.images: set[str] = set()
        self.invocations: list[tuple[str, dict[str, Any]]] = []
        self._statements: dict[str, list[dict[str, Any]]] = {}
        self.rule_taps: dict[str, str] = {}
        self._sequencer = 0x617F08299329D189
        self._deploy(parameters)
        self.runtime = runtime(self.functions, self.images)
        # The handler modules, when they run in the test process (tests may reach into them).
        self.modules = getattr(self.runtime, "modules", {})

    def role_statements(self, function: str) -> list[dict[str, Any]]:
        """The statements of ``function``'s role, as created in moto's IAM (resources
        resolved); or of the role so named (a state machine's)."""
        if function not in self._statements:
            role = self.function_roles.get(function, function)
            names = self.iam.list_role_policies(RoleName=role)["PolicyNames"]
            self._statements[function] = [
                statement
                for name in names
                for statement in self.iam.get_role_policy(RoleName=role, PolicyName=name)[
                    "PolicyDocument"
                ]["Statement"]
            ]
        return self._statements[function]

    # -- deployment ---------------------------------------------------------------------------

    def _deploy(self, parameters: dict[str, str]) -> None:
        sam, code_dirs = packaged_template()
        self.sam_template = sam
        definitions = {
            name: resource["Properties"]["DefinitionUri"]["Key"]
            for name, resource in sam["Resources"].items()
            if resource["Type"] == "AWS::Serverless::StateMachine"
        }
        cfn = transform(sam, parameters, ManagedPolicyLoader(self.iam))
        self.template = cfn
        resolve = self.resolve = _Resolver(cfn, parameters)
        # A resource whose Condition is false is not created (the Webhook function without a URL).
        resources = {
            name: resource
            for name, resource in cfn["Resources"].items()
            if "Condition" not in resource or resolve.condition(resource["Condition"])
        }

        def of_type(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
            return ((name, r) for name, r in resources.items() if r["Type"] == kind)

        # Physical names first: everything else refers to them.
        for name, resource in resources.items():
            kind = resource["Type"]
            if kind == "AWS::S3::Bucket":
                resolve.physical[name] = BUCKET
                resolve.arns[name] = f"arn:aws:s3:::{BUCKET}"
            elif kind == "AWS::DynamoDB::Table":
                resolve.physical[name] = TABLE
                resolve.arns[name] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
            elif kind == "AWS::Lambda::Function":
                resolve.physical[name] = name
                resolve.arns[name] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            elif kind == "AWS::IAM::Role":
                resolve.physical[name] = name
                resolve.arns[name] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
            elif kind == "AWS::Lambda::LayerVersion":
                resolve.physical[name] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"
            elif kind == "AWS::StepFunctions::StateMachine":
                sm_name = resolve(resource["Properties"]["StateMachineName"])
                arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{sm_name}"
                resolve.physical[name] = arn
                resolve.arns[name] = arn
            elif kind == "AWS::SQS::Queue":
                resolve.physical[name] = f"{STACK}-{name}"
                resolve.arns[name] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-{name}"
            elif kind == "AWS::Logs::LogGroup":
                resolve.arns[name] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x"

        for name, resource in of_type("AWS::IAM::Role"):
            props = resolve(resource["Properties"])
            self.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
            )
            for policy in props.get("Policies", []):
                # SAM's policy templates omit Version (IAM then assumes it); moto insists.
                document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
                self.iam.put_role_policy(
                    RoleName=name,
                    PolicyName=policy["PolicyName"],
                    PolicyDocument=json.dumps(document),
                )

        for _, resource in of_type("AWS::S3::Bucket"):
            props = resolve(resource["Properties"])
            self.s3.create_bucket(Bucket=BUCKET)
            if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
                self.s3.put_bucket_versioning(
                    Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
                )
            if props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration"):
                self.s3.put_bucket_notification_configuration(
                    Bucket=BUCKET,
                    NotificationConfiguration={"EventBridgeConfiguration": {}},
                )

        for name, _ in of_type("AWS::SQS::Queue"):
            self.sqs.create_queue(QueueName=resolve.physical[name])

        for _, resource in of_type("AWS::DynamoDB::Table"):
            props = resolve(resource["Properties"])
            self.dynamodb.create_table(
                TableName=TABLE,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props["BillingMode"],
                GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
            )

        zipped = _empty_zip()
        for name, resource in of_type("AWS::Lambda::Function"):
            props = resolve(resource["Properties"])
            environment = props.get("Environment", {}).get("Variables", {})
            self.function_environment[name] = {k: str(v) for k, v in environment.items()}
            package: dict[str, Any] = (
                {"PackageType": "Image", "Code": {"ImageUri": props["Code"]["ImageUri"]}}
                if props.get("PackageType") == "Image"
                else {
                    "Runtime": props["Runtime"],
                    "Handler": props["Handler"],
                    "Code": {"ZipFile": zipped},
                }
            )
            self.lambda_.create_function(
                FunctionName=name,
                Role=props["Role"],
                Timeout=props.get("Timeout", 3),
                MemorySize=props.get("MemorySize", 128),
                Environment={"Variables": self.function_environment[name]},
                **package,
            )
            self.function_roles[name] = props["Role"].rsplit("/", 1)[-1]
            image = props.get("PackageType") == "Image"
            if image:
                self.images.add(name)
            self.functions[name] = FunctionSpec(
                name=name,
                code_dir=code_dirs[name],
                handler=props["ImageConfig"]["Command"][0] if image else props["Handler"],
                memory_mb=int(props.get("MemorySize", 128)),
                timeout_s=int(props.get("Timeout", 3)),
                environment=self.function_environment[name],
            )

        self.state_machine_arns: dict[str, str] = {}
        for name, resource in of_type("AWS::StepFunctions::StateMachine"):
            props = resolve(resource["Properties"])
            definition = (ROOT / "statemachine" / definitions[name]).read_text()
            for placeholder, value in props["DefinitionSubstitutions"].items():
                definition = definition.replace("${" + placeholder + "}", str(value))
            assert "${" not in definition, "a placeholder has no DefinitionSubstitutions entry"
            arn = self.sfn.create_state_machine(
                name=props["StateMachineName"], definition=definition, roleArn=props["RoleArn"]
            )["stateMachineArn"]
            assert arn == resolve.arns[name]
            self.state_machine_arns[name] = arn
            if name == "IngestStateMachine":
                self.definition, self.state_machine_role = definition, props["RoleArn"]
                self.state_machine_arn = arn

        # The bus the stack publishes on exists before the stack (EventBusName names it).
        if parameters.get("EventBusName", "default") != "default":
            self.events.create_event_bus(Name=parameters["EventBusName"])
        for name, resource in of_type("AWS::Events::Rule"):
            props = resolve(resource["Properties"])
            bus = props.get("EventBusName", "default")
            self.events.put_rule(
                Name=name, EventPattern=json.dumps(props["EventPattern"]), EventBusName=bus
            )
            tap = self.sqs.create_queue(QueueName=f"tap-{name}")["QueueUrl"]
            tap_arn = self.sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            self.events.put_targets(
                Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}]
            )
            target_arn = props["Targets"][0]["Arn"]
            self.rule_taps[target_arn] = tap

        # What the main application would subscribe to: everything docproc publishes.
        self.published_queue = self.sqs.create_queue(QueueName="published")["QueueUrl"]
        published_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.published_queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        bus = parameters.get("EventBusName", "default")
        self.events.put_rule(
            Name="main-app", EventPattern=json.dumps({"source": ["docproc"]}), EventBusName=bus
        )
        self.events.put_targets(
            Rule="main-app", EventBusName=bus, Targets=[{"Id": "app", "Arn": published_arn}]
        )

    def environment(self) -> dict[str, str]:
        """The union of the functions' environments (the handlers share one process)."""
        merged: dict[str, str] = {}
        for variables in self.function_environment.values():
            for key, value in variables.items():
                assert merged.get(key, value) == value, f"{key} differs between functions"
                merged[key] = value
        return merged

    # -- running --------------------------------------------------------------------------------

    @contextmanager
    def lambdas(self) -> Iterator[None]:
        """moto's Lambda invocations (by the state machine, the rules, ``lambda_.invoke``) go
        to the runtime; an error comes back as Lambda reports it, with the class name as
        ``errorType`` for the state machine's Retry/Catch."""
        stack = self

        def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
            stack.invocations.append((self.function_name, payload))
            result, error = stack.runtime.invoke(self.function_name, payload)
            if error is not None:
                return json.dumps(error), True, ""
            return json.dumps(result), False, ""

        with (
            mock.patch.object(LambdaFunction, "_invoke_lambda", invoke),
            _sfn_integration(),
            _tolerated_failures(),
            atomic_item_writes(),
        ):
            yield

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def delete(self, key: str, version_id: str | None = None) -> list[dict[str, Any]]:
        """DeleteObject (a delete marker, or one version when given), the "Object Deleted" event
        S3 emits for it, and what the template's rules route it to."""
        if version_id:
            self.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version_id)
        else:
            version_id = self.s3.delete_object(Bucket=BUCKET, Key=key)["VersionId"]
        detail = {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "version-id": version_id, "sequencer": "0"},
            "request-id": uuid.uuid4().hex,
            "requester": ACCOUNT,
            "reason": "DeleteObject",
            "deletion-type": "Permanently Deleted" if version_id else "Delete Marker Created",
        }
        self.events.put_events(
            Entries=[
                {
                    "Source": "aws.s3",
                    "DetailType": "Object Deleted",
                    "Detail": json.dumps(detail),
                    "Resources": [f"arn:aws:s3:::{BUCKET}"],
                }
            ]
        )
        return self.deliver_to_functions()

    def upload(self, key: str, body: bytes) -> list[dict[str, Any]]:
        """PutObject, then the events the upload rule matched (what it hands to Start)."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        start_arn = next(arn for arn in self.rule_taps if arn.endswith(":function:StartFunction"))
        events = self._drain(self.rule_taps[start_arn])
        for event in events:
            self._sequencer += 1
            event["detail"]["object"]["sequencer"] = f"{self._sequencer:016X}"
        return events

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """What the upload rule does with an event: invoke the Start function."""
        response = self.lambda_.invoke(
            FunctionName="StartFunction", Payload=json.dumps(event).encode()
        )
        assert "FunctionError" not in response, response["Payload"].read()
        return dict(json.loads(response["Payload"].read()))

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver the upload event and wait for the execution it started."""
        started = self.deliver(event)
        assert not started["duplicate"], "an execution of this version exists already"
        return self.wait(started["execution_arn"])

    def rerun(self, event: dict[str, Any]) -> dict[str, Any]:
        """A new execution of the same input: what a console redrive does (see above)."""
        return self.wait(self.start(event))

    def start(self, event: dict[str, Any], name: str | None = None) -> str:
        response = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            input=json.dumps(event),
            name=name or uuid.uuid4().hex,
        )
        return str(response["executionArn"])

    def backfill(
        self, prefix: str, max_concurrency: int = 4, tolerated: float = 0.0
    ) -> dict[str, Any]:
        """Run the Backfill state machine over ``prefix`` and wait for it (not for the
        ingest executions it starts: see ``ingest_executions``)."""
        response = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arns["BackfillStateMachine"],
            name=uuid.uuid4().hex,
            input=json.dumps(
                {
                    "prefix": prefix,
                    "max_concurrency": max_concurrency,
                    "tolerated_failure_percentage": tolerated,
                }
            ),
        )
        return self.wait(str(response["executionArn"]))

    def reindex(
        self,
        embedding_model: str,
        embedding_dimensions: int | None = None,
        dry_run: bool = False,
        max_concurrency: int = 2,
        tolerated: float = 0.0,
        collection_prefix: str | None = None,
        bm25_only: bool = False,
    ) -> dict[str, Any]:
        """Run the Reindex state machine into the given model's collection and wait for it."""
        target: dict[str, Any] = {
            "embedding_model": embedding_model,
            "embedding_dimensions": embedding_dimensions,
        }
        if collection_prefix is not None:
            target["collection_prefix"] = collection_prefix
        if bm25_only:
            target["bm25_only"] = True
        response = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arns["ReindexStateMachine"],
            name=uuid.uuid4().hex,
            input=json.dumps(
                {
                    "target": target,
                    "dry_run": dry_run,
                    "max_concurrency": max_concurrency,
                    "tolerated_failure_percentage": tolerated,
                }
            ),
        )
        return self.wait(str(response["executionArn"]))

    def ingest_executions(self) -> list[dict[str, Any]]:
        """Every execution of the ingest state machine, each waited for."""
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return [self.wait(execution["executionArn"]) for execution in listed]

    def wait(self, execution_arn: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            description = self.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return dict(description)
            time.sleep(0.1)
        raise TimeoutError(f"execution still running after {timeout}s")

    def deliver_status_change(self, execution: dict[str, Any]) -> list[dict[str, Any]]:
        """Put the "Execution Status Change" event AWS would emit; invoke whatever the
        template's rule routes it to; return those functions' results."""
        detail = {
            "executionArn": execution["executionArn"],
            "stateMachineArn": execution["stateMachineArn"],
            "name": execution.get("name") or execution["executionArn"].rsplit(":", 1)[-1],
            "status": execution["status"],
            "startDate": int(execution["startDate"].timestamp() * 1000),
            "stopDate": int(execution["stopDate"].timestamp() * 1000),
            "input": execution.get("input"),
            "output": execution.get("output"),
            "error": execution.get("error"),
            "cause": execution.get("cause"),
        }
        self.events.put_events(
            Entries=[
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                    "Resources": [execution["executionArn"]],
                }
            ]
        )
        return self.deliver_to_functions()

    def deliver_to_functions(self) -> list[dict[str, Any]]:
        """Invoke each function with the events its rules matched; return their results."""
        results = []
        for target_arn, tap in self.rule_taps.items():
            if ":function:" not in target_arn:
                continue
            for event in self._drain(tap):
                function_name = target_arn.rsplit(":", 1)[-1]
                response = self.lambda_.invoke(
                    FunctionName=function_name, Payload=json.dumps(event).encode()
                )
                results.append(json.loads(response["Payload"].read()))
        return results

    def published(self) -> list[dict[str, Any]]:
        return self._drain(self.published_queue)

    def object_keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def ledger_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.Table(TABLE).scan()["Items"])
