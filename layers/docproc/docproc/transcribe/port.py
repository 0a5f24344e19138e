"""The transcriber port: speech in one window -> utterances with word timings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Word:
    text: str
    # Seconds from the start of the audio handed to the transcriber.
    start: float
    end: float
    speaker: int | None = None


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech between pauses (or a sentence), as the transcriber cut it."""

    words: list[Word] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


class Transcriber(Protocol):
    @property
    def model_name(self) -> str: ...

    def transcribe(self, pcm: Iterable[bytes], sample_rate: int) -> list[Utterance]:
        """Transcribe s16le mono PCM, read as it comes (a window is never held whole).
        TransientError for what a retry can fix; PermanentDependencyError for what it cannot
        (credentials, quota, a rejected request)."""
        ...
