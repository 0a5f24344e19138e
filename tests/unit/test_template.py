"""What template.yaml, samconfig.toml and the state machine promise a deployer, read as
CloudFormation and Step Functions would read them (no AWS needed)."""

from __future__ import annotations

import json
import re
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from docproc import errors
from docproc.models import JOBS_PREFIX, WORK_PREFIX, reindex_manifest_key
from tests.e2e.harness import packaged_template
from tests.e2e.iam import listed

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
STATE_MACHINES = {
    path.name.removesuffix(".asl.json"): json.loads(path.read_text())
    for path in sorted((ROOT / "statemachine").glob("*.asl.json"))
}
ASL = STATE_MACHINES["ingest"]
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
# Only the user can know these: a Qdrant server, and the keys of the services they chose.
USER_SUPPLIED = {"QdrantUrl", "OpenAIApiKeySecretArn", "DeepgramApiKeySecretArn"}


class _NoManagedPolicies:
    """samtranslator resolves AWS managed policy names through this; the template uses none."""

    def load(self) -> dict[str, str]:
        return {}


def _value(expression: Any, parameters: dict[str, str]) -> Any:
    """The condition functions CloudFormation allows in Rules, over parameter values."""
    if not isinstance(expression, dict):
        return expression
    ((function, argument),) = expression.items()
    if function == "Ref":
        return parameters[argument]
    if function == "Fn::Equals":
        return _value(argument[0], parameters) == _value(argument[1], parameters)
    if function == "Fn::Not":
        return not _value(argument[0], parameters)
    if function == "Fn::And":
        return all(_value(item, parameters) for item in argument)
    if function == "Fn::Or":
        return any(_value(item, parameters) for item in argument)
    raise AssertionError(f"a rule uses {function}, which this reader does not know")


def _refusals(given: dict[str, str]) -> list[str]:
    """Why CloudFormation would refuse the stack with these parameter values: a parameter
    without a value, a value against its pattern, or a failed Rule assertion."""
    declared = TEMPLATE["Parameters"]
    refusals = [
        name for name, spec in declared.items() if name not in given and "Default" not in spec
    ]
    parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()} | given
    for name, spec in declared.items():
        pattern = spec.get("AllowedPattern")
        if pattern and name in given and not re.fullmatch(pattern, parameters[name]):
            refusals.append(f"{name}: {spec['ConstraintDescription']}")
    for rule in TEMPLATE.get("Rules", {}).values():
        if not _value(rule.get("RuleCondition", True), parameters):
            continue
        refusals += [
            assertion["AssertDescription"]
            for assertion in rule["Assertions"]
            if not _value(assertion["Assert"], parameters)
        ]
    return refusals


def _samconfig_parameters() -> dict[str, str]:
    overrides = SAMCONFIG["default"]["deploy"]["parameters"].get("parameter_overrides", [])
    if isinstance(overrides, str):
        overrides = overrides.split()
    return dict(item.split("=", 1) for item in overrides)


def test_samconfig_supplies_nothing_only_the_user_can_know():
    # A placeholder host or a made-up ARN would deploy a stack that fails at its first call
    assert set(_samconfig_parameters()) & USER_SUPPLIED == set()
    assert set(_samconfig_parameters()) <= set(TEMPLATE["Parameters"])


def test_samconfig_deploys_image_functions():
    # `sam deploy` stops at once without a repository for the image functions
    images = [
        name
        for name, resource in TEMPLATE["Resources"].items()
        if resource["Properties"].get("PackageType") == "Image"
    ]
    deploy = SAMCONFIG["default"]["deploy"]["parameters"]
    assert images and deploy.get("resolve_image_repos") is True and deploy.get("resolve_s3") is True


