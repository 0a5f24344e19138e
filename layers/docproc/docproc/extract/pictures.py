"""Pictures (TIFF, JPEG, PNG, GIF, BMP, WebP, JPEG 2000, HEIC): scans and photographs of pages
whose text is read by OCR.

A picture is one page, except a TIFF, whose frames are pages: a fax, a scanner's batch, a
production volume. Its pages are segmented as a scanned PDF's are and each is read by
Tesseract, as a scanned PDF page is.

Read with Pillow, one frame at a time from the file: a TIFF's next frame is found through its
directories (a few hundred bytes each), and libtiff decodes that frame's strips from the file
(given a file on disk: from any other file object Pillow reads the whole file first). MuPDF
opens pictures too, but reads the whole file into memory before the first page (a 133 MB TIFF
took its process to 193 MB), and decodes a PNG or a TIFF at its full size to draw it at any
size (a 1 MB PNG of 30,000 x 30,000 white pixels took 1.8 GB to render small).
"""

from __future__ import annotations

import functools
import math
import os
import struct
import tempfile
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, TiffImagePlugin

from docproc.errors import InvalidDocument
from docproc.extract.ocr import MAX_OCR_PIXELS, OcrOptions, read_gray_image
from docproc.extract.pages import PageRange, PageText

# Pillow's format names for the pictures sniff detects; nothing else is opened as one (HEIF:
# pillow-heif's, registered before the first picture is opened).
FORMATS = ("TIFF", "JPEG", "PNG", "GIF", "BMP", "WEBP", "JPEG2000", "HEIF")
# A frame larger than this is refused, unread: Pillow's own bound against decompression bombs
# (89 megapixels: a 36 x 48 inch drawing scanned at 230 dpi). Decoded, it is up to 4 bytes
# a pixel (CMYK) before its grayscale copy.
MAX_PICTURE_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
# What Pillow raises on a damaged or truncated picture (SyntaxError: a TIFF's directory that
# does not parse; struct.error: one cut short; zlib.error: a PNG's data).
_PILLOW_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    Image.DecompressionBombError,
)
# Resolutions a scan may plausibly state; outside them (a phone photo's 72, none at all) the
# picture is taken for a page whose longer side is 11 inches.
_CREDIBLE_DPI = (100, 1200)
_PAGE_INCHES = 11
# Tesseract takes less as no resolution at all.
_MIN_DPI = 70

# A signature's logo or an icon, not a page: an e-mail's pictures smaller are named only.
MIN_ATTACHED_PICTURE_PIXELS = 250_000

Reserve = Callable[[float, str], None]
Source = Path | IO[bytes]


def count_pages(source: Source) -> int:
    """The picture's pages: a TIFF's frames, else 1."""
    with _opened(source) as picture:
        return _frames(picture)


def pages_text(
    source: Source,
    first: int,
    last: int,
    ocr: OcrOptions,
    reserve: Reserve | None = None,
    min_pixels: int = 0,
    first_frame: int | None = None,
) -> Iterator[PageText]:
    """Pages ``first..last`` (1-based) of the picture ``source`` (a file's path: a file object
    is read whole by libtiff), each read by OCR (none with OCR off: a picture has no text of
    its own). Page ``first`` is frame ``first_frame`` (0-based): by default ``first - 1``, the
    whole picture; 0 for a segment's own TIFF (see split). A frame of fewer than
    ``min_pixels`` pixels is taken for no page and left unread. ``reserve(megabytes, what)``
    is asked before each frame is decoded (SegmentBudget.reserve)."""
    frame_offset = (first - 1 if first_frame is None else first_frame) - first
    if ocr.mode == "off":
        yield from (PageText(number=number, text="") for number in range(first, last + 1))
        return
    with _opened(source) as picture:
        for number in range(first, last + 1):
            try:
                picture.seek(number + frame_offset)
                small = picture.size[0] * picture.size[1] < min_pixels
                text = "" if small else _frame_text(picture, number, ocr, reserve)
            except EOFError as exc:
                raise InvalidDocument(f"the picture has no page {number}") from exc
            except _PILLOW_ERRORS as exc:
                raise InvalidDocument(
                    f"page {number} cannot be read: {type(exc).__name__}"
                ) from exc
            yield PageText(number=number, text=text, method="ocr")


