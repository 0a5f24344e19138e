"""Deterministic test and benchmark inputs (seeded: the same arguments give the same bytes)."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

_WORDS = [
    "agreement",
    "party",
    "clause",
    "court",
    "evidence",
    "witness",
    "plaintiff",
    "defendant",
    "counsel",
    "motion",
    "liability",
    "damages",
    "contract",
    "breach",
    "settlement",
    "hearing",
    "exhibit",
    "statute",
    "jurisdiction",
    "appeal",
    "discovery",
    "deposition",
    "testimony",
    "verdict",
    "judgment",
    "filing",
    "notice",
    "remedy",
    "obligation",
    "term",
    "indemnity",
    "warranty",
    "consent",
    "arbitration",
    "license",
    "property",
    "tenant",
    "lease",
    "payment",
    "invoice",
]


def sentence(rng: random.Random, words: int = 12) -> str:
    chosen = [rng.choice(_WORDS) for _ in range(words)]
    return " ".join(chosen).capitalize() + "."


def page_marker(number: int) -> str:
    """A phrase that appears on exactly one page: lets tests find the page of a hit."""
    return f"Marker phrase for page number {number} of the record."


def text_pdf(path: Path, pages: int, seed: int = 7, lines_per_page: int = 30) -> Path:
    """A text-heavy PDF: every page has a unique marker line and ``lines_per_page`` sentences."""
    rng = random.Random(seed)
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        lines = [page_marker(number)] + [sentence(rng) for _ in range(lines_per_page)]
        page.insert_text((50, 60), "\n".join(lines), fontsize=9)
    document.save(path, garbage=1, deflate=True)
    document.close()
    return path


def text_file(path: Path, size: int, seed: int = 7) -> Path:
    """A UTF-8 text file of about ``size`` bytes: numbered lines with some multi-byte text."""
    rng = random.Random(seed)
    written = 0
    number = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < size:
            number += 1
            line = f"{number:08d} {sentence(rng, rng.randint(3, 20))} §ü€\n"
            out.write(line)
            written += len(line.encode())
    return path


def image_pdf(
    path: Path, size_bytes: int, seed: int = 7, side: int = 512, jpeg: bool = False
) -> Path:
    """An image-heavy PDF of about ``size_bytes``: one unique noise image (incompressible) and a
    line of text per page, the image stored uncompressed (PyMuPDF's default for a pixmap) or
    as a JPEG. Written page by page, so memory stays flat whatever the size."""
    rng = random.Random(seed)
    raw = side * side * 3
    per_page = 433_000 if jpeg else raw  # a 512x512 noise JPEG at quality 90
    pages = max(1, size_bytes // per_page)
    document = pymupdf.open()
    where = pymupdf.Rect(50, 100, 50 + side // 2, 100 + side // 2)
    for number in range(1, pages + 1):
        page = document.new_page()
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, side, side, rng.randbytes(raw), False)
        if jpeg:
            page.insert_image(where, stream=pixmap.tobytes("jpeg", jpg_quality=90))
        else:
            page.insert_image(where, pixmap=pixmap)
        page.insert_text((50, 60), f"{page_marker(number)} {sentence(rng)}", fontsize=9)
        if number % 100 == 0:
            # Flush to disk in increments: an in-memory document of 1 GB would defeat the point.
            if number == 100:
                document.save(path)
            else:
                document.saveIncr()
            document.close()
            document = pymupdf.open(path)
    if pages < 100 or pages % 100:
        if path.exists() and pages >= 100:
            document.saveIncr()
        else:
            document.save(path)
    document.close()
    return path


# --- recordings -------------------------------------------------------------------------------

SPEECH = Path(__file__).resolve().parents[1] / "samples" / "speech"
_RATE = 16_000


def speech_clips() -> list[tuple[str, Any]]:
    """The committed flite sentences (samples/speech) as (sentence, int16 samples at 16 kHz)."""
    import av
    import numpy as np

    sentences = json.loads((SPEECH / "sentences.json").read_text())
    clips = []
    for number, sentence in enumerate(sentences, start=1):
        with av.open(str(SPEECH / f"{number:02d}.flac")) as source:
            samples = np.concatenate([f.to_ndarray().reshape(-1) for f in source.decode(audio=0)])
        clips.append((sentence, samples.astype(np.int16)))
    return clips


# The audio codec each container is written with.
_CODECS = {
    ".mp3": "libmp3lame",
    ".m4a": "aac",
    ".aac": "aac",
    ".mp4": "aac",
    ".mov": "aac",
    ".mkv": "aac",
    ".webm": "libopus",
    ".ogg": "libopus",
    ".flac": "flac",
    ".wav": "pcm_s16le",
}


@dataclass(frozen=True)
class Placed:
    sentence: str
    start: float
    end: float


def recording(
    path: Path,
    duration: float,
    placements: list[tuple[float, int]],
    video: bool = False,
    seed: int = 7,
) -> list[Placed]:
    """A recording of ``duration`` seconds: quiet noise, with clip ``n`` of ``speech_clips()``
    starting at each ``(second, n)``. The container and codec follow the suffix (.mp3, .m4a,
    .mp4 with ``video``: a small moving picture track too). Written a second at a time, so
    memory stays flat for hours of audio. Returns where each sentence was placed."""
    import av
    import numpy as np

    clips = speech_clips()
    rng = np.random.default_rng(seed)
    placed = [
        Placed(clips[n][0], start, start + len(clips[n][1]) / _RATE) for start, n in placements
    ]
    codec = _CODECS[path.suffix]
    with av.open(str(path), "w") as out:
        audio = out.add_stream(codec, rate=_RATE, layout="mono")
        if codec not in ("pcm_s16le", "flac"):
            audio.bit_rate = 64_000  # a voice recorder's setting
        picture = None
        if video:
            picture = out.add_stream("mpeg4", rate=1)
            picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        for second in range(math.ceil(duration)):
            # Quiet noise: a digitally silent track is not what microphones record.
            block = rng.normal(0, 30, _RATE).astype(np.int32)
            for start, n in placements:
                samples = clips[n][1]
                offset = round(start * _RATE) - second * _RATE
                lo, hi = max(offset, 0), min(offset + len(samples), _RATE)
                if lo < hi:
                    block[lo:hi] += samples[lo - offset : hi - offset]
            frame = av.AudioFrame.from_ndarray(
                np.clip(block, -32768, 32767).astype(np.int16).reshape(1, -1),
                format="s16",
                layout="mono",
            )
            frame.sample_rate = _RATE
            frame.pts = second * _RATE
            out.mux(audio.encode(frame))
            if picture is not None:
                image = np.full((64, 64, 3), second % 255, dtype=np.uint8)
                still = av.VideoFrame.from_ndarray(image, format="rgb24")
                still.pts = second
                out.mux(picture.encode(still))
        out.mux(audio.encode(None))
        if picture is not None:
            out.mux(picture.encode(None))
    return placed