@pytest.mark.parametrize(
    ("given", "refused_for"),
    [
        # samconfig as shipped and nothing else: the server and both keys are missing
        (
            {},
            [
                "QdrantUrl",
                "Embedder=openai needs OpenAIApiKeySecretArn",
                "Transcriber=deepgram needs",
            ],
        ),
        # the defaults (OpenAI embeddings, Deepgram transcription) need their keys
        (
            {"QdrantUrl": "https://q.example.com:6333"},
            ["Embedder=openai needs OpenAIApiKeySecretArn", "Transcriber=deepgram needs"],
        ),
        # a webhook needs its key, and https
        (
            {
                "QdrantUrl": "https://q.example.com",
                "Embedder": "hashing",
                "Transcriber": "pocketsphinx",
                "WebhookUrl": "https://app.example.com/hook",
            },
            ["WebhookUrl needs WebhookSecretArn"],
        ),
        (
            {
                "QdrantUrl": "https://q.example.com",
                "Embedder": "hashing",
                "Transcriber": "pocketsphinx",
                "WebhookUrl": "http://app.example.com/hook",
                "WebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:hook",
            },
            ["WebhookUrl: must be"],
        ),
        # an in-process store would be one per container
        (
            {"QdrantUrl": ":memory:", "Embedder": "hashing", "Transcriber": "pocketsphinx"},
            ["QdrantUrl: must be"],
        ),
    ],
)
def test_a_missing_parameter_fails_the_deploy_naming_it(given, refused_for):
    refusals = _refusals(_samconfig_parameters() | given)
    for expected in refused_for:
        assert any(refusal.startswith(expected) for refusal in refusals), refusals
    assert len(refusals) == len(refused_for), refusals


@pytest.mark.parametrize(
    "given",
    [
        {
            "QdrantUrl": "https://q.example.com:6333",
            "OpenAIApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:openai",
            "DeepgramApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:deepgram",
        },
        {"QdrantUrl": "http://10.0.0.5:6333", "Embedder": "hashing", "Transcriber": "pocketsphinx"},
    ],
)
def test_the_user_supplied_parameters_are_enough(given):
    assert _refusals(_samconfig_parameters() | given) == []


def _all_text() -> str:
    return (ROOT / "template.yaml").read_text() + (
        ROOT / "statemachine" / "ingest.asl.json"
    ).read_text()


def test_arns_are_partition_neutral():
    # aws-cn and aws-us-gov ARNs start arn:aws-cn: / arn:aws-us-gov:
    assert "arn:aws:" not in _all_text()


# Every optional part on (the webhook), so that every resource is there to look at.
TRANSLATED_WITH = {
    "QdrantUrl": "https://q.example.com:6333",
    "WebhookUrl": "https://app.example.com/hooks/docproc",
    "WebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:hook",
}


def _translated() -> dict[str, Any]:
    packaged, _ = packaged_template()
    return transform(packaged, TRANSLATED_WITH, _NoManagedPolicies())  # type: ignore[no-any-return]


def _chosen(value: Any) -> Any:
    """Fn::If resolved with TRANSLATED_WITH."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, then, otherwise = value["Fn::If"]
        parameters = {n: str(p.get("Default", "")) for n, p in TEMPLATE["Parameters"].items()}
        return (
            then
            if _value(TEMPLATE["Conditions"][condition], parameters | TRANSLATED_WITH)
            else otherwise
        )
    return value


def test_the_dead_letter_queue_admits_exactly_the_rules_that_use_it():
    resources = _translated()["Resources"]
    rules = sorted(
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Events::Rule"
        and any(
            target.get("DeadLetterConfig", {}).get("Arn")
            == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
            for target in resource["Properties"]["Targets"]
        )
    )
    (statement,) = resources["EventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    allowed = [_chosen(arn) for arn in statement["Condition"]["ArnEquals"]["aws:SourceArn"]]
    assert len(rules) == 4 and sorted(arn["Fn::GetAtt"][0] for arn in allowed) == rules


def _role_statements(role: str) -> list[dict[str, Any]]:
    """Every statement of ``role``'s policies, those of a condition's (Fn::If) branches too."""
    policies = _translated()["Resources"][role]["Properties"]["Policies"]
    documents = [
        branch["PolicyDocument"]
        for policy in policies
        for branch in (policy["Fn::If"][1:] if "Fn::If" in policy else [policy])
        if "PolicyDocument" in branch
    ]
    return [statement for document in documents for statement in document["Statement"]]


@pytest.mark.parametrize("machine", sorted(STATE_MACHINES))
def test_each_state_machine_may_redrive_its_map_runs(machine):
    statements = _role_statements(f"{machine.capitalize()}StateMachineRole")
    redrive = [s for s in statements if "states:RedriveExecution" in s.get("Action", [])]
    assert redrive, "redriving a failed execution redrives its Map Run's child executions"
    resources = [json.dumps(r) for s in redrive for r in s["Resource"]]
    assert any(f":execution:${{AWS::StackName}}-{machine}/*" in r for r in resources)


# Outputs of documents of tenants named as the jobs are: extracted text, sub-PDFs, summaries.
_TENANTS_OUTPUTS = [
    "work/backfill/contract-1/v1/segments/00000.chunks.jsonl",
    "work/reindex/results/v1/segments/00000.pdf",
    "work/reindex/manifests/v1/document.json",
]
_BUCKET_ARN = "arn:aws:s3:::docs"


def _object_patterns(statement: dict[str, Any]) -> list[str]:
    """The statement's S3 object resources as ARN patterns of the bucket ``docs``."""
    return [
        resource["Fn::Sub"].replace("${DocumentsBucket.Arn}", _BUCKET_ARN)
        for resource in listed(statement["Resource"])
        if isinstance(resource, dict) and "${DocumentsBucket.Arn}/" in str(resource.get("Fn::Sub"))
    ]


