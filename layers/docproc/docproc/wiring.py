"""Builds adapters from settings; shared by the Lambda runtime and the laptop runner.

Every adapter is imported where it is built: the zip functions' layer has no tokenizer,
PyMuPDF or openai, and qdrant-client alone costs ~0.8 s of imports, so a function imports
only the adapters it builds (Start and NotifyFailure none of these).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from docproc.config import (
    OPENAI_NATIVE_DIMENSIONS,
    ChunkingSettings,
    EmbeddingModelSettings,
    EmbeddingSettings,
    TranscriptionSettings,
    VectorStoreSettings,
)
from docproc.embedding.port import Embedder, SparseEncoder
from docproc.transcribe.port import Transcriber, Utterance
from docproc.vectors.port import CollectionDeleters, collection_name

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from docproc.chunking.chunker import Chunker
    from docproc.vectors.edge import EdgeVectorStore
    from docproc.vectors.qdrant import QdrantVectorStore


def make_chunker(settings: ChunkingSettings) -> Chunker:
    from docproc.chunking.chunker import Chunker

    return Chunker(settings.tokenizer_model, settings.chunk_tokens, settings.chunk_overlap)


def make_embedder(settings: EmbeddingSettings, api_key: str | None) -> Embedder:
    if settings.embedder == "hashing":
        from docproc.embedding.hashing import hashing_embedder

        return hashing_embedder(settings.model_name, settings.vector_size)
    import openai

    from docproc.chunking.tokens import token_counter
    from docproc.embedding.openai import OpenAIEmbedder

    client = openai.OpenAI(
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )
    return OpenAIEmbedder(
        client,
        model=settings.embedding_model,
        dimensions=settings.vector_size,
        count_tokens=token_counter(settings.embedding_model),
        batch_size=settings.embed_batch_size,
        # Only the text-embedding-3 family accepts `dimensions`; other servers may reject it.
        send_dimensions=settings.embedding_dimensions is not None
        and settings.embedding_model in OPENAI_NATIVE_DIMENSIONS
        and settings.embedding_model != "text-embedding-ada-002",
        encoding_format=settings.openai_encoding_format,
    )


@cache
def qdrant_client(url: str, api_key: str | None) -> QdrantClient:
    """One client of a Qdrant server per key per process (a rotated key gets a new one)."""
    from qdrant_client import QdrantClient

    from docproc.vectors.qdrant import let_go_on_close

    # No version check in the background: qdrant-client runs it on a daemon thread that builds
    # an SSL context, and a process that exits meanwhile (a short command) can crash in
    # OpenSSL's exit-time cleanup; seen here as SIGSEGV/SIGABRT after the command's output.
    return QdrantClient(
        url=url,
        api_key=api_key,
        timeout=30,
        check_compatibility=False,
        event_hooks={"response": [let_go_on_close]},
    )


def make_sparse_encoder() -> SparseEncoder:
    from docproc.embedding.sparse import Bm25Encoder

    return Bm25Encoder()


def collection_of(settings: VectorStoreSettings, model: EmbeddingModelSettings) -> str:
    """The collection that holds ``model``'s vectors (its name and size)."""
    return collection_name(settings.qdrant_collection_prefix, model.model_name, model.vector_size)


def make_vector_store(
    client: QdrantClient, settings: VectorStoreSettings, model: EmbeddingModelSettings
) -> QdrantVectorStore:
    """The Qdrant store of ``model``'s collection (its vectors' name and size)."""
    from docproc.vectors.qdrant import CollectionOptions, QdrantVectorStore

    return QdrantVectorStore(
        client,
        collection_of(settings, model),
        model.vector_size,
        upsert_batch=settings.qdrant_upsert_batch,
        fusion=model.hybrid_fusion,
        options=CollectionOptions(
            on_disk=settings.qdrant_on_disk, quantization=settings.qdrant_quantization
        ),
    )


def reindexed_deleters(client: QdrantClient, in_use: str) -> CollectionDeleters:
    """Deleters of the server's other collections by name (those a re-index wrote into)."""
    from docproc.vectors.qdrant import QdrantDocumentDeleter

    return lambda collection: (
        None if collection == in_use else QdrantDocumentDeleter(client, collection)
    )


def make_edge_vector_store(
    root: Path, settings: VectorStoreSettings, model: EmbeddingModelSettings
) -> EdgeVectorStore:
    """The laptop's store: Qdrant Edge shards under ``root``, one per collection."""
    from docproc.vectors.edge import EdgeVectorStore

    return EdgeVectorStore(
        root, collection_of(settings, model), model.vector_size, fusion=model.hybrid_fusion
    )


def make_transcriber(settings: TranscriptionSettings, api_key: str | None) -> Transcriber:
    if settings.transcriber == "pocketsphinx":
        from docproc.transcribe.pocketsphinx import PocketSphinxTranscriber

        return PocketSphinxTranscriber()
    from deepgram import DeepgramClient
    from deepgram.environment import DeepgramClientEnvironment

    from docproc.transcribe.deepgram import DeepgramTranscriber

    environment = DeepgramClientEnvironment.PRODUCTION
    if settings.deepgram_base_url:
        base = settings.deepgram_base_url.rstrip("/")
        websocket = base.replace("https://", "wss://").replace("http://", "ws://")
        environment = DeepgramClientEnvironment(
            base=base, production=websocket, agent=websocket, agent_rest=base
        )
    client = DeepgramClient(
        api_key=api_key,
        environment=environment,
        timeout=settings.deepgram_timeout_seconds,
        max_retries=0,
    )
    return DeepgramTranscriber(client, settings.deepgram_model, settings.deepgram_diarize)


class LazyTranscriber:
    """Builds the transcriber on first use: only recordings need it (and its imports)."""

    def __init__(self, build: Callable[[], Transcriber]) -> None:
        self._build = build
        self._transcriber: Transcriber | None = None

    def _get(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = self._build()
        return self._transcriber

    @property
    def model_name(self) -> str:
        return self._get().model_name

    def transcribe(self, pcm: Iterable[bytes], sample_rate: int) -> list[Utterance]:
        return self._get().transcribe(pcm, sample_rate)
