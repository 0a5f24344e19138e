"""What page-based extractors hand to the chunker: light enough to import without MuPDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a page's text was obtained: its text layer, or OCR of its rendering.
PageMethod = Literal["text", "ocr"]
# auto: tables found on a page are written into its text as Markdown tables.
TablesMode = Literal["auto", "off"]


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
    method: PageMethod = "text"