@pytest.mark.parametrize("machine", sorted(STATE_MACHINES))
def test_no_state_machine_reaches_a_document_s_outputs_whatever_its_tenant_s_name(machine):
    # Given tenants named "backfill" and "reindex", whose documents' outputs lie under
    # work/backfill/ and work/reindex/: a state machine keeps its own state under jobs/ and
    # reads nothing of a document's but its manifest (the segment plan)
    statements = _role_statements(f"{machine.capitalize()}StateMachineRole")
    reached = [
        (action, key)
        for key in _TENANTS_OUTPUTS
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        for statement in statements
        if any(fnmatchcase(action, a) for a in listed(statement["Action"]))
        and any(
            fnmatchcase(f"{_BUCKET_ARN}/{key}", pattern) for pattern in _object_patterns(statement)
        )
    ]
    assert reached == []


def _result_writer_prefixes(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["ResultWriter"]["Parameters"]["Prefix"]] if "ResultWriter" in node else []
        return own + [p for value in node.values() for p in _result_writer_prefixes(value)]
    if isinstance(node, list):
        return [p for value in node for p in _result_writer_prefixes(value)]
    return []


def test_what_the_jobs_keep_lies_apart_from_documents_and_expires():
    # Given the keys of the jobs' state: the Map results and the re-index manifest
    kept = [f"{p}/" for asl in STATE_MACHINES.values() for p in _result_writer_prefixes(asl)]
    kept.append(reindex_manifest_key("docproc_m_256", "reindex-1"))
    # Then each lies under jobs/, not under work/{tenant}/ of any tenant, whatever its name
    assert len(kept) == 3
    assert all(key.startswith(JOBS_PREFIX) and not key.startswith(WORK_PREFIX) for key in kept)
    # And both jobs/ and work/ expire by a lifecycle rule
    rules = TEMPLATE["Resources"]["DocumentsBucket"]["Properties"]["LifecycleConfiguration"]
    expiring = {r["Prefix"] for r in rules["Rules"] if "ExpirationInDays" in r}
    assert {JOBS_PREFIX, WORK_PREFIX} <= expiring


def _lambda_tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    tasks = []
    for name, state in states.items():
        if state["Type"] == "Task" and "FunctionArn" in state["Resource"]:
            tasks.append((name, state))
        if state["Type"] == "Map":
            tasks += _lambda_tasks(state["ItemProcessor"]["States"])
    return tasks


def _max_backoff_seconds(retrier: dict[str, Any]) -> float:
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return sum(
        min(retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2.0) ** attempt, cap)
        for attempt in range(retrier["MaxAttempts"])
    )


