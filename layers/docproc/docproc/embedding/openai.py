"""Embedder on the OpenAI embeddings API, or any server that speaks it (Ollama, vLLM, TEI).

Batches are bounded by input count and by tokens per request. The SDK retries 429/5xx and
timeouts itself, honouring Retry-After, up to ``max_retries``; what is still failing then
becomes TransientError so the state machine retries the whole segment later with backoff.
Bad credentials and bad requests are not retried.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Sequence
from typing import Literal

import openai

from docproc.chunking.tokens import TokenCounter
from docproc.errors import PermanentDependencyError, TransientError

# The API's hard limits: 2048 inputs and 300k tokens per request, 8191 tokens per input.
MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_REQUEST = 300_000
MAX_TOKENS_PER_INPUT = 8191


class OpenAIEmbedder:
    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        dimensions: int,
        count_tokens: TokenCounter,
        batch_size: int = 256,
        send_dimensions: bool = True,
        encoding_format: Literal["base64", "float"] = "base64",
    ) -> None:
        self._client = client
        self._model = model
        self._dimensions = dimensions
        self._count_tokens = count_tokens
        self._batch_size = min(batch_size, MAX_INPUTS_PER_REQUEST)
        self._send_dimensions = send_dimensions
        self._encoding_format = encoding_format

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _batches(self, texts: Sequence[str]) -> list[list[str]]:
        batches: list[list[str]] = []
        current: list[str] = []
        current_tokens = 0
        for text in texts:
            tokens = self._count_tokens(text)
            if tokens > MAX_TOKENS_PER_INPUT:
                # The chunker never produces this; refuse rather than truncate silently.
                raise PermanentDependencyError(
                    f"input of {tokens} tokens exceeds the model limit of {MAX_TOKENS_PER_INPUT}"
                )
            if current and (
                len(current) >= self._batch_size or current_tokens + tokens > MAX_TOKENS_PER_REQUEST
            ):
                batches.append(current)
                current, current_tokens = [], 0
            current.append(text)
            current_tokens += tokens
        if current:
            batches.append(current)
        return batches

    def embed(self, texts: Sequence[str]) -> list[array[float]]:
        vectors: list[array[float]] = []
        for batch in self._batches(texts):
            vectors.extend(self._request(batch))
        return vectors

    def _request(self, batch: list[str]) -> list[array[float]]:
        try:
            response = self._client.embeddings.create(
                model=self._model,
                input=batch,
                dimensions=self._dimensions if self._send_dimensions else openai.omit,
                # Named, "base64" hands us the raw strings (a quarter of the bytes of JSON
                # floats), which _float32 keeps as float32; left out, the SDK would decode
                # them into Python floats, six times the memory.
                encoding_format=self._encoding_format,
            )
        except (openai.RateLimitError, openai.InternalServerError) as exc:
            raise TransientError(f"embeddings API: HTTP {exc.status_code}") from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise TransientError(f"embeddings API: {type(exc).__name__}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code == 409 or exc.status_code >= 500:
                raise TransientError(f"embeddings API: HTTP {exc.status_code}") from exc
            raise PermanentDependencyError(
                f"embeddings API refused the request: HTTP {exc.status_code} ({type(exc).__name__})"
            ) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        if len(ordered) != len(batch):
            raise TransientError(f"embeddings API returned {len(ordered)} of {len(batch)} vectors")
        vectors = [_float32(item.embedding) for item in ordered]
        if any(len(vector) != self._dimensions for vector in vectors):
            raise PermanentDependencyError(
                f"embeddings API returned vectors of size {len(vectors[0])}, "
                f"expected {self._dimensions}"
            )
        return vectors


def _float32(embedding: object) -> array[float]:
    """A vector as the float32 the API computed: from base64 (little-endian float32), or from
    JSON floats, which some compatible servers answer whatever was asked."""
    if isinstance(embedding, str):
        try:
            vector = array("f", base64.b64decode(embedding))
        except ValueError as exc:  # not base64 (binascii.Error), or not whole float32s
            raise PermanentDependencyError(
                "embeddings API returned a vector that is not base64 float32s"
            ) from exc
        if sys.byteorder == "big":
            vector.byteswap()
        return vector
    if isinstance(embedding, list):
        return array("f", embedding)
    raise PermanentDependencyError(
        f"embeddings API returned a vector as {type(embedding).__name__}"
    )
