"""The Webhook function behind the template's rule: what the main application hears on
EventBridge, it also gets as a signed POST over https."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import StackFactory
from tests.e2e.harness import REGION, DeployedStack
from tests.webhook_receiver import webhook_receiver

SECRET = "whsec-e2e-51c0"


@pytest.mark.built_artifacts
def test_the_webhook_rule_delivers_document_ingested(
    stack_factory: StackFactory, generated, tmp_path: Path
):
    # Given a stack with WebhookUrl (https, a certificate the functions are told to trust)
    # and its key in Secrets Manager, in the form used during a rotation
    with webhook_receiver(SECRET, tls_folder=tmp_path) as receiver:
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="webhook-key", SecretString=json.dumps({"keys": [SECRET, "whsec-old"]})
        )["ARN"]
        stack = stack_factory(
            function_environment={"SSL_CERT_FILE": str(receiver.ca_file)},
            WebhookUrl=receiver.url,
            WebhookSecretArn=arn,
        )
        with stack.lambdas():
            # When a document is ingested and the rules deliver what was published
            (event,) = stack.upload(
                "uploads/acme/case-w/hooked/a.pdf", generated["pdf_3"].read_bytes()
            )
            assert stack.run(event)["status"] == "SUCCEEDED"
            (result,) = stack.deliver_to_functions()
        # Then the application's endpoint got "Document Ingested", signed with both keys,
        # under the EventBridge event's id and with its detail as data
        (delivery,) = receiver.received
        (published,) = stack.published()
    assert delivery.verified and result["status"] == 200
    assert delivery.headers["X-Docproc-Signature"].count("v1=") == 2
    assert delivery.event["type"] == published["detail-type"] == "Document Ingested"
    assert delivery.event["id"] == published["id"] == delivery.headers["X-Docproc-Event-Id"]
    assert delivery.event["data"] == published["detail"]


def test_without_a_url_there_is_no_webhook_function(stack: DeployedStack):
    assert "WebhookFunction" not in stack.functions
