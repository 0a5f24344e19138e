from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.yaml_helper import yaml_parse

from docproc import aws, wiring
from docproc.config import MIN_LEDGER_TTL_DAYS, LocalSettings
from docproc.ledger.dynamodb import DynamoDBLedger
from docproc.ledger.port import Ledger
from docproc.ledger.sqlite import SQLiteLedger
from docproc.local.runner import LocalEnvironment
from tests.conftest import aws_backend
from tests.e2e.harness import ROOT
from tests.qdrant_server import QdrantServer, qdrant_server

BUCKET = "docproc-documents-123456789012"
TABLE = f"docproc-ledger-{uuid.uuid4().hex[:8]}"
BUS = "docproc-events"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[LocalEnvironment]:
    """The laptop's adapters under a fresh home, segments run in this process."""
    environment = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    yield environment
    environment.close()


def ledger_table_definition() -> dict[str, Any]:
    """The ledger's key schema as template.yaml declares it (no second copy to drift)."""
    template = yaml_parse((ROOT / "template.yaml").read_text())
    properties = template["Resources"]["LedgerTable"]["Properties"]
    return {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
        "GlobalSecondaryIndexes": properties["GlobalSecondaryIndexes"],
    }


@dataclass
class Aws:
    s3: Any
    dynamodb: Any
    events: Any
    sqs: Any
    published_queue: str
    qdrant: QdrantServer

    def published(self) -> list[dict[str, Any]]:
        out = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.published_queue, MaxNumberOfMessages=10
        ).get("Messages", []):
            for message in batch:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.published_queue, ReceiptHandle=message["ReceiptHandle"]
                )
        return out


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto with the bucket, ledger table and bus the handlers expect, and their settings."""
    with aws_backend(), qdrant_server() as qdrant:
        aws.client.cache_clear()
        wiring.qdrant_client.cache_clear()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = boto3.resource("dynamodb")
        dynamodb.create_table(TableName=TABLE, **ledger_table_definition())
        events = boto3.client("events")
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs")
        queue = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="all", EventBusName=BUS, EventPattern='{"source": ["docproc"]}')
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        for name, value in {
            "DOCPROC_BUCKET": BUCKET,
            "LEDGER_TABLE": TABLE,
            "EVENT_BUS_NAME": BUS,
            "EMBEDDER": "hashing",
            "QDRANT_URL": qdrant.url,
        }.items():
            monkeypatch.setenv(name, value)
        yield Aws(
            s3=s3, dynamodb=dynamodb, events=events, sqs=sqs, published_queue=queue, qdrant=qdrant
        )
        aws.client.cache_clear()
        wiring.qdrant_client.cache_clear()


@pytest.fixture(params=["dynamodb", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        yield SQLiteLedger(tmp_path / "ledger.sqlite3", ttl_days=MIN_LEDGER_TTL_DAYS)
        return
    with aws_backend():
        table = boto3.resource("dynamodb").create_table(
            TableName=f"ledger-{uuid.uuid4().hex[:8]}", **ledger_table_definition()
        )
        yield DynamoDBLedger(table, ttl_days=MIN_LEDGER_TTL_DAYS)
