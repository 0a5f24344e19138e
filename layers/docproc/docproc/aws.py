"""The Lambda runtime's wiring: AWS clients, secrets and adapters, built once per container.

Nothing here runs at import time; handlers call these lazily on their first invocation.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from docproc.config import (
    EmbeddingSettings,
    SecretsSettings,
    TranscriptionSettings,
    VectorStoreSettings,
)
from docproc.embedding.port import Embedder
from docproc.errors import ConfigurationError, TransientError
from docproc.ledger.dynamodb import DynamoDBLedger
from docproc.notify.eventbridge import EventBridgeNotifier
from docproc.storage.s3 import S3ObjectStore
from docproc.vectors.qdrant import QdrantVectorStore

__all__ = ["DynamoDBLedger", "EventBridgeNotifier", "QdrantVectorStore", "S3ObjectStore"]
from docproc.transcribe.port import Transcriber
from docproc.wiring import (
    LazyTranscriber,
    make_embedder,
    make_transcriber,
    make_vector_store,
    qdrant_client,
)

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service: str) -> Any:
    # AWS_ENDPOINT_URL (LocalStack, moto server) is honoured by botocore itself.
    return boto3.client(service, config=_BOTO_CONFIG)  # type: ignore[call-overload]


def object_store(bucket: str) -> S3ObjectStore:
    return S3ObjectStore(client("s3"), bucket)


def ledger(table: str, ttl_days: int) -> DynamoDBLedger:
    resource = boto3.resource("dynamodb", config=_BOTO_CONFIG)
    return DynamoDBLedger(resource.Table(table), ttl_days)


def notifier(bus_name: str) -> EventBridgeNotifier:
    return EventBridgeNotifier(client("events"), bus_name)


def secret(arn: str, settings: SecretsSettings) -> str:
    """A secret's value, cached by Powertools for SECRETS_MAX_AGE_SECONDS.

    Accepts a plain string or a JSON object with an ``api_key`` field.
    """
    try:
        value = parameters.get_secret(arn, max_age=settings.secrets_max_age_seconds)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigurationError(f"cannot read secret {arn.rsplit(':', 1)[-1]}") from exc
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text.lstrip().startswith("{"):
        document = json.loads(text)
        if "api_key" not in document:
            raise ConfigurationError("secret JSON has no api_key field")
        return str(document["api_key"])
    return text


def _api_key(arn: str | None, plain: SecretStr | None, secrets: SecretsSettings) -> str | None:
    """From Secrets Manager when an ARN is set (the deployed way), else the plain setting."""
    if arn:
        return secret(arn, secrets)
    return plain.get_secret_value() if plain else None


def embedder(settings: EmbeddingSettings, secrets: SecretsSettings) -> Embedder:
    api_key = None
    if settings.embedder == "openai":
        api_key = _api_key(settings.openai_api_key_secret_arn, settings.openai_api_key, secrets)
    return make_embedder(settings, api_key)


def transcriber(settings: TranscriptionSettings, secrets: SecretsSettings) -> Transcriber:
    """Built on first use, so only recordings read the Deepgram key or import the SDK."""

    def build() -> Transcriber:
        api_key = None
        if settings.transcriber == "deepgram":
            api_key = _api_key(
                settings.deepgram_api_key_secret_arn, settings.deepgram_api_key, secrets
            )
        return make_transcriber(settings, api_key)

    return LazyTranscriber(build)


def vector_store(
    settings: VectorStoreSettings, secrets: SecretsSettings, chosen: Embedder
) -> QdrantVectorStore:
    api_key = _api_key(settings.qdrant_api_key_secret_arn, settings.qdrant_api_key, secrets)
    qdrant = qdrant_client(
        settings.qdrant_url, str(settings.qdrant_path) if settings.qdrant_path else None, api_key
    )
    return make_vector_store(qdrant, settings, chosen)


class StepFunctionsStarter:
    """ExecutionStarter on Step Functions."""

    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    def start(self, name: str, payload: str) -> str | None:
        sfn = client("stepfunctions")
        try:
            response = sfn.start_execution(stateMachineArn=self._arn, name=name, input=payload)
        except sfn.exceptions.ExecutionAlreadyExists:
            return None
        except (ClientError, BotoCoreError) as exc:
            raise TransientError(f"start execution: {type(exc).__name__}") from exc
        return str(response["executionArn"])
