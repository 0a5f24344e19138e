"""Settings from the environment: one validated model per function, read once at start-up.

Things that must be set (bucket, table, event bus) have no default: a missing one is a
ConfigurationError naming the variable, raised before any work starts.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from docproc.errors import ConfigurationError
from docproc.extract.ocr import OcrMode, OcrOptions
from docproc.extract.pages import TablesMode
from docproc.vectors.port import COLLECTION_PREFIX_PATTERN, HybridFusion


class _Settings(BaseSettings):
    # Empty variables count as unset: CloudFormation cannot omit a variable, only blank it.
    # A process loads one or two of these classes: each builds its validator on first use,
    # not all of them at import (~15 ms of every cold start).
    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, env_ignore_empty=True, defer_build=True
    )


class StorageSettings(_Settings):
    bucket: str = Field(validation_alias="DOCPROC_BUCKET", min_length=3)


# A failed execution can be redriven for 14 days: its finished segments' rows must outlive it.
MIN_LEDGER_TTL_DAYS = 15


class LedgerSettings(_Settings):
    ledger_table: str = Field(validation_alias="LEDGER_TABLE", min_length=3)
    # Segment rows expire this long after their last write (DynamoDB TTL).
    ledger_ttl_days: int = Field(
        default=30, validation_alias="LEDGER_TTL_DAYS", ge=MIN_LEDGER_TTL_DAYS
    )


class OcrSettings(_Settings):
    """Scanned pages (README: Scanned pages). The languages are checked at start-up."""

    # auto: pages without a real text layer that are mostly images; force: every page.
    ocr: OcrMode = Field(default="auto", validation_alias="OCR")
    ocr_languages: str = Field(default="eng", validation_alias="OCR_LANGUAGES")
    ocr_dpi: int = Field(default=200, validation_alias="OCR_DPI", ge=72, le=600)
    # A segment holds at most this many scanned pages (OCR: ~0.5-1.5 s a page on one core).
    ocr_segment_pages: int = Field(default=10, validation_alias="OCR_SEGMENT_PAGES", ge=1, le=500)
    # Unset: TESSDATA_PREFIX, then share/tessdata under the environment (tessdata.fast-* wheels).
    ocr_tessdata: Path | None = Field(default=None, validation_alias="OCR_TESSDATA")

    @model_validator(mode="after")
    def _languages_installed(self) -> OcrSettings:
        self.ocr_options()  # a ConfigurationError naming the package to install
        return self

    def ocr_options(self) -> OcrOptions:
        return OcrOptions.configured(self.ocr, self.ocr_languages, self.ocr_dpi, self.ocr_tessdata)


class TablesSettings(_Settings):
    # auto: tables on PDF pages are written into the text as Markdown (README: Tables).
    tables: TablesMode = Field(default="auto", validation_alias="TABLES")


class SegmentingSettings(OcrSettings):
    # Scanned pages (OCR) make shorter segments: OcrSettings.ocr_segment_pages.
    segment_pages: int = Field(default=50, validation_alias="SEGMENT_PAGES", ge=1, le=10_000)
    segment_bytes: int = Field(
        default=8 * 1024 * 1024, validation_alias="SEGMENT_BYTES", ge=4096, le=1024**3
    )
    # Audio/video windows; each is decoded this much further on both sides so words at an edge
    # are heard whole (each word is kept by the window it starts in).
    segment_seconds: float = Field(
        default=600, validation_alias="SEGMENT_SECONDS", ge=10, le=4 * 3600
    )
    segment_overlap_seconds: float = Field(
        default=3, validation_alias="SEGMENT_OVERLAP_SECONDS", ge=0, le=60
    )


class ChunkingSettings(_Settings):
    chunk_tokens: int = Field(default=512, validation_alias="CHUNK_TOKENS", ge=16, le=8191)
    chunk_overlap: int = Field(default=64, validation_alias="CHUNK_OVERLAP", ge=0)
    # The tokenizer that sizes chunks; the embedding model's own is the right choice.
    tokenizer_model: str = Field(
        default="text-embedding-3-small", validation_alias="TOKENIZER_MODEL"
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("CHUNK_OVERLAP must be smaller than CHUNK_TOKENS")
        return self


class EmbeddingModelSettings(_Settings):
    """Which vectors: enough to name a collection and price tokens, without an API client
    (Finalize and Delete need no more)."""

    embedder: Literal["openai", "hashing"] = Field(default="hashing", validation_alias="EMBEDDER")
    embedding_model: str = Field(
        default="text-embedding-3-small", validation_alias="EMBEDDING_MODEL"
    )
    # None: the model's native size (openai) or 384 (hashing).
    embedding_dimensions: int | None = Field(
        default=None, validation_alias="EMBEDDING_DIMENSIONS", ge=8, le=8192
    )
    # USD per million input tokens; unset: the published price of known models (see below).
    embedding_price_per_million_tokens: float | None = Field(
        default=None, validation_alias="EMBEDDING_PRICE_PER_MILLION_TOKENS", ge=0
    )

    # Hybrid search's weights of its dense and BM25 sides (weighted RRF); unset: the
    # embedder's own (hybrid_fusion).
    hybrid_dense_weight: float | None = Field(
        default=None, validation_alias="HYBRID_DENSE_WEIGHT", gt=0
    )
    hybrid_bm25_weight: float | None = Field(
        default=None, validation_alias="HYBRID_BM25_WEIGHT", gt=0
    )
    # Its rank constant (HybridFusion.k); unset: the embedder's own.
    hybrid_rrf_k: int | None = Field(default=None, validation_alias="HYBRID_RRF_K", ge=1)

    @property
    def hybrid_fusion(self) -> HybridFusion:
        """How hybrid search weighs this embedder's ranking against BM25's."""
        own = HASHING_HYBRID_FUSION if self.embedder == "hashing" else SEMANTIC_HYBRID_FUSION
        return HybridFusion(
            dense_weight=self.hybrid_dense_weight or own.dense_weight,
            bm25_weight=self.hybrid_bm25_weight or own.bm25_weight,
            k=self.hybrid_rrf_k or own.k,
        )

    @property
    def price_per_million_tokens(self) -> float:
        if self.embedding_price_per_million_tokens is not None:
            return self.embedding_price_per_million_tokens
        if self.embedder == "hashing":
            return 0.0
        return OPENAI_PRICES_PER_MILLION_TOKENS.get(self.embedding_model, 0.0)

    @property
    def vector_size(self) -> int:
        if self.embedding_dimensions is not None:
            return self.embedding_dimensions
        if self.embedder == "hashing":
            return 384
        return OPENAI_NATIVE_DIMENSIONS.get(self.embedding_model, 1536)

    @model_validator(mode="after")
    def _known_hashing_version(self) -> EmbeddingModelSettings:
        self.model_name  # noqa: B018 (raises ConfigurationError at start-up)
        return self

    @property
    def model_name(self) -> str:
        """The model named in collections and events. With the hashing embedder,
        EMBEDDING_MODEL chooses its version (hashing-v1 for collections it made) and any
        other name means the default, hashing-v2."""
        if self.embedder != "hashing":
            return self.embedding_model
        if self.embedding_model.startswith("hashing-"):
            if self.embedding_model not in HASHING_MODELS:
                known = ", ".join(HASHING_MODELS)
                raise ConfigurationError(
                    f"EMBEDDING_MODEL={self.embedding_model}: the hashing embedder is {known}"
                )
            return self.embedding_model
        return HASHING_V2


class EmbeddingSettings(EmbeddingModelSettings):
    """The embedder itself: its API endpoint, key and limits (ProcessSegment, the laptop)."""

    embed_batch_size: int = Field(default=256, validation_alias="EMBED_BATCH_SIZE", ge=1, le=2048)
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_api_key_secret_arn: str | None = Field(
        default=None, validation_alias="OPENAI_API_KEY_SECRET_ARN"
    )
    openai_timeout_seconds: float = Field(
        default=60.0, validation_alias="OPENAI_TIMEOUT_SECONDS", gt=0
    )
    # In-invocation retries of 429/5xx/timeouts (the SDK honours Retry-After); after that the
    # segment fails with TransientError and the state machine retries it with backoff.
    openai_max_retries: int = Field(default=4, validation_alias="OPENAI_MAX_RETRIES", ge=0)
    openai_encoding_format: Literal["base64", "float"] = Field(
        default="base64", validation_alias="OPENAI_ENCODING_FORMAT"
    )
    # Batches under way at once per segment, each embedded and stored while the next is read
    # (as many requests to the embeddings API, and to the vector store); every running
    # segment adds its own to the account's rate limit, which the SDK's retries absorb (429s,
    # honouring Retry-After).
    openai_requests_in_flight: int = Field(
        default=4, validation_alias="OPENAI_REQUESTS_IN_FLIGHT", ge=1, le=32
    )
    # The offline embedder computes in the segment's process: only a Qdrant server's round
    # trips wait. 2 overlap them (the next batch hashed while one is stored), for a batch more
    # at the segment's peak (BENCHMARKS.md, Batches in flight): the default, 1, keeps the lower
    # peak; more add memory, not speed.
    hashing_batches_in_flight: int = Field(
        default=1, validation_alias="HASHING_BATCHES_IN_FLIGHT", ge=1, le=8
    )

    @model_validator(mode="after")
    def _openai_needs_a_key(self) -> EmbeddingSettings:
        if self.embedder == "openai" and not (
            self.openai_api_key or self.openai_api_key_secret_arn
        ):
            raise ValueError(
                "EMBEDDER=openai needs OPENAI_API_KEY_SECRET_ARN (or OPENAI_API_KEY locally)"
            )
        return self


# The offline embedder's versions (docproc.embedding.hashing); each has its own collections.
HASHING_V1, HASHING_V2 = "hashing-v1", "hashing-v2"
HASHING_MODELS = (HASHING_V1, HASHING_V2)

# Hybrid search's fusion per kind of embedder, chosen on parts 1-4 of the retrieval evaluation
# set and confirmed on part 5, written after (tests/retrieval_set.py). The hashing embedder's
# dense side is itself lexical, a weaker BM25: BM25 leads, and a larger k flattens both sides'
# first ranks so that the dense side breaks BM25's many ties. A sentence-embedding model finds
# paraphrases BM25 cannot: it leads, and BM25 adds exact terms.
HASHING_HYBRID_FUSION = HybridFusion(dense_weight=1.0, bm25_weight=3.0, k=5)
SEMANTIC_HYBRID_FUSION = HybridFusion(dense_weight=3.0, bm25_weight=1.0, k=2)

# Published list prices (USD per 1M input tokens); override with
# EMBEDDING_PRICE_PER_MILLION_TOKENS for other models, servers or negotiated prices.
OPENAI_PRICES_PER_MILLION_TOKENS = {
    "text-embedding-3-small": 0.02,
    "text-embedding-3-large": 0.13,
    "text-embedding-ada-002": 0.10,
}

OPENAI_NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class TranscriptionSettings(_Settings):
    # pocketsphinx: offline, English, on the CPU (the laptop's default); deepgram: the cloud's.
    transcriber: Literal["pocketsphinx", "deepgram"] = Field(
        default="pocketsphinx", validation_alias="TRANSCRIBER"
    )
    deepgram_model: str = Field(default="nova-3", validation_alias="DEEPGRAM_MODEL")
    deepgram_diarize: bool = Field(default=True, validation_alias="DEEPGRAM_DIARIZE")
    # Unset: Deepgram's API; a stub server or a self-hosted deployment otherwise.
    deepgram_base_url: str | None = Field(default=None, validation_alias="DEEPGRAM_BASE_URL")
    deepgram_api_key: SecretStr | None = Field(default=None, validation_alias="DEEPGRAM_API_KEY")
    deepgram_api_key_secret_arn: str | None = Field(
        default=None, validation_alias="DEEPGRAM_API_KEY_SECRET_ARN"
    )
    deepgram_timeout_seconds: float = Field(
        default=300, validation_alias="DEEPGRAM_TIMEOUT_SECONDS", gt=0
    )

    @model_validator(mode="after")
    def _deepgram_needs_a_key(self) -> TranscriptionSettings:
        if self.transcriber == "deepgram" and not (
            self.deepgram_api_key or self.deepgram_api_key_secret_arn
        ):
            raise ValueError(
                "TRANSCRIBER=deepgram needs DEEPGRAM_API_KEY_SECRET_ARN (or DEEPGRAM_API_KEY)"
            )
        return self


class VectorStoreSettings(_Settings):
    # A Qdrant server, http(s)://host:6333. Unset on a laptop: the Qdrant Edge store in
    # DOCPROC_HOME/vectors/ (in Lambda it must be set).
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias="QDRANT_API_KEY")
    qdrant_api_key_secret_arn: str | None = Field(
        default=None, validation_alias="QDRANT_API_KEY_SECRET_ARN"
    )
    qdrant_collection_prefix: str = Field(
        default="docproc",
        validation_alias="QDRANT_COLLECTION_PREFIX",
        pattern=COLLECTION_PREFIX_PATTERN,
    )
    qdrant_upsert_batch: int = Field(default=256, validation_alias="QDRANT_UPSERT_BATCH", ge=1)
    # Applied when a collection is created: vectors on disk (large collections) and int8
    # scalar quantization (4x less memory for a small loss of recall).
    qdrant_on_disk: bool = Field(default=False, validation_alias="QDRANT_ON_DISK")
    qdrant_quantization: Literal["none", "int8"] = Field(
        default="none", validation_alias="QDRANT_QUANTIZATION"
    )


# Batches a laptop worker may hash ahead of the store, which the runner's parent holds and
# writes for every worker. While that process seals its appendable segment (~1 s every 8,192
# points, holding its interpreter), a worker that stored each batch before hashing the next
# waited: 100 MB of text on 2 workers left the cores idle a fifth of the time. Four batches
# (~4 MB each) let them go on: with the look-ups gone (SegmentDeps.embeds_offline), 0.90x the
# wall time of that command (6 pairs, 0.80-0.94).
SERVED_STORE_BATCHES_IN_FLIGHT = 4


def batches_in_flight(
    embedding: EmbeddingSettings, store: VectorStoreSettings, store_served: bool = False
) -> int:
    """Batches a segment embeds and stores at once (docproc.pipeline.in_flight): what waits
    overlaps. An embeddings API's requests do; with the offline embedder, a store in another
    process does: a Qdrant server (HASHING_BATCHES_IN_FLIGHT), the laptop runner's parent
    serving its workers (``store_served``); a store in this process has nothing to wait for:
    one batch at a time."""
    if not embeds_offline(embedding):
        return embedding.openai_requests_in_flight
    if store.qdrant_url:
        return embedding.hashing_batches_in_flight
    return SERVED_STORE_BATCHES_IN_FLIGHT if store_served else 1


def embeds_offline(embedding: EmbeddingModelSettings) -> bool:
    """Whether the embedder computes in the segment's process (SegmentDeps.embeds_offline)."""
    return embedding.embedder != "openai"


