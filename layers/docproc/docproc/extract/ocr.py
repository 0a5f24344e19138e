"""OCR of scanned pages: which pages need it, where Tesseract's language data is, and how a
page is read. Light to import (no MuPDF): settings validate the languages at start-up.

PyMuPDF's wheels carry Tesseract itself; only its trained data is separate, and PyPI ships it
as ``tessdata.fast-<lang>`` packages, which install ``share/tessdata/<lang>.traineddata``
under the environment (a venv's prefix, or the folder ``pip install --target`` fills: the
Lambda image's task root).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from docproc.errors import ConfigurationError

OcrMode = Literal["auto", "off", "force"]

# A page whose text layer has at least this share of readable characters has real text.
_READABLE_SHARE = 0.5
# A page without real text is a scan when images cover at least this share of it.
_IMAGE_COVER = 0.5
# Rendering cap: an A4 page at 300 dpi is 8.7 megapixels; a poster-sized page is rendered at
# a lower resolution instead of a pixmap of hundreds of MB.
MAX_OCR_PIXELS = 12_000_000


@dataclass(frozen=True)
class OcrOptions:
    mode: OcrMode = "auto"
    # Tesseract's form: "eng", "eng+deu".
    languages: str = "eng"
    dpi: int = 200
    # The folder of the .traineddata files; None when mode is off.
    tessdata: Path | None = None

    @classmethod
    def configured(
        cls, mode: OcrMode, languages: str, dpi: int, tessdata: Path | None = None
    ) -> OcrOptions:
        """Options whose languages are all installed, or a ConfigurationError saying which
        package to install."""
        if mode == "off":
            return cls(mode=mode, languages=languages, dpi=dpi)
        return cls(mode, languages, dpi, tessdata_folder(languages, tessdata))


# The defaults: auto finds the trained data on the first page that needs OCR.
OCR_AUTO = OcrOptions()
OCR_OFF = OcrOptions(mode="off")


def language_codes(languages: str) -> list[str]:
    codes = [code.strip() for code in languages.split("+")]
    if not codes or not all(code and code.replace("_", "").isalnum() for code in codes):
        raise ConfigurationError(
            f"OCR_LANGUAGES must be Tesseract codes joined by '+', like eng+deu: {languages!r}"
        )
    return codes


def tessdata_folders(explicit: Path | None = None) -> list[Path]:
    """Where trained data may be, in the order searched."""
    candidates = [explicit] if explicit else []
    if os.environ.get("TESSDATA_PREFIX"):
        candidates.append(Path(os.environ["TESSDATA_PREFIX"]))
    # A venv's prefix; then each import root (pip --target puts share/ beside the packages).
    candidates.append(Path(sys.prefix) / "share" / "tessdata")
    candidates.extend(Path(entry) / "share" / "tessdata" for entry in sys.path if entry)
    return list(dict.fromkeys(candidates))


def tessdata_folder(languages: str, explicit: Path | None = None) -> Path:
    """The first folder holding every language's ``.traineddata``."""
    codes = language_codes(languages)
    folders = tessdata_folders(explicit)
    if explicit is not None:
        folders = [explicit]
    for folder in folders:
        if all((folder / f"{code}.traineddata").is_file() for code in codes):
            return folder
    missing = [
        code
        for code in codes
        if not any((folder / f"{code}.traineddata").is_file() for folder in folders)
    ] or codes
    packages = " ".join(f"tessdata.fast-{code}" for code in missing)
    raise ConfigurationError(
        f"OCR_LANGUAGES={languages}: no trained data for {'+'.join(missing)}; "
        f"install it with `pip install {packages}` (or set OCR=off)"
    )


def readable(text: str) -> bool:
    """A real text layer: some non-space characters, mostly not U+FFFD or control codes
    (what a font without a Unicode map extracts as)."""
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return False
    good = sum(1 for char in visible if char != "\ufffd" and char.isprintable())
    return good >= _READABLE_SHARE * len(visible)


def mostly_images(page_area: float, image_areas: list[float]) -> bool:
    """Images cover most of the page (overlaps count twice: a tiled scan still counts)."""
    return page_area > 0 and sum(image_areas) >= _IMAGE_COVER * page_area


def ocr_dpi(dpi: int, width_points: float, height_points: float) -> int:
    """``dpi``, or less for a page that would render above MAX_OCR_PIXELS."""
    inches = max(width_points, 1.0) / 72 * max(height_points, 1.0) / 72
    fitting = int((MAX_OCR_PIXELS / inches) ** 0.5)
    return max(72, min(dpi, fitting))


# A line OCR found: (x0, y0, x1, y1) in points, and its words.
OcrLine = tuple[tuple[float, float, float, float], str]


def reading_order(lines: list[OcrLine]) -> list[list[str]]:
    """OCR'd lines in reading order, as blocks of lines: columns left to right, each top to
    bottom (an XY cut). MuPDF groups OCR output by visual row, which interleaves the lines of
    side-by-side columns.

    Cuts go through empty bands: a vertical one (a column gutter) at least a line's height
    wide, else a horizontal one wider than ordinary line spacing.
    """
    if not lines:
        return []
    heights = sorted(box[3] - box[1] for box, _ in lines)
    height = max(heights[len(heights) // 2], 1.0)
    return _xy_cut(lines, gutter=height, spacing=height * 0.8)


def _xy_cut(lines: list[OcrLine], gutter: float, spacing: float) -> list[list[str]]:
    if len(lines) > 1:
        x = _widest_gap([(box[0], box[2]) for box, _ in lines], gutter)
        if x is not None:
            left = [line for line in lines if line[0][2] <= x]
            right = [line for line in lines if line[0][2] > x]
            return _xy_cut(left, gutter, spacing) + _xy_cut(right, gutter, spacing)
        y = _widest_gap([(box[1], box[3]) for box, _ in lines], spacing)
        if y is not None:
            top = [line for line in lines if line[0][3] <= y]
            bottom = [line for line in lines if line[0][3] > y]
            return _xy_cut(top, gutter, spacing) + _xy_cut(bottom, gutter, spacing)
    return [[text for _, text in sorted(lines, key=lambda line: (line[0][1], line[0][0]))]]


def _widest_gap(spans: list[tuple[float, float]], at_least: float) -> float | None:
    """The middle of the widest empty stretch between the spans' union, if ``at_least`` wide."""
    spans = sorted(spans)
    best, where = at_least, None
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach >= best:
            best, where = start - reach, (start + reach) / 2
        reach = max(reach, end)
    return where
