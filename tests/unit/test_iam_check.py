"""The e2e suite's IAM check (tests/e2e/iam.py), on calls written here: what it lets through
and what it refuses, as IAM would."""

from __future__ import annotations

from typing import Any

from tests.e2e.iam import AwsCalls, Call

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