class CloudVectorStoreSettings(VectorStoreSettings):
    """In Lambda the store is a Qdrant server. An in-process store (``:memory:``, a folder)
    would be one per container: each would see only the points it wrote itself."""

    @model_validator(mode="after")
    def _a_server(self) -> CloudVectorStoreSettings:
        if not self.qdrant_url or not self.qdrant_url.startswith(("https://", "http://")):
            raise ValueError("QDRANT_URL must be a Qdrant server's http(s):// URL")
        return self


class SecretsSettings(_Settings):
    secrets_max_age_seconds: int = Field(
        default=300, validation_alias="SECRETS_MAX_AGE_SECONDS", ge=0
    )


class PlanSettings(StorageSettings, LedgerSettings, SegmentingSettings):
    map_max_concurrency: int = Field(
        default=10, validation_alias="MAP_MAX_CONCURRENCY", ge=1, le=10_000
    )


class ProgressSettings(_Settings):
    # Seconds between "Document Ingestion Progress" events per document; 0: none.
    progress_event_seconds: float = Field(
        default=0, validation_alias="PROGRESS_EVENT_SECONDS", ge=0
    )


class SegmentSettings(
    StorageSettings,
    LedgerSettings,
    OcrSettings,
    TablesSettings,
    ChunkingSettings,
    EmbeddingSettings,
    TranscriptionSettings,
    CloudVectorStoreSettings,
    SecretsSettings,
    ProgressSettings,
):
    event_bus_name: str | None = Field(default=None, validation_alias="EVENT_BUS_NAME")

    @model_validator(mode="after")
    def _progress_needs_a_bus(self) -> SegmentSettings:
        if self.progress_event_seconds and not self.event_bus_name:
            raise ValueError("PROGRESS_EVENT_SECONDS needs EVENT_BUS_NAME")
        return self


