"""Deepgram's pre-recorded API through its SDK: the window's PCM is streamed as the request
body (never held whole), and smart-formatted utterances come back with word timings and,
with diarization, speakers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError

from docproc.errors import PermanentDependencyError, TransientError
from docproc.transcribe.port import Utterance, Word

# Worth a retry with backoff (the state machine's): rate limits, timeouts, server errors.
_RETRYABLE = {408, 409, 429}
_AUTH = {401, 402, 403}


class DeepgramTranscriber:
    def __init__(self, client: DeepgramClient, model: str, diarize: bool = True) -> None:
        self._client = client
        self._model = model
        self._diarize = diarize

    @property
    def model_name(self) -> str:
        return f"deepgram-{self._model}"

    def transcribe(self, pcm: Iterable[bytes], sample_rate: int) -> list[Utterance]:
        try:
            response = self._client.listen.v1.media.transcribe_file(
                request=iter(pcm),
                model=self._model,
                smart_format=True,
                punctuate=True,
                utterances=True,
                diarize=self._diarize,
                encoding="linear16",
                request_options={
                    # Raw PCM says nothing about itself; the API takes these as parameters.
                    "additional_query_parameters": {"sample_rate": sample_rate, "channels": 1},
                    # A streamed body cannot be replayed: retries happen a level up, with the
                    # window decoded again.
                    "max_retries": 0,
                },
            )
        except ApiError as exc:
            status = exc.status_code or 0
            if status >= 500 or status in _RETRYABLE:
                raise TransientError(f"deepgram: HTTP {status}") from exc
            hint = " (check the API key and the project's balance)" if status in _AUTH else ""
            raise PermanentDependencyError(
                f"deepgram refused the request: HTTP {status}{hint}"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(f"deepgram: {type(exc).__name__}") from exc
        return _utterances(response)


def _utterances(response: Any) -> list[Utterance]:
    results = getattr(response, "results", None)
    if results is None:  # an accepted (callback) response: never asked for here
        raise PermanentDependencyError("deepgram answered without results")
    if results.utterances:
        return [
            Utterance(words=[_word(w) for w in utterance.words or []])
            for utterance in results.utterances
            if utterance.words
        ]
    # Without utterances, the one alternative's words form one utterance.
    words = results.channels[0].alternatives[0].words or [] if results.channels else []
    return [Utterance(words=[_word(w) for w in words])] if words else []


def _word(word: Any) -> Word:
    return Word(
        text=word.punctuated_word or word.word or "",
        start=float(word.start or 0.0),
        end=float(word.end or 0.0),
        speaker=word.speaker,
    )
