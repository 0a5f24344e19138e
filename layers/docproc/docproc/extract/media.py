"""Audio and video through ffmpeg's own libraries (PyAV): probe a recording, and decode one
time window of it as 16 kHz mono PCM, reading the object through a URL or a path.

Over HTTP(S) ffmpeg reads with Range requests: probing reads the container's header, and a
window is reached by seeking the input before decoding (what ``ffmpeg -ss T -i URL`` does).
Containers with an index (MP4/M4A/MOV, MKV/WebM, FLAC, Ogg, WAV) seek exactly, so a worker
fetches about its own window's bytes.

MP3 has no index. Its table of contents (``usetoc=1``) makes a seek cheap but imprecise: the
TOC holds 100 one-byte positions, and on an hour-long file the times after a seek were off by
up to 8.7 s (measured; see tests/integration/test_media.py). Chunk times must be right, so MP3
is read from the start up to the window (``usetoc=0``): exact, at the cost of reading the
bytes before the window (an hour at 128 kbit/s is 58 MB; ffmpeg's index of them is capped at
``max_index_size``, 1 MB).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import av.error

from docproc.errors import InvalidDocument, TransientError

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2  # s16le mono
EXTRACTION_METHOD = "ffmpeg"
# Seconds to wait for the network before a read fails (then TransientError: retried).
_NETWORK_TIMEOUT = 30.0
# A jump in timestamps larger than this is a gap to fill with silence (0.1 s).
_GAP_SAMPLES = SAMPLE_RATE // 10
# Transient by nature: the service or the network, not the recording.
_TRANSIENT = (
    av.error.HTTPServerError,
    av.error.HTTPTooManyRequestsError,
    av.error.TimeoutError,
    av.error.ConnectionResetError,
    av.error.ConnectionRefusedError,
    av.error.ConnectionAbortedError,
    av.error.BrokenPipeError,
)
# ffmpeg demuxer options: whatever a format does not know, it ignores.
_INPUT_OPTIONS = {
    # Exact times over a cheap seek (see the module's docstring).
    "usetoc": "0",
    "reconnect": "1",
    "reconnect_on_network_error": "1",
    "reconnect_delay_max": "5",
}


@dataclass(frozen=True)
class MediaInfo:
    duration_seconds: float
    audio_codec: str
    has_video: bool


def _open(source: str) -> Any:
    try:
        return av.open(source, options=_INPUT_OPTIONS, timeout=_NETWORK_TIMEOUT)
    except _TRANSIENT as exc:
        raise TransientError(f"reading the recording: {type(exc).__name__}") from exc
    except av.error.HTTPClientError as exc:
        # 403/404 on a presigned URL: most likely expired; each retry signs a fresh URL.
        raise TransientError(f"reading the recording: {type(exc).__name__}") from exc
    except (av.error.FFmpegError, ValueError) as exc:
        raise InvalidDocument(f"not a readable recording: {type(exc).__name__}") from exc


def probe(source: str) -> MediaInfo:
    """Duration and streams, from the container's header. InvalidDocument when it has no
    audio stream or no known duration."""
    with _open(source) as container:
        if not container.streams.audio:
            raise InvalidDocument("the recording has no audio stream")
        audio = container.streams.audio[0]
        duration = _duration(container, audio)
        if duration is None or duration <= 0:
            raise InvalidDocument("the recording's duration is unknown or zero")
        return MediaInfo(
            duration_seconds=duration,
            audio_codec=audio.codec_context.name,
            has_video=bool(container.streams.video),
        )


def _duration(container: Any, audio: Any) -> float | None:
    if container.duration:  # in AV_TIME_BASE units (microseconds)
        return float(container.duration / av.time_base)
    if audio.duration and audio.time_base:
        return float(audio.duration * audio.time_base)
    return None


def decode_window(source: str, start: float, end: float) -> Iterator[bytes]:
    """PCM (s16le, mono, 16 kHz) of seconds ``[start, end)``, in blocks as they decode: memory
    holds a frame or two, whatever the window's length. The first sample is at ``start``."""
    first_sample = round(start * SAMPLE_RATE)
    last_sample = round(end * SAMPLE_RATE)
    with _open(source) as container:
        if not container.streams.audio:
            raise InvalidDocument("the recording has no audio stream")
        stream = container.streams.audio[0]
        # Only the audio packets are demuxed: a video track is skipped, not decoded.
        stream.thread_type = "AUTO"
        if start > 0:
            _seek(container, start)
        health = _Health()
        try:
            yield from _window_pcm(
                _decoded_frames(container, stream, health), first_sample, last_sample
            )
        except _TRANSIENT as exc:
            raise TransientError(f"reading the recording: {type(exc).__name__}") from exc
        except av.error.InvalidDataError as exc:
            raise InvalidDocument(
                f"the recording's container is damaged near {start:.0f} s"
            ) from exc
        if health.damaged > health.decoded:
            raise InvalidDocument(
                f"the recording is mostly undecodable from {start:.0f} s "
                f"({health.damaged} damaged packets, {health.decoded} good)"
            )


@dataclass
class _Health:
    decoded: int = 0
    damaged: int = 0


def _decoded_frames(container: Any, stream: Any, health: _Health) -> Iterator[Any]:
    """The audio stream's frames; a packet that does not decode is skipped (as ffmpeg does):
    the rest of a recording with a damaged stretch is still worth having."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            health.damaged += 1
            continue
        health.decoded += 1
        yield from frames


def _window_pcm(frames: Iterator[Any], first_sample: int, last_sample: int) -> Iterator[bytes]:
    """Frames resampled to 16 kHz mono s16, cut to samples ``[first_sample, last_sample)``."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    position: int | None = None  # sample index (on the file's timeline) of the next sample
    for frame in frames:
        frame_start = round(frame.time * SAMPLE_RATE) if frame.time is not None else None
        # Silence keeps every later sample at its true time where decoding resumed past the
        # window's start (after a seek) or jumped ahead (a skipped damaged stretch).
        if position is None:
            position = frame_start if frame_start is not None else first_sample
            if position > first_sample:
                yield bytes(2 * (min(position, last_sample) - first_sample))
        elif frame_start is not None and frame_start > position + _GAP_SAMPLES:
            lo, hi = max(position, first_sample), min(frame_start, last_sample)
            if hi > lo:
                yield bytes(2 * (hi - lo))
            position = frame_start
        for converted in resampler.resample(frame):
            data = bytes(converted.planes[0])[: converted.samples * 2]
            block_start, position = position, position + converted.samples
            lo = max(first_sample - block_start, 0) * 2
            hi = (min(last_sample, position) - block_start) * 2
            if hi > lo:
                yield data[lo:hi]
        if position >= last_sample:
            return


def _seek(container: Any, start: float) -> None:
    """Input seeking (``ffmpeg -ss`` before ``-i``): to the keyframe at or before ``start``,
    from which decoding reaches it exactly."""
    container.seek(math.floor(start * av.time_base), any_frame=False, backward=True)
