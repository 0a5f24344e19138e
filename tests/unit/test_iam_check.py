"""The e2e suite's IAM check (tests/e2e/iam.py), on calls written here: what it lets through
and what it refuses, as IAM would."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.stub import Stubber

from tests.e2e.iam import AwsCalls, Call, acting_as

ROLE: list[dict[str, Any]] = [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/work/*"},
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::docs",
        "Condition": {"StringLike": {"s3:prefix": ["work/*"]}},
    },
    {
        "Effect": "Allow",
        "Action": ["dynamodb:Query", "dynamodb:GetItem"],
        "Resource": [
            "arn:aws:dynamodb:us-east-1:123456789012:table/ledger",
            "arn:aws:dynamodb:us-east-1:123456789012:table/ledger/index/by_status",
        ],
    },
]


def _denied(*calls: Call) -> list[str]:
    recorded = AwsCalls("us-east-1", "123456789012")
    recorded.calls.extend(calls)
    return recorded.denied(lambda function: ROLE)


def test_calls_the_role_allows_pass():
    assert not _denied(
        Call("F", "s3", "HeadObject", {"Bucket": "docs", "Key": "work/a/b.json"}),
        Call("F", "s3", "ListObjectsV2", {"Bucket": "docs", "Prefix": "work/a/"}),
        Call("F", "dynamodb", "Query", {"TableName": "ledger", "IndexName": "by_status"}),
        Call("F", "dynamodb", "GetItem", {"TableName": "ledger"}),
    )


def test_calls_outside_the_role_are_named():
    denied = _denied(
        # another prefix, another action, a listing outside its condition, a version's read
        Call("F", "s3", "GetObject", {"Bucket": "docs", "Key": "uploads/a.pdf"}),
        Call(
            "F",
            "s3",
            "DeleteObjects",
            {"Bucket": "docs", "Delete": {"Objects": [{"Key": "work/x"}]}},
        ),
        Call("F", "s3", "ListObjectsV2", {"Bucket": "docs", "Prefix": "uploads/"}),
        Call("F", "s3", "GetObject", {"Bucket": "docs", "Key": "work/x", "VersionId": "1"}),
        Call("F", "dynamodb", "UpdateItem", {"TableName": "ledger"}),
    )
    assert denied == [
        "F: DeleteObjects needs s3:DeleteObject on arn:aws:s3:::docs/work/x",
        "F: GetObject needs s3:GetObject on arn:aws:s3:::docs/uploads/a.pdf",
        "F: GetObject needs s3:GetObjectVersion on arn:aws:s3:::docs/work/x",
        "F: ListObjectsV2 needs s3:ListBucket on arn:aws:s3:::docs with {'s3:prefix': 'uploads/'}",
        "F: UpdateItem needs dynamodb:UpdateItem on "
        "arn:aws:dynamodb:us-east-1:123456789012:table/ledger",
    ]


def test_a_state_machine_invokes_only_the_functions_its_role_names():
    # Given a state machine's role that may invoke Plan (SAM's LambdaInvokePolicy: name*)
    role = [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Plan*",
        }
    ]
    recorded = AwsCalls("us-east-1", "123456789012")
    # When it invokes Plan by ARN, and Finalize by name
    recorded.calls.extend(
        [
            Call(
                "MachineRole",
                "lambda",
                "Invoke",
                {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Plan"},
            ),
            Call("MachineRole", "lambda", "Invoke", {"FunctionName": "Finalize"}),
        ]
    )
    # Then only the second is refused, named as the function's ARN
    assert recorded.denied(lambda principal: role) == [
        "MachineRole: Invoke needs lambda:InvokeFunction on "
        "arn:aws:lambda:us-east-1:123456789012:function:Finalize"
    ]


def test_a_thread_started_while_acting_acts_likewise():
    # Given a client whose answers are stubbed (no socket)
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    recorded = AwsCalls("us-east-1", "123456789012")
    with Stubber(s3) as stubbed, recorded.recording():
        for _ in range(2):
            stubbed.add_response("list_objects_v2", {}, {"Bucket": "docs", "Prefix": "work/"})

        def listing() -> None:
            s3.list_objects_v2(Bucket="docs", Prefix="work/")

        # When one thread is started while acting as a role (as an execution's workers are)
        with acting_as("MachineRole"):
            inside = threading.Thread(target=listing)
            inside.start()
        inside.join()
        # And one is started while acting as nobody
        outside = threading.Thread(target=listing)
        outside.start()
        outside.join()
    # Then only the first one's call is recorded, as the role's
    assert [(call.function, call.operation) for call in recorded.calls] == [
        ("MachineRole", "ListObjectsV2")
    ]


def test_a_read_answered_not_found_needs_the_listing_that_makes_it_a_404():
    # Given a role that may read uploads/ and work/, but list only work/
    role = [*ROLE, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/*"}]
    recorded = AwsCalls("us-east-1", "123456789012")
    # When moto answers "not found" to a read in each, and a read of uploads/ finds its object
    recorded.calls.extend(
        [
            Call("F", "s3", "HeadObject", {"Bucket": "docs", "Key": "work/gone"}, missing=True),
            Call("F", "s3", "HeadObject", {"Bucket": "docs", "Key": "uploads/gone"}, missing=True),
            Call("F", "s3", "HeadObject", {"Bucket": "docs", "Key": "uploads/here"}),
        ]
    )
    # Then only the missing upload is named: AWS would have answered it 403, not 404
    assert recorded.denied(lambda function: role) == [
        "F: HeadObject needs s3:ListBucket on arn:aws:s3:::docs with {'s3:prefix': 'uploads/gone'}"
    ]


def test_a_write_limited_to_one_partition_key_admits_only_that_key():
    # Given a role that may put only items whose partition key is COLLECTIONS
    role = [
        {
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/ledger",
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["COLLECTIONS"]}},
        }
    ]
    recorded = AwsCalls("us-east-1", "123456789012")
    # When it puts a collection's row, a document's row, and one in the client's form
    recorded.calls.extend(
        [
            Call(
                "F", "dynamodb", "PutItem", {"TableName": "ledger", "Item": {"pk": "COLLECTIONS"}}
            ),
            Call("F", "dynamodb", "PutItem", {"TableName": "ledger", "Item": {"pk": "DOC#a#d"}}),
            Call(
                "F", "dynamodb", "PutItem", {"TableName": "ledger", "Item": {"pk": {"S": "DOC#b"}}}
            ),
        ]
    )
    # Then the document rows are refused, named by their keys
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/ledger"
    assert recorded.denied(lambda function: role) == [
        f"F: PutItem needs dynamodb:PutItem on {table} with {{'dynamodb:LeadingKeys': 'DOC#a#d'}}",
        f"F: PutItem needs dynamodb:PutItem on {table} with {{'dynamodb:LeadingKeys': 'DOC#b'}}",
    ]
