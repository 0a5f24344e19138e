"""Deterministic test and benchmark inputs (seeded: the same arguments give the same bytes)."""

from __future__ import annotations

import json
import math
import random
import shutil
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


# --- scanned pages ----------------------------------------------------------------------------

# How a scan can be degraded; "clean" is the page rasterised losslessly in colour.
DEGRADATIONS = ("clean", "grayscale", "noise", "rotated", "jpeg", "bilevel")
# Fonts of the Base-14 set, which PyMuPDF draws without a font file.
_SCAN_FONTS = (("helv", 11), ("tiro", 12), ("cour", 10), ("helv", 14))


@dataclass(frozen=True)
class ScannedPage:
    """What a scanned page shows, to compare OCR against."""

    number: int
    text: str
    degradation: str
    dpi: int


def scan_text(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(6, 12)) for _ in range(sentences))


def _drawn_page(text: str, columns: int, font: tuple[str, int]) -> pymupdf.Document:
    """A one-page born-digital document showing ``text`` in one or two columns."""
    document = pymupdf.open()
    page = document.new_page(width=612, height=792)
    name, size = font
    if columns == 1:
        boxes = [(pymupdf.Rect(60, 60, 552, 740), text)]
    else:
        words = text.split()
        half = len(words) // 2
        boxes = [
            # A half-inch gutter; much narrower, and Tesseract joins the lines of a skewed
            # scan across it.
            (pymupdf.Rect(50, 60, 288, 740), " ".join(words[:half])),
            (pymupdf.Rect(324, 60, 562, 740), " ".join(words[half:])),
        ]
    for rect, part in boxes:
        if page.insert_textbox(rect, part, fontname=name, fontsize=size) < 0:
            raise ValueError("the text does not fit the page: fewer sentences")
    return document


def _degraded(gray: Any, degradation: str, rng: random.Random) -> Any:
    """A degraded copy of an 8-bit grayscale page (numpy array)."""
    import numpy as np

    if degradation == "noise":
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 30, gray.shape)
        return np.clip(gray.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if degradation == "rotated":
        angle = math.radians(rng.choice((-1.5, -1.0, 1.0, 1.5)))
        height, width = gray.shape
        ys, xs = np.indices(gray.shape, dtype=np.float32)
        cy, cx = height / 2, width / 2
        # Inverse mapping, nearest neighbour; what comes from outside the page is white.
        sx = np.cos(angle) * (xs - cx) + np.sin(angle) * (ys - cy) + cx
        sy = -np.sin(angle) * (xs - cx) + np.cos(angle) * (ys - cy) + cy
        sx, sy = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)
        inside = (sx >= 0) & (sx < width) & (sy >= 0) & (sy < height)
        out = np.full_like(gray, 255)
        out[inside] = gray[sy[inside], sx[inside]]
        return out
    if degradation == "bilevel":
        # What a fax or a CCITT G4 scanner keeps: black or white, nothing between.
        return np.where(gray < 160, 0, 255).astype(np.uint8)
    return gray


def scanned_page_image(
    text: str,
    degradation: str,
    dpi: int,
    rng: random.Random,
    columns: int = 1,
    font: tuple[str, int] = ("helv", 11),
) -> bytes:
    """The page showing ``text`` as an image file (PNG, or JPEG for "jpeg")."""
    import numpy as np

    drawn = _drawn_page(text, columns, font)
    colour = degradation == "clean"
    pixmap = drawn[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB if colour else pymupdf.csGRAY)
    drawn.close()
    if colour:
        return bytes(pixmap.tobytes("png"))
    gray = np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.height, pixmap.width)
    out = _degraded(gray, degradation, rng)
    image = pymupdf.Pixmap(pymupdf.csGRAY, pixmap.width, pixmap.height, out.tobytes(), False)
    return bytes(
        image.tobytes("jpeg", jpg_quality=35) if degradation == "jpeg" else image.tobytes("png")
    )


