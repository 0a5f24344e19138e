"""Recordings: real speech (Debian's flite, committed as samples/speech), real ffmpeg (PyAV),
real PocketSphinx; encoded as MP3, M4A and MP4 with a video track."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import jiwer
import numpy as np
import pytest

from benchmarks.generators import Placed, recording, speech_clips
from docproc.config import LocalSettings
from docproc.errors import InvalidDocument
from docproc.extract import media
from docproc.extract.sniff import MP4, MP4_AUDIO, MPEG_AUDIO, sniff
from docproc.local.runner import LocalEnvironment, ingest
from docproc.models import Chunk
from docproc.transcribe.pocketsphinx import PocketSphinxTranscriber
from tests.conftest import REPORT_TABLES
from tests.integration.test_laptop_runner import run
from tests.range_server import range_server

# Spoken clips of samples/speech, placed well apart, two of them across a window boundary
# (600 s and 1800 s) so that both neighbours hear them.
HOUR_PLACEMENTS = [
    (30.0, 0),
    (400.0, 1),
    (598.0, 2),
    (900.0, 3),
    (1300.0, 4),
    (1797.0, 5),
    (2200.0, 6),
    (2700.0, 7),
    (3100.0, 8),
    (3500.0, 9),
]
# A word each sentence has and no other, recognised reliably.
KEYWORDS = [
    "security",
    "landlord",
    "terminate",
    "building",
    "dismiss",
    "medical",
    "goods",
    "parties",
    "insurance",
    "installments",
]


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


def _words_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    return float(jiwer.wer(_normalise(" ".join(reference)), _normalise(" ".join(hypothesis))))


@pytest.fixture(scope="module")
def hour_mp3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Placed]]:
    path = tmp_path_factory.mktemp("media") / "hearing.mp3"
    return path, recording(path, 3600, HOUR_PLACEMENTS)


@pytest.mark.parametrize(("suffix", "video"), [(".mp3", False), (".m4a", False), (".mp4", True)])
def test_offline_transcriber_word_error_rate_is_under_20_percent(
    tmp_path: Path, suffix: str, video: bool
):
    # Given 40 s of speech and silence, encoded as the suffix says (MP4: with a video track)
    path = tmp_path / f"talk{suffix}"
    placed = recording(path, 40, [(2.0, 0), (12.5, 3), (25.0, 6)], video=video)
    # When ffmpeg decodes it and PocketSphinx transcribes it
    utterances = PocketSphinxTranscriber().transcribe(
        media.decode_window(str(path), 0, 40), media.SAMPLE_RATE
    )
    heard = [word.text for utterance in utterances for word in utterance.words]
    # Then the words are mostly right
    rate = _words_error_rate([p.sentence for p in placed], heard)
    REPORT_TABLES.setdefault("offline transcription (pocketsphinx, flite speech)", []).append(
        (
            f"talk{suffix}",
            f"WER {rate:.1%} over {sum(len(p.sentence.split()) for p in placed)} words",
        )
    )
    assert rate < 0.20, " ".join(heard)
    # And each sentence is heard where it was placed
    starts = [utterance.start for utterance in utterances]
    for clip in placed:
        assert any(abs(start - clip.start) < 1.0 for start in starts), (clip, starts)


def test_one_transcriber_decodes_utterances_from_threads_at_once():
    # Given one transcriber (one decoder per process) and a spoken sentence
    transcriber = PocketSphinxTranscriber()
    _, samples = speech_clips()[0]
    speech = samples.tobytes()
    alone = [word.text for word in transcriber._decode(speech, 0.0).words]
    # When threads decode it at once, many times over (as handlers on threads do; the
    # interpreter switches threads between the decoder's calls)
    with ThreadPoolExecutor(max_workers=4) as threads:
        heard = list(threads.map(lambda _: transcriber._decode(speech, 0.0), range(12)))
    # Then each decoding hears the words one heard alone (no "Failed to start utterance
    # processing"; the times may move by a frame: the decoder's normalisation carries over)
    assert alone and all([word.text for word in utterance.words] == alone for utterance in heard)


def test_probe_reads_duration_and_streams(tmp_path: Path):
    mp4 = tmp_path / "clip.mp4"
    recording(mp4, 12, [(1.0, 0)], video=True)
    info = media.probe(str(mp4))
    assert abs(info.duration_seconds - 12) < 0.2
    assert info.has_video and info.audio_codec == "aac"
    assert sniff(mp4.read_bytes()[:8192]).media_type == MP4
    m4a = tmp_path / "clip.m4a"
    recording(m4a, 3, [])
    assert sniff(m4a.read_bytes()[:8192]).media_type == MP4_AUDIO


def test_a_video_without_sound_is_invalid(tmp_path: Path):
    # Given an MP4 with a picture track only
    silent = tmp_path / "silent.mp4"
    with av.open(str(silent), "w") as out:
        picture = out.add_stream("mpeg4", rate=1)
        picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        for second in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = second
            out.mux(picture.encode(frame))
        out.mux(picture.encode(None))
    # Then probing it fails with a typed, non-retried error
    with pytest.raises(InvalidDocument, match="no audio stream"):
        media.probe(str(silent))


def test_garbage_with_a_media_signature_is_invalid(tmp_path: Path):
    fake = tmp_path / "fake.mp3"
    fake.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    with pytest.raises(InvalidDocument):
        media.probe(str(fake))


@pytest.fixture(scope="module")
def hour_m4a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "hearing.m4a"
    recording(path, 3600, [(1797.0, 5)])
    return path


def _speech_onset(pcm: bytes) -> float:
    """Seconds into ``pcm`` where the first loud tenth of a second is."""
    samples = np.abs(np.frombuffer(pcm, dtype=np.int16).astype(np.float32))
    loudness = samples[: len(samples) // 1600 * 1600].reshape(-1, 1600).mean(axis=1)
    return float(np.argmax(loudness > 300)) / 10


def test_a_window_read_over_http_fetches_a_fraction_of_the_file(hour_m4a: Path):
    # Given an hour-long M4A behind a Range-capable HTTP server, a sentence at 1797 s
    with range_server(hour_m4a.parent) as served:
        url = f"{served.url}/{hour_m4a.name}"
        # When the duration is probed and one 10-second window is decoded
        info = media.probe(url)
        probed = served.bytes_sent
        pcm = b"".join(media.decode_window(url, 1795, 1805))
    # Then both read a small part of the file (ranged reads after a seek), the window is
    # exactly 10 s of 16 kHz mono PCM, and the speech in it is where it was placed
    size = hour_m4a.stat().st_size
    assert abs(info.duration_seconds - 3600) < 1
    assert len(pcm) == 10 * media.BYTES_PER_SECOND
    # (the index is at the end of this file, as phones write it: the first read is cut short)
    assert probed < size * 0.10, (probed, size)
    assert served.bytes_sent < size * 0.10, (served.bytes_sent, size)
    assert abs(1795 + _speech_onset(pcm) - 1797) < 0.5
    REPORT_TABLES.setdefault("media over HTTP (Range)", []).append(
        ("m4a: probe + one 10 s window of 60 min", f"{served.bytes_sent} of {size} bytes")
    )


def test_mp3_windows_keep_exact_times_by_reading_what_comes_before(hour_mp3):
    # Given an hour-long MP3 (no index) behind a Range-capable HTTP server
    path, _ = hour_mp3
    with range_server(path.parent) as served:
        url = f"{served.url}/{path.name}"
        # When a window at 1795 s is decoded (a sentence starts at 1797 s)
        pcm = b"".join(media.decode_window(url, 1795, 1805))
    # Then the speech is at its true time; the price is reading the bytes before the window
    assert abs(1795 + _speech_onset(pcm) - 1797) < 0.5
    size = path.stat().st_size
    assert served.bytes_sent < size * 0.6
    REPORT_TABLES.setdefault("media over HTTP (Range)", []).append(
        ("mp3: one 10 s window at 30 min of 60 min", f"{served.bytes_sent} of {size} bytes")
    )


def _chunks(env: LocalEnvironment, document_id: str) -> Iterator[Chunk]:
    record = env.ledger.get_document("local", document_id)
    assert record is not None
    for segment in env.ledger.list_segments("local", document_id, record.version):
        assert segment.output_key
        for line in env.store.get_bytes(segment.output_key).decode().splitlines():
            yield Chunk.model_validate_json(line)


def test_an_hour_long_recording_in_six_windows_keeps_every_clip_once(
    tmp_path: Path, hour_mp3, monkeypatch: pytest.MonkeyPatch
):
    # Given an hour of recording with ten sentences, two across window boundaries
    path, placed = hour_mp3
    for key in ("SEGMENT_SECONDS", "TRANSCRIBER"):
        monkeypatch.delenv(key, raising=False)
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=2))
    # When it is ingested in 600-second windows
    report = ingest(env, path, document_id="hearing")
    env.close()
    # Then there are six windows and every sentence is in the chunks exactly once
    assert report.segments_total == 6 and report.status == "complete"
    assert abs(report.seconds - 3600) < 1
    chunks = list(_chunks(env, "hearing"))
    transcript = _normalise(" ".join(chunk.text for chunk in chunks)).split()
    for keyword in KEYWORDS:
        assert transcript.count(keyword) == 1, (keyword, transcript)
    # And each sentence's chunks lie within 2 s of where it was spoken
    for clip in placed:
        covering = [
            c
            for c in chunks
            if c.time_start is not None
            and c.time_end is not None
            and c.time_start < clip.end + 2
            and c.time_end > clip.start - 2
        ]
        assert covering, clip
        assert abs(covering[0].time_start - clip.start) <= 2, (clip, covering)  # type: ignore[operator]
        assert abs(covering[-1].time_end - clip.end) <= 2, (clip, covering)  # type: ignore[operator]
    # And the whole transcript is close to what was said
    rate = _words_error_rate([p.sentence for p in placed], transcript)
    assert rate < 0.20
    REPORT_TABLES.setdefault("offline transcription (pocketsphinx, flite speech)", []).append(
        ("hearing.mp3 (60 min, 6 windows)", f"WER {rate:.1%}, {len(chunks)} chunks")
    )
    assert all(c.extraction == "ffmpeg+pocketsphinx-en-us" for c in chunks)
    # And the same file again is a no-op that still reports what it holds
    again = ingest(LocalEnvironment(env.settings), path, document_id="hearing")
    assert again.segments_processed == 0 and again.seconds == report.seconds
    assert sniff(path.read_bytes()[:8192]).media_type == MPEG_AUDIO


def test_docproc_search_finds_a_spoken_sentence_with_its_time_range(tmp_path: Path):
    # Given a short video with speech, ingested with the docproc command
    video = tmp_path / "deposition.mp4"
    recording(video, 35, [(3.0, 3), (20.0, 8)], video=True)
    home = tmp_path / "home"
    run(home, "ingest", str(video))
    # When searching for what was said
    result = run(home, "search", "the insurance company denied the claim", "--top-k", "1")
    # Then the hit is the sentence, with the time range it was spoken in
    first, snippet = result.stdout.splitlines()[:2]
    assert "insurance" in snippet
    start, end = (float(t) for t in re.findall(r"([0-9.]+)s", first))
    assert 19 <= start <= 21.5 and 23 <= end <= 26, first


def test_speech_chunks_carry_time_ranges_in_the_chunk_file(tmp_path: Path):
    audio = tmp_path / "note.m4a"
    recording(audio, 20, [(5.0, 1)])
    env = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    ingest(env, audio, document_id="note")
    (chunk,) = list(_chunks(env, "note"))
    env.close()
    line = json.loads(chunk.model_dump_json())
    assert {"time_start", "time_end"} <= line.keys()
    assert line["page_start"] is None and line["byte_start"] is None


def test_a_damaged_stretch_is_skipped_and_later_speech_keeps_its_time(tmp_path: Path):
    # Given an M4A with 50 kB of garbage in the middle, and a sentence after it
    audio = tmp_path / "damaged.m4a"
    recording(audio, 120, [(10.0, 0), (90.0, 1)])
    data = bytearray(audio.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 50_000] = np.random.default_rng(3).bytes(50_000)
    audio.write_bytes(bytes(data))
    # When the whole recording is decoded
    pcm = b"".join(media.decode_window(str(audio), 0, 120))
    # Then nothing is lost but the damage, and the second sentence is where it was spoken
    assert len(pcm) == 120 * media.BYTES_PER_SECOND
    assert abs(_speech_onset(pcm[80 * media.BYTES_PER_SECOND :]) + 80 - 90) < 0.5
    # And a recording cut before its index (an M4A's is at the end) is rejected, typed
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(InvalidDocument):
        media.probe(str(cut))


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [
        (".aac", "audio/aac"),
        (".wav", "audio/wav"),
        (".flac", "audio/flac"),
        (".ogg", "audio/ogg"),
        (".mov", "video/quicktime"),
        (".mkv", "video/x-matroska"),
        (".webm", "video/webm"),
    ],
)
def test_every_container_is_recognised_probed_and_decoded_on_time(
    tmp_path: Path, suffix: str, media_type: str
):
    # Given 30 s with a sentence at 20 s, in this container
    path = tmp_path / f"clip{suffix}"
    recording(path, 30, [(20.0, 2)])
    # Then the content says what it is, the duration is known, and a window that starts
    # after a seek hears the sentence at its true time
    assert sniff(path.read_bytes()[:8192], "upload.bin").media_type == media_type
    # (raw ADTS has no index or header duration: ffmpeg estimates it from the bitrate)
    tolerance = 3.0 if suffix == ".aac" else 0.5
    assert abs(media.probe(str(path)).duration_seconds - 30) < tolerance
    pcm = b"".join(media.decode_window(str(path), 15, 25))
    assert len(pcm) == 10 * media.BYTES_PER_SECOND
    assert abs(15 + _speech_onset(pcm) - 20) < 0.5