def webhook_url_problem(url: str, allow_loopback_http: bool) -> str | None:
    """Why ``url`` cannot receive the webhook, or None: https only, and on a laptop also http to
    a loopback address (a receiver on the same machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    host = parts.hostname or ""
    if parts.scheme == "http" and allow_loopback_http and _is_loopback(host):
        return None
    if allow_loopback_http:
        return "WEBHOOK_URL must be https:// (or http:// to a loopback address)"
    return "WEBHOOK_URL must be https://"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(_Settings):
    """The signed webhook: every event POSTed to WEBHOOK_URL (README: Webhook)."""

    webhook_url: str | None = Field(default=None, validation_alias="WEBHOOK_URL")
    # Network errors, 408, 429 and 5xx are retried with backoff for this long.
    webhook_max_retry_seconds: float = Field(
        default=300, validation_alias="WEBHOOK_MAX_RETRY_SECONDS", ge=0, le=840
    )
    webhook_timeout_seconds: float = Field(
        default=10, validation_alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=60
    )


class LocalWebhookSettings(WebhookSettings):
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    # Set during a key rotation: deliveries are signed with both keys.
    webhook_secret_previous: SecretStr | None = Field(
        default=None, validation_alias="WEBHOOK_SECRET_PREVIOUS"
    )

    @model_validator(mode="after")
    def _url_and_secret(self) -> LocalWebhookSettings:
        if self.webhook_url is None:
            return self
        problem = webhook_url_problem(self.webhook_url, allow_loopback_http=True)
        if problem:
            raise ValueError(problem)
        if not self.webhook_secret:
            raise ValueError("WEBHOOK_URL needs WEBHOOK_SECRET (the key that signs deliveries)")
        return self

    @property
    def webhook_keys(self) -> list[str]:
        keys = [self.webhook_secret, self.webhook_secret_previous]
        return [key.get_secret_value() for key in keys if key]


class WebhookFunctionSettings(WebhookSettings, SecretsSettings):
    """The Webhook function: it exists only when a URL was given."""

    webhook_url: str = Field(validation_alias="WEBHOOK_URL", min_length=9)
    webhook_secret_arn: str = Field(validation_alias="WEBHOOK_SECRET_ARN", min_length=20)

    @model_validator(mode="after")
    def _https(self) -> WebhookFunctionSettings:
        problem = webhook_url_problem(self.webhook_url, allow_loopback_http=False)
        if problem:
            raise ValueError(problem)
        return self


class SegmentFilesSettings(_Settings):
    # false: a completed document's sub-PDFs are removed at Finalize (they can be remade).
    keep_segment_files: bool = Field(default=True, validation_alias="KEEP_SEGMENT_FILES")


class FinalizeSettings(
    StorageSettings,
    LedgerSettings,
    EmbeddingModelSettings,
    CloudVectorStoreSettings,
    SecretsSettings,
    SegmentFilesSettings,
):
    pass


class ReindexSettings(
    StorageSettings,
    LedgerSettings,
    EmbeddingSettings,
    CloudVectorStoreSettings,
    SecretsSettings,
):
    """The Reindex function: the embedding settings name the collection in use; each request
    names the model it embeds with (same embedder kind, endpoint and key)."""


class NotifyFailureSettings(LedgerSettings):
    event_bus_name: str = Field(validation_alias="EVENT_BUS_NAME", min_length=1)


class StartSettings(StorageSettings):
    state_machine_arn: str = Field(validation_alias="STATE_MACHINE_ARN", min_length=20)


class DeleteSettings(
    StorageSettings,
    LedgerSettings,
    EmbeddingModelSettings,
    CloudVectorStoreSettings,
    SecretsSettings,
):
    event_bus_name: str = Field(validation_alias="EVENT_BUS_NAME", min_length=1)


class LocalSettings(
    LocalWebhookSettings,
    SegmentingSettings,
    TablesSettings,
    ChunkingSettings,
    EmbeddingSettings,
    TranscriptionSettings,
    VectorStoreSettings,
    SecretsSettings,
    ProgressSettings,
    SegmentFilesSettings,
):
    """The laptop runner: everything lives under DOCPROC_HOME (vectors too, unless QDRANT_URL)."""

    home: Path = Field(default=Path(".docproc"), validation_alias="DOCPROC_HOME")
    # A laptop's disk: a completed document's sub-PDFs (as large as its upload) go.
    keep_segment_files: bool = Field(default=False, validation_alias="KEEP_SEGMENT_FILES")
    # 0: one worker process per core.
    workers: int = Field(default=0, validation_alias="DOCPROC_WORKERS", ge=0, le=64)

    @model_validator(mode="after")
    def _a_server_url(self) -> LocalSettings:
        if self.qdrant_url and not self.qdrant_url.startswith(("https://", "http://")):
            raise ValueError(
                "QDRANT_URL must be a Qdrant server's http(s):// URL (unset: the local store)"
            )
        return self


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment or raise ConfigurationError naming what is wrong."""
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            problems.append(f"{where}: {error['msg']}")
        raise ConfigurationError(f"invalid {cls.__name__}: " + "; ".join(problems)) from None
