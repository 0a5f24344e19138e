"""Offline speech recognition with PocketSphinx and the US English model its wheel ships.

Voice activity detection (PocketSphinx's Endpointer) cuts the stream into utterances, so
silence costs almost nothing and each utterance is decoded on its own; word times come from
the decoder's segmentation (100 frames a second).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import cached_property

from pocketsphinx import Decoder, Endpointer

from docproc.transcribe.port import Utterance, Word

SAMPLE_RATE = 16_000

_FRAMES_PER_SECOND = 100
# An utterance longer than this is decoded in parts (bounds memory on endless speech).
_MAX_UTTERANCE_BYTES = 60 * 2 * 16_000
# Fillers and markers the decoder emits that are not words.
_NOT_WORDS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"}


class PocketSphinxTranscriber:
    model_name = "pocketsphinx-en-us"

    def __init__(self) -> None:
        # One decoder per process, decoding one utterance at a time: start_utt while another
        # thread's utterance is under way fails ("Failed to start utterance processing"). A
        # Lambda runs one invocation at a time, but a process running handlers on threads (the
        # e2e stack's, with two windows of one recording at once) shares it.
        self._decoding = threading.Lock()

    @cached_property
    def _decoder(self) -> Decoder:
        # Loading the model takes a moment: once per process.
        return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def transcribe(self, pcm: Iterable[bytes], sample_rate: int) -> list[Utterance]:
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"PocketSphinx here takes {SAMPLE_RATE} Hz audio, got {sample_rate}")
        endpointer = Endpointer(sample_rate=SAMPLE_RATE)
        utterances: list[Utterance] = []
        speech = bytearray()  # the utterance being heard: seconds, not the window
        speaking_since = 0.0
        frames = _frames(pcm, endpointer.frame_bytes)
        frame = next(frames, None)
        while frame is not None:
            following = next(frames, None)  # one frame of lookahead: the last one ends the stream
            was_speaking = endpointer.in_speech
            heard = endpointer.end_stream(frame) if following is None else endpointer.process(frame)
            if heard is not None:
                if not was_speaking:
                    speaking_since = endpointer.speech_start
                speech += heard
                if not endpointer.in_speech or len(speech) >= _MAX_UTTERANCE_BYTES:
                    utterances.append(self._decode(bytes(speech), speaking_since))
                    speaking_since += len(speech) / (2 * SAMPLE_RATE)
                    speech.clear()
            frame = following
        if speech:  # the stream ended mid-speech
            utterances.append(self._decode(bytes(speech), speaking_since))
        return [utterance for utterance in utterances if utterance.words]

    def _decode(self, speech: bytes, offset: float) -> Utterance:
        # A whole utterance at once: cepstral mean normalisation then uses the utterance's own
        # statistics (live normalisation garbles the first words after a silence).
        with self._decoding:
            decoder = self._decoder
            decoder.start_utt()
            decoder.process_raw(speech, full_utt=True)
            decoder.end_utt()
            return self._utterance(decoder, offset)

    @staticmethod
    def _utterance(decoder: Decoder, offset: float) -> Utterance:
        words = [
            Word(
                text=segment.word.split("(")[0],  # "read(2)": the second pronunciation
                start=offset + segment.start_frame / _FRAMES_PER_SECOND,
                end=offset + (segment.end_frame + 1) / _FRAMES_PER_SECOND,
            )
            for segment in decoder.seg()
            if segment.word not in _NOT_WORDS
        ]
        return Utterance(words=words)


def _frames(pcm: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Fixed-size frames out of blocks of any size; the last one may be short. Linear in the
    input: a large block (seconds of silence filling a gap) is not re-copied per frame."""
    pending = bytearray()
    for block in pcm:
        pending += block
        whole = len(pending) - len(pending) % size
        for offset in range(0, whole, size):
            yield bytes(pending[offset : offset + size])
        del pending[:whole]
    if pending:
        yield bytes(pending)
