"""The Deepgram transcriber: the real deepgram-sdk against a loopback server speaking
Deepgram's pre-recorded API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.generators import recording
from docproc.config import LocalSettings
from docproc.errors import PermanentDependencyError, TransientError
from docproc.local.runner import LocalEnvironment, ingest
from docproc.models import Chunk
from docproc.wiring import make_transcriber
from tests.stub_deepgram import StubDeepgram, stub_deepgram

PCM_SECOND = b"\x00\x01" * 16_000


@pytest.fixture
def deepgram() -> Iterator[StubDeepgram]:
    with stub_deepgram() as stub:
        yield stub


def _settings(stub: StubDeepgram, home: Path, **extra: object) -> LocalSettings:
    return LocalSettings(
        DOCPROC_HOME=home,
        TRANSCRIBER="deepgram",
        DEEPGRAM_BASE_URL=stub.url,
        DEEPGRAM_API_KEY="dg-test-key",
        **extra,
    )


def test_windows_are_streamed_and_word_times_shifted_to_the_file(
    tmp_path: Path, deepgram: StubDeepgram
):
    # Given a 25 s recording cut into 10 s windows decoded 2 s wider on each side, and a
    # Deepgram answering two speakers at 1 s and 3 s into whatever audio it is sent
    audio = tmp_path / "call.m4a"
    recording(audio, 25, [])
    deepgram.words = [("Hello.", 1.0, 1.4, 0), ("Counsel.", 3.0, 3.5, 1)]
    env = LocalEnvironment(
        _settings(
            deepgram,
            tmp_path / "home",
            DOCPROC_WORKERS=1,
            SEGMENT_SECONDS=10,
            SEGMENT_OVERLAP_SECONDS=2,
        )
    )
    # When it is ingested
    report = ingest(env, audio, document_id="call")
    record = env.ledger.get_document("local", "call")
    assert record is not None
    chunks = [
        Chunk.model_validate_json(line)
        for segment in env.ledger.list_segments("local", "call", record.version)
        for line in env.store.get_bytes(segment.output_key or "").decode().splitlines()
    ]
    env.close()
    # Then each window was posted once, as raw 16 kHz PCM with the options docproc asks for
    assert report.segments_total == 3
    assert len(deepgram.requests) == 3
    first = deepgram.requests[0]
    assert first["path"] == "/v1/listen"
    assert first["authorization"] == "Token dg-test-key"
    assert first["chunked"], "the window is streamed, not sent as one body"
    assert first["query"] == {
        "model": "nova-3",
        "smart_format": "true",
        "punctuate": "true",
        "utterances": "true",
        "diarize": "true",
        "encoding": "linear16",
        "sample_rate": "16000",
        "channels": "1",
    }
    assert sorted(r["bytes"] for r in deepgram.requests)[-1] == 14 * 32_000  # 8 s..22 s
    # And words keep the file's timeline: each kept once, by the window it starts in
    times = sorted((c.time_start, c.text, c.speaker) for c in chunks)
    assert times == [
        (1.0, "Hello.", 0),
        (3.0, "Counsel.", 1),
        (11.0, "Counsel.", 1),  # 8 s + 3 s; 8 s + 1 s belongs to the first window
        (21.0, "Counsel.", 1),
    ]
    assert {c.extraction for c in chunks} == {"ffmpeg+deepgram-nova-3"}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(deepgram: StubDeepgram, status: int):
    # Given Deepgram failing once
    transcriber = make_transcriber(_settings(deepgram, Path("unused")), "dg-test-key")
    deepgram.failures = [status]
    deepgram.words = [("Hello.", 0.5, 0.9, 0)]
    # When a window is sent: TransientError (the state machine retries the segment with
    # backoff; the SDK does not, a streamed body cannot be replayed)
    with pytest.raises(TransientError):
        transcriber.transcribe(iter([PCM_SECOND]), 16_000)
    assert len(deepgram.requests) == 1
    # And the retry succeeds
    (utterance,) = transcriber.transcribe(iter([PCM_SECOND]), 16_000)
    assert [w.text for w in utterance.words] == ["Hello."]


def test_a_bad_key_is_not_retried_and_says_so(deepgram: StubDeepgram):
    transcriber = make_transcriber(_settings(deepgram, Path("unused")), "wrong-key")
    deepgram.failures = [401]
    with pytest.raises(PermanentDependencyError, match="API key") as error:
        transcriber.transcribe(iter([PCM_SECOND]), 16_000)
    assert not isinstance(error.value, TransientError)
    assert "wrong-key" not in str(error.value)
    assert len(deepgram.requests) == 1


def test_an_unreachable_deepgram_is_transient(tmp_path: Path):
    # Nothing listens on port 9 of loopback (discard): the connection is refused.
    settings = LocalSettings(
        DOCPROC_HOME=tmp_path,
        TRANSCRIBER="deepgram",
        DEEPGRAM_BASE_URL="http://127.0.0.1:9",
        DEEPGRAM_API_KEY="k",
    )
    with pytest.raises(TransientError):
        make_transcriber(settings, "k").transcribe(iter([PCM_SECOND]), 16_000)