def scanned_pdf(
    path: Path,
    degradations: tuple[str, ...] = DEGRADATIONS,
    pages_each: int = 1,
    seed: int = 17,
    sentences: int = 14,
) -> list[ScannedPage]:
    """Image-only pages of known text: for each degradation ``pages_each`` pages, cycling
    through fonts and sizes, one and two columns, 150 to 300 dpi."""
    rng = random.Random(seed)
    document = pymupdf.open()
    truth: list[ScannedPage] = []
    for degradation in degradations:
        for _ in range(pages_each):
            number = len(truth) + 1
            text = scan_text(rng, sentences)
            dpi = (150, 200, 300)[number % 3]
            image = scanned_page_image(
                text,
                degradation,
                dpi,
                rng,
                columns=1 + number % 2,
                font=_SCAN_FONTS[number % len(_SCAN_FONTS)],
            )
            page = document.new_page(width=612, height=792)
            page.insert_image(page.rect, stream=image)
            truth.append(ScannedPage(number, text, degradation, dpi))
    document.save(path, garbage=1)
    document.close()
    return truth


def mixed_pdf(path: Path, pages: int, scanned_at: set[int], seed: int = 23) -> dict[int, str]:
    """Born-digital pages with scans at the page numbers ``scanned_at``; returns each scanned
    page's marker phrase (what a search must find on that page)."""
    rng = random.Random(seed)
    document = pymupdf.open()
    phrases: dict[int, str] = {}
    for number in range(1, pages + 1):
        page = document.new_page(width=612, height=792)
        if number in scanned_at:
            phrases[number] = f"Scanned exhibit {number} names witness {_WORDS[number % 40]}."
            text = phrases[number] + " " + scan_text(rng, 4)
            page.insert_image(page.rect, stream=scanned_page_image(text, "jpeg", 200, rng))
        else:
            lines = [page_marker(number)] + [sentence(rng) for _ in range(20)]
            page.insert_text((50, 60), "\n".join(lines), fontsize=9)
    document.save(path, garbage=1, deflate=True)
    document.close()
    return phrases


def scan_marker(number: int) -> str:
    """What the scan of page ``number`` of scanned_record_pdf shows."""
    return f"Scanned record page {number} reference {number * 7919 % 100000:05d}"


def scanned_record_pdf(path: Path, pages: int, dpi: int = 150, seed: int = 29) -> Path:
    """A scan of many small pages, each showing its marker line: cheap to OCR, many pages."""
    rng = random.Random(seed)
    document = pymupdf.open()
    for number in range(1, pages + 1):
        drawn = pymupdf.open()
        sheet = drawn.new_page(width=420, height=120)
        sheet.insert_text((24, 50), scan_marker(number), fontname="helv", fontsize=13)
        sheet.insert_text((24, 80), sentence(rng, 6), fontname="helv", fontsize=13)
        pixmap = sheet.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        drawn.close()
        page = document.new_page(width=420, height=120)
        page.insert_image(page.rect, stream=pixmap.tobytes("png"))
    document.save(path, garbage=1)
    document.close()
    return path


# --- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableTruth:
    """What a generated table holds: its header cells (a merged cell once) and its rows."""

    kind: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _table_rows(rng: random.Random, prefix: str, count: int) -> list[tuple[str, ...]]:
    return [
        (
            f"{prefix}-{1000 + index}",
            f"{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)}",
            f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}",
            f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        )
        for index in range(count)
    ]


def _draw_table(
    page: pymupdf.Page,
    top: float,
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    ruled: bool,
    merged_header: bool = False,
) -> float:
    """Draw a four-column table at ``top``; returns its bottom. ``merged_header``: the header's
    last cell spans the last two columns (its first row has three cells)."""
    left, width, height = 60.0, 118.0, 17.0
    y = top
    lines = [header, *rows]
    for number, cells in enumerate(lines):
        spans = [1] * len(cells)
        if merged_header and number == 0:
            spans[-1] = 2
        x = left
        for cell, span in zip(cells, spans, strict=True):
            rect = pymupdf.Rect(x, y, x + width * span, y + height)
            if ruled:
                page.draw_rect(rect, color=(0, 0, 0), width=0.6)
            page.insert_text((rect.x0 + 4, rect.y1 - 5), cell, fontsize=9, fontname="helv")
            x += width * span
        y += height
    return y


