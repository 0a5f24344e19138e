"""The Lambda runtime's wiring: AWS clients, secrets and adapters, built per container.

Nothing here runs at import time; handlers call these lazily on their first invocation. Each
adapter is imported where it is built, so a function loads only what it uses (Start needs
boto3 and Step Functions, not the ledger, Qdrant or an embedder).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from docproc.config import (
    EmbeddingModelSettings,
    EmbeddingSettings,
    SecretsSettings,
    TranscriptionSettings,
    VectorStoreSettings,
    load_settings,
)
from docproc.errors import ConfigurationError, TransientError
from docproc.observability import logger

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from docproc.embedding.port import Embedder
    from docproc.ledger.dynamodb import DynamoDBLedger
    from docproc.notify.eventbridge import EventBridgeNotifier
    from docproc.storage.s3 import S3ObjectStore
    from docproc.transcribe.port import Transcriber
    from docproc.vectors.port import CollectionDeleters
    from docproc.vectors.qdrant import QdrantVectorStore

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
T = TypeVar("T")


@cache
def client(service: str) -> Any:
    # AWS_ENDPOINT_URL (LocalStack, moto server) is honoured by botocore itself.
    return boto3.client(service, config=_BOTO_CONFIG)  # type: ignore[call-overload]


def object_store(bucket: str) -> S3ObjectStore:
    from docproc.storage.s3 import S3ObjectStore

    return S3ObjectStore(client("s3"), bucket)


def ledger(table: str, ttl_days: int) -> DynamoDBLedger:
    from docproc.ledger.dynamodb import DynamoDBLedger

    resource = boto3.resource("dynamodb", config=_BOTO_CONFIG)
    return DynamoDBLedger(resource.Table(table), ttl_days)


def notifier(bus_name: str) -> EventBridgeNotifier:
    from docproc.notify.eventbridge import EventBridgeNotifier

    return EventBridgeNotifier(client("events"), bus_name)


def secret_text(arn: str, max_age_seconds: int) -> str:
    """A secret's value as stored, cached by Powertools for ``max_age_seconds``."""
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(arn, max_age=max_age_seconds)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigurationError(f"cannot read secret {arn.rsplit(':', 1)[-1]}") from exc
    return value.decode() if isinstance(value, bytes) else str(value)


def secret(arn: str, max_age_seconds: int) -> str:
    """An API key: the secret's plain string, or the ``api_key`` field of its JSON."""
    return str(_field(secret_text(arn, max_age_seconds), "api_key"))


def _field(text: str, name: str) -> Any:
    if not text.lstrip().startswith("{"):
        return text
    document = json.loads(text)
    if name not in document:
        raise ConfigurationError(f"secret JSON has no {name} field")
    return document[name]


class Secrets:
    """The API keys one set of dependencies was built with, read from Secrets Manager.

    ``rotated`` reads each again (a Secrets Manager call once its cached value is older than
    SECRETS_MAX_AGE_SECONDS) and says whether any changed since it was built with.
    """

    def __init__(self, max_age_seconds: int) -> None:
        self._max_age = max_age_seconds
        self._used: dict[str, str] = {}

    def get(self, arn: str) -> str:
        value = secret_text(arn, self._max_age)
        self._used[arn] = value
        return value

    def rotated(self) -> bool:
        try:
            return any(
                secret_text(arn, self._max_age) != value for arn, value in self._used.items()
            )
        except ConfigurationError:
            # Secrets Manager unreachable for a moment: carry on with the keys in hand.
            logger.warning("could not re-read a secret; keeping the current keys")
            return False

    def api_key(self, arn: str | None, plain: SecretStr | None) -> str | None:
        """From Secrets Manager when an ARN is set (the deployed way), else the plain setting.
        The secret holds the key as a plain string or as ``{"api_key": "..."}``."""
        if arn:
            return str(_field(self.get(arn), "api_key"))
        return plain.get_secret_value() if plain else None

    def webhook_keys(self, arn: str) -> list[str]:
        """The webhook's HMAC keys, current first: a plain string, or ``{"keys": [new, old]}``
        while receivers move to a new key (deliveries are then signed with both)."""
        value = _field(self.get(arn), "keys")
        keys = [value] if isinstance(value, str) else value
        if not keys or not all(isinstance(key, str) and key for key in keys):
            raise ConfigurationError("the webhook secret holds no key")
        return list(keys)


class PerContainer(Generic[T]):
    """A handler's dependencies: built on the first invocation and kept while the container
    lives, but rebuilt when a secret they were built with has been rotated, so a new key is
    in use within SECRETS_MAX_AGE_SECONDS without a redeploy."""

    def __init__(self, build: Callable[[Secrets], T]) -> None:
        self._build = build
        self._built: tuple[T, Secrets] | None = None

    def __call__(self) -> T:
        if self._built is None or self._built[1].rotated():
            secrets = Secrets(load_settings(SecretsSettings).secrets_max_age_seconds)
            self._built = (self._build(secrets), secrets)
        return self._built[0]

    def cache_clear(self) -> None:
        self._built = None


def per_container(build: Callable[[Secrets], T]) -> PerContainer[T]:
    return PerContainer(build)


def embedder(settings: EmbeddingSettings, secrets: Secrets) -> Embedder:
    from docproc.wiring import make_embedder

    api_key = None
    if settings.embedder == "openai":
        api_key = secrets.api_key(settings.openai_api_key_secret_arn, settings.openai_api_key)
    return make_embedder(settings, api_key)


def transcriber(settings: TranscriptionSettings, secrets: Secrets) -> Transcriber:
    """Built on first use, so only recordings read the Deepgram key or import the SDK."""
    from docproc.wiring import LazyTranscriber, make_transcriber

    def build() -> Transcriber:
        api_key = None
        if settings.transcriber == "deepgram":
            api_key = secrets.api_key(
                settings.deepgram_api_key_secret_arn, settings.deepgram_api_key
            )
        return make_transcriber(settings, api_key)

    return LazyTranscriber(build)


def vector_store(
    settings: VectorStoreSettings, model: EmbeddingModelSettings, secrets: Secrets
) -> QdrantVectorStore:
    """The Qdrant server's collection for ``model``'s vectors."""
    from docproc.wiring import make_vector_store

    return make_vector_store(_qdrant_client(settings, secrets), settings, model)


def reindexed_deleters(
    settings: VectorStoreSettings, in_use: str, secrets: Secrets
) -> CollectionDeleters:
    """The Qdrant server's other collections, to delete a document from (see Delete)."""
    from docproc import wiring

    return wiring.reindexed_deleters(_qdrant_client(settings, secrets), in_use)


def _qdrant_client(settings: VectorStoreSettings, secrets: Secrets) -> QdrantClient:
    from docproc.wiring import qdrant_client

    api_key = secrets.api_key(settings.qdrant_api_key_secret_arn, settings.qdrant_api_key)
    assert settings.qdrant_url is not None  # CloudVectorStoreSettings requires it
    return qdrant_client(settings.qdrant_url, api_key)


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
