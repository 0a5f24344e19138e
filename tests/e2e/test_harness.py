"""The harness's own stand-ins for what moto does not do as AWS does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any
from unittest import mock

import boto3
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import table as moto_table

from tests.e2e.harness import REGION, atomic_item_writes


@contextmanager
def _checks_that_wait_for_each_other(seconds: float) -> Iterator[None]:
    """moto's condition checks, each held until another check has also been made (or
    ``seconds`` pass): two writers' checks overlap whenever nothing keeps them apart."""
    both_checked = threading.Barrier(2, timeout=seconds)
    build = moto_table.get_filter_expression

    def held(*args: Any, **kwargs: Any) -> Any:
        condition = build(*args, **kwargs)
        expr = condition.expr

        def check(item: Any) -> bool:
            passed = bool(expr(item))
            with suppress(threading.BrokenBarrierError):  # the other check never came
                both_checked.wait()
            return passed

        condition.expr = check
        return condition

    with mock.patch.object(moto_table, "get_filter_expression", held):
        yield


def _first_writers(stand_in: AbstractContextManager[None]) -> int:
    with mock_aws(), stand_in, _checks_that_wait_for_each_other(seconds=2.0):
        table = boto3.resource("dynamodb", region_name=REGION).create_table(
            TableName="rows",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        won: list[str] = []

        def write(writer: str) -> None:
            try:
                table.put_item(
                    Item={"pk": "document", "by": writer},
                    ConditionExpression=Attr("pk").not_exists(),
                )
                won.append(writer)
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"

        threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(won)


def test_without_the_stand_in_two_writers_both_pass_one_condition():
    # Given moto alone, and two writers whose condition checks overlap
    # When both write the same new item on condition that it does not exist
    # Then both succeed: the gap the stand-in closes (if moto closes it, drop the stand-in)
    assert _first_writers(nullcontext()) == 2


def test_with_the_stand_in_one_of_two_writers_passes_one_condition():
    # Given the harness's atomic item writes, and two writers whose checks would overlap
    # When both write the same new item on condition that it does not exist
    # Then one succeeds and the other's condition fails, as in DynamoDB
    assert _first_writers(atomic_item_writes()) == 1