def tables_pdf(path: Path, seed: int = 41) -> list[TableTruth]:
    """Prose with tables of known cells between: a ruled one, a borderless one, one with a
    merged header cell, and a ruled one that runs across a page break."""
    rng = random.Random(seed)
    document = pymupdf.open()
    truths: list[TableTruth] = []
    header = ("Invoice", "Description", "Amount", "Due date")
    page = document.new_page(width=612, height=792)
    page.insert_textbox(pymupdf.Rect(60, 50, 552, 110), scan_text(rng, 3), fontsize=10)
    rows = _table_rows(rng, "INV", 8)
    bottom = _draw_table(page, 120, header, rows, ruled=True)
    truths.append(TableTruth("ruled", header, tuple(rows)))
    page.insert_textbox(
        pymupdf.Rect(60, bottom + 20, 552, bottom + 80), scan_text(rng, 3), fontsize=10
    )
    rows = _table_rows(rng, "PO", 6)
    bottom = _draw_table(page, bottom + 100, header, rows, ruled=False)
    truths.append(TableTruth("borderless", header, tuple(rows)))
    page.insert_textbox(
        pymupdf.Rect(60, bottom + 20, 552, bottom + 80), scan_text(rng, 3), fontsize=10
    )
    merged = ("Exhibit", "Witness", "Filed")
    rows = _table_rows(rng, "EX", 5)
    _draw_table(page, bottom + 100, merged, rows, ruled=True, merged_header=True)
    truths.append(TableTruth("merged header", merged, tuple(rows)))
    # A table that starts near the foot of a page and goes on at the top of the next.
    page = document.new_page(width=612, height=792)
    page.insert_textbox(pymupdf.Rect(60, 50, 552, 560), scan_text(rng, 20), fontsize=10)
    rows = _table_rows(rng, "LN", 18)
    _draw_table(page, 600, header, rows[:10], ruled=True)
    page = document.new_page(width=612, height=792)
    # (the continuation does not repeat the header)
    bottom = _draw_table(page, 50, rows[10], rows[11:], ruled=True)
    page.insert_textbox(
        pymupdf.Rect(60, bottom + 20, 552, bottom + 120), scan_text(rng, 4), fontsize=10
    )
    truths.append(TableTruth("across a page break", header, tuple(rows)))
    document.save(path, garbage=1, deflate=True)
    document.close()
    return truths


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


def mailbox_pst(path: Path, messages: int, seed: int = 43) -> list[str]:
    """An Outlook data file of ``messages`` messages in 20 folders of the Inbox, each with a
    body of ~300 words and a 3-page text PDF attached; every 8th also carries a 2 MB scan of
    noise (a file docproc names but cannot read; what makes the mailbox large). The paths, as
    docproc repacks them, of the files it reads: each message and each PDF."""
    from benchmarks.pst import Attachment, Folder, Message, Recipient, pst_file

    rng = random.Random(seed)
    work = path.parent / f"{path.stem}-pdfs"
    work.mkdir(parents=True, exist_ok=True)
    pdfs = [text_pdf(work / f"{n}.pdf", 3, seed=n).read_bytes() for n in range(10)]
    shutil.rmtree(work)
    scan = rng.randbytes(2 << 20)
    folders: list[Folder] = [Folder(f"Matter {n:02d}") for n in range(20)]
    readable = []
    for number in range(messages):
        folder = folders[number % len(folders)]
        subject = f"Matter {number % len(folders):02d} note {number}"
        attachments = [Attachment(f"exhibit-{number}.pdf", pdfs[number % len(pdfs)])]
        if number % 8 == 0:
            attachments.append(Attachment("scan.bin", scan))
        folder.messages.append(
            Message(
                subject,
                body=" ".join(sentence(rng, 30) for _ in range(10)),
                sender_name="Ann Smith",
                sender_address="ann@example.com",
                recipients=[Recipient("Bob Jones", "bob@example.com")],
                attachments=attachments,
            )
        )
        stem = f"Inbox/{folder.name}/{len(folder.messages):05d} {subject}"
        readable += [f"{stem}.eml", f"{stem}/exhibit-{number}.pdf"]
    path.write_bytes(pst_file([Folder("Inbox", folders=folders)]))
    return readable


def word_document(path: Path, paragraphs: int, seed: int = 47) -> Path:
    """A DOCX as python-docx writes one: ``paragraphs`` numbered clauses of ~30 words, and a
    table of 5 rows and 4 columns after every 200th (what both readers compared read alike)."""
    import docx

    rng = random.Random(seed)
    document = docx.Document()
    for number in range(paragraphs):
        document.add_paragraph(f"Clause {number}. {sentence(rng, 30)}")
        if number % 200 == 199:
            table = document.add_table(rows=5, cols=4)
            for row in range(5):
                for column in range(4):
                    table.cell(row, column).text = f"r{row}c{column} of {number}"
    document.save(str(path))
    return path
