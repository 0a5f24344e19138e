"""OCR of scanned pages: which pages need it, where Tesseract's language data is, and the
Tesseract that reads them. Light to import (no MuPDF, no Tesseract until a page needs it):
settings validate the languages at start-up.

Tesseract comes from tesserocr's wheels (libtesseract and Leptonica inside). PyMuPDF's wheels
carry a Tesseract too, but read the same test set with the same errors in 2-3x the time
(README: Scanned pages). Its trained data is separate: PyPI ships it as
``tessdata.fast-<lang>`` packages, which install ``share/tessdata/<lang>.traineddata`` under
the environment (a venv's prefix, or the folder ``pip install --target`` fills: the Lambda
image's task root).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from docproc.errors import ConfigurationError

if TYPE_CHECKING:
    import tesserocr

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


def tessdata_folders() -> list[Path]:
    """Where trained data may be, in the order searched."""
    candidates = []
    if os.environ.get("TESSDATA_PREFIX"):
        candidates.append(Path(os.environ["TESSDATA_PREFIX"]))
    # A venv's prefix; then each import root (pip --target puts share/ beside the packages).
    candidates.append(Path(sys.prefix) / "share" / "tessdata")
    candidates.extend(Path(entry) / "share" / "tessdata" for entry in sys.path if entry)
    return list(dict.fromkeys(candidates))


def tessdata_folder(languages: str, explicit: Path | None = None) -> Path:
    """``explicit`` (OCR_TESSDATA) if given, else the first folder holding every language's
    ``.traineddata``."""
    codes = language_codes(languages)
    folders = [explicit] if explicit is not None else tessdata_folders()
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
    visible = "".join(text.split())  # split() drops what str.isspace() calls whitespace
    if not visible:
        return False
    if "\ufffd" not in visible and visible.isprintable():
        return True  # every page with a real text layer: no character by character count
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


# One Tesseract per thread and language set (its API object is not thread-safe), kept for the
# process's life: loading a model takes ~0.1 s, reading a page ~1 s.
_readers = threading.local()


def read_gray_image(
    pixels: bytes, width: int, height: int, stride: int, dpi: int, ocr: OcrOptions
) -> str:
    """Tesseract's text of an 8-bit grayscale image, in its reading order (its page layout
    analysis finds columns and blocks)."""
    tessdata = ocr.tessdata or tessdata_folder(ocr.languages)
    api = _reader(str(tessdata), ocr.languages)
    api.SetImageBytes(pixels, width, height, 1, stride)
    api.SetSourceResolution(dpi)
    try:
        return str(api.GetUTF8Text())
    finally:
        api.Clear()  # the page's image and results; the model stays


def _reader(tessdata: str, languages: str) -> tesserocr.PyTessBaseAPI:
    import tesserocr

    readers: dict[tuple[str, str], tesserocr.PyTessBaseAPI] = _readers.__dict__.setdefault(
        "by_languages", {}
    )
    key = (tessdata, languages)
    if key not in readers:
        readers[key] = tesserocr.PyTessBaseAPI(
            path=tessdata, lang=languages, psm=tesserocr.PSM.AUTO
        )
    return readers[key]