def split(
    source: Path, ranges: Sequence[PageRange], out_dir: Path | None = None
) -> Iterator[tuple[int, Path]]:
    """Write each range's frames to a TIFF of its own, yielding ``(index, path)``; the caller
    removes each. For segments that cannot read the upload in place (from S3 each would
    download all of it). Each frame is decoded and written again, one at a time, as it was
    (black and white in CCITT group 4, the rest deflated: both lossless) with its resolution,
    so OCR reads the same pixels."""
    with _opened(source) as picture:
        for index, pages in enumerate(ranges):
            fd, name = tempfile.mkstemp(prefix=f"docproc-{index:05d}-", suffix=".tif", dir=out_dir)
            os.close(fd)
            try:
                with TiffImagePlugin.AppendingTiffWriter(name, new=True) as part:
                    for number in range(pages.start, pages.end + 1):
                        picture.seek(number - 1)
                        _checked_size(picture, number)
                        _write_frame(picture, part)
                        part.newFrame()
            except BaseException as exc:
                Path(name).unlink(missing_ok=True)
                if isinstance(exc, _PILLOW_ERRORS):
                    raise InvalidDocument(
                        f"pages {pages.start}-{pages.end} cannot be copied: {type(exc).__name__}"
                    ) from exc
                raise
            yield index, Path(name)


def _write_frame(picture: Image.Image, part: TiffImagePlugin.AppendingTiffWriter) -> None:
    upright = ImageOps.exif_transpose(picture)
    options: dict[str, object] = {
        "compression": "group4" if upright.mode == "1" else "tiff_adobe_deflate"
    }
    if "dpi" in picture.info:
        options["dpi"] = picture.info["dpi"]
    upright.save(part, format="TIFF", **options)


@functools.cache
def _register_heif() -> None:
    """pillow-heif's opener for HEIF (libheif, libde265): imported in the processes that read
    pictures, once (~35 ms)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


@contextmanager
def _opened(source: Source) -> Iterator[Image.Image]:
    _register_heif()
    try:
        with warnings.catch_warnings():
            # Pillow warns of a picture over its bound and raises only over twice that.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(source, formats=FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidDocument(
            f"a picture of more than {MAX_PICTURE_PIXELS // 10**6} megapixels"
        ) from exc
    except _PILLOW_ERRORS as exc:
        raise InvalidDocument(f"not a readable picture: {type(exc).__name__}") from exc
    with picture:
        yield picture


def _frames(picture: Image.Image) -> int:
    if picture.format != "TIFF":
        return 1  # an animation's frames (GIF, WebP, APNG) are not pages
    try:
        return int(getattr(picture, "n_frames", 1))
    except _PILLOW_ERRORS as exc:
        raise InvalidDocument(f"the TIFF's pages cannot be counted: {type(exc).__name__}") from exc


def _checked_size(picture: Image.Image, number: int) -> tuple[int, int]:
    """The frame's size, unless it is over MAX_PICTURE_PIXELS: then a typed refusal (known
    from its header: nothing decoded)."""
    width, height = picture.size
    if width * height > MAX_PICTURE_PIXELS:
        raise InvalidDocument(
            f"page {number} is a picture of {width * height // 10**6} megapixels, more than "
            f"the {MAX_PICTURE_PIXELS // 10**6} read"
        )
    return width, height


def _frame_text(picture: Image.Image, number: int, ocr: OcrOptions, reserve: Reserve | None) -> str:
    width, height = _checked_size(picture, number)
    stated_dpi = _stated_dpi(picture)
    # Shrunk to what OCR reads at most: a JPEG is decoded at the nearest larger scale
    # (draft); other formats are decoded whole, then reduced.
    shrink = math.ceil(math.sqrt(width * height / MAX_OCR_PIXELS))
    if shrink > 1 and picture.format == "JPEG":
        picture.draft("L", (width // shrink, height // shrink))
    if reserve is not None:
        decoded_mb = picture.size[0] * picture.size[1] * len(picture.getbands()) / 2**20
        # The frame, its grayscale copy, and the reduced one.
        reserve(decoded_mb * 2, f"a picture of {width * height / 10**6:.0f} megapixels")
    gray = ImageOps.exif_transpose(picture).convert("L")
    shrink = math.ceil(math.sqrt(gray.width * gray.height / MAX_OCR_PIXELS))
    if shrink > 1:
        gray = gray.reduce(shrink)
    longer_side = max(gray.size)
    dpi = (
        stated_dpi * longer_side / max(width, height)
        if stated_dpi
        else longer_side / _PAGE_INCHES  # a page, as scans are
    )
    return read_gray_image(
        gray.tobytes(), gray.width, gray.height, gray.width, max(_MIN_DPI, round(dpi)), ocr
    )


def _stated_dpi(picture: Image.Image) -> float | None:
    """The resolution the picture states, if it is one a scan has (not a phone photo's 72)."""
    stated = picture.info.get("dpi")
    if stated is None:
        return None
    try:
        dpi = float(stated[1] if isinstance(stated, tuple) else stated)
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if _CREDIBLE_DPI[0] <= dpi <= _CREDIBLE_DPI[1] else None
