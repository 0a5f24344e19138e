"""Deterministic test and benchmark inputs (seeded: the same arguments give the same bytes)."""

from __future__ import annotations

import random
from pathlib import Path

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


def image_pdf(path: Path, size_bytes: int, seed: int = 7, side: int = 512) -> Path:
    """An image-heavy PDF of about ``size_bytes``: one unique noise image (incompressible) and a
    line of text per page. Written page by page, so memory stays flat whatever the size."""
    rng = random.Random(seed)
    per_page = side * side * 3
    pages = max(1, size_bytes // per_page)
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, side, side, rng.randbytes(per_page), False)
        page.insert_image(pymupdf.Rect(50, 100, 50 + side // 2, 100 + side // 2), pixmap=pixmap)
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
