"""What page-based extractors hand to the chunker: light enough to import without MuPDF."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