@pytest.mark.parametrize(
    ("name", "state"),
    [task for machine in STATE_MACHINES.values() for task in _lambda_tasks(machine["States"])],
)
def test_lambda_throttling_is_retried_for_minutes(name, state):
    retriers = {error: r for r in state["Retry"] for error in r["ErrorEquals"]}
    throttled = retriers["Lambda.TooManyRequestsException"]
    # FULL jitter waits a random share of each interval: on average half of this
    assert _max_backoff_seconds(throttled) >= 10 * 60, name
    assert "Lambda.ClientExecutionTimeoutException" in retriers, name


def _error_names(states: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for state in states.values():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            names.update(clause["ErrorEquals"])
        if state["Type"] == "Map":
            names |= _error_names(state["ItemProcessor"]["States"])
    return names


@pytest.mark.parametrize("machine", sorted(STATE_MACHINES))
def test_the_retry_contract_names_only_the_packages_errors(machine):
    # A typo in an error name would silently never match
    names = _error_names(STATE_MACHINES[machine]["States"])
    aws = ("States.", "Lambda.", "StepFunctions.")
    ours = {name for name in names if not name.startswith(aws)}
    assert ours and all(isinstance(getattr(errors, name, None), type) for name in ours), ours


def test_a_segment_adds_nothing_but_an_empty_object_to_the_parent_state():
    # The distributed Map collects every child's output into the parent's state (256 KiB);
    # the e2e measures it in moto's engine (test_limits), this says where it is decided
    (segment,) = [s for n, s in _lambda_tasks(ASL["States"]) if n == "ProcessSegment"]
    assert "OutputPath" in segment and segment["OutputPath"] is None


def test_the_webhook_function_dead_letters_without_lambda_retrying_and_reads_only_its_key():
    resources = _translated()["Resources"]
    (invoke_config,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "WebhookFunction"}
    ]
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 0
    function = resources["WebhookFunction"]["Properties"]
    assert function["DeadLetterConfig"]["TargetArn"] == {
        "Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]
    }
    secret_reads = [
        s for s in _role_statements("WebhookFunctionRole") if "secretsmanager" in json.dumps(s)
    ]
    assert [s["Resource"] for s in secret_reads] == [{"Ref": "WebhookSecretArn"}]


def _allowed(role: str, action: str) -> list[str]:
    """The resources ``role`` may do ``action`` on, as the template writes them."""
    return [
        json.dumps(resource)
        for statement in _role_statements(role)
        if action in listed(statement["Action"])
        for resource in listed(statement["Resource"])
    ]


def test_the_reindex_function_may_do_what_a_segment_does():
    # A segment reads its document's row (deleted or replaced while it ran?), reads and writes
    # its marker under work/, and removes the marker when its document went meanwhile
    role = "ReindexFunctionRole"
    assert any("LedgerTable" in resource for resource in _allowed(role, "dynamodb:GetItem"))
    assert any("LedgerTable" in resource for resource in _allowed(role, "dynamodb:Query"))
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert any("/work/*" in resource for resource in _allowed(role, action)), action


def test_the_reindex_function_may_write_the_ledger_s_collection_rows_and_no_other():
    # Plan records the collections it makes and reads from (pk COLLECTIONS); a document's or
    # a segment's row is not the Reindex function's to write
    (put,) = [
        s
        for s in _role_statements("ReindexFunctionRole")
        if "dynamodb:PutItem" in listed(s["Action"])
    ]
    assert put["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["COLLECTIONS"]}
    }


def test_finalize_may_read_the_summary_it_wrote():
    # Run again by the execution that completed the version, Finalize announces the summary
    # it first wrote (work/.../document.json)
    assert any(
        "/work/*" in resource for resource in _allowed("FinalizeFunctionRole", "s3:GetObject")
    )


def test_notify_failure_may_renew_the_failed_version_s_segment_rows():
    # renew_segments sets a new TTL on each of the failed version's segment rows (UpdateItem)
    resources = _allowed("NotifyFailureFunctionRole", "dynamodb:UpdateItem")
    assert any("LedgerTable" in resource for resource in resources)
