"""Pictures read by OCR, a frame at a time: every format sniff names, TIFF pages, orientation,
and refusals before decoding."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract import pictures
from docproc.extract.ocr import MAX_OCR_PIXELS, OcrOptions, tessdata_folder
from docproc.extract.pages import PageRange
from docproc.extract.sniff import PICTURE_TYPES, sniff
from tests.damage import damaged_copies, outcomes
from tests.documents import page_picture, scanned_tiff, white_png
from tests.fakes import RefusingBudget

OCR = OcrOptions("auto", "eng", 200, tessdata_folder("eng"))


def _words(text: str) -> str:
    return " ".join(text.split())


def _pages(path: Path, first: int, last: int, **options) -> list[str]:
    return [_words(page.text) for page in pictures.pages_text(path, first, last, OCR, **options)]


@pytest.mark.parametrize(
    ("name", "save"),
    [
        ("page.png", {"format": "PNG"}),
        ("page.jpg", {"format": "JPEG", "quality": 90}),
        ("page.gif", {"format": "GIF"}),
        ("page.bmp", {"format": "BMP"}),
        ("page.webp", {"format": "WEBP", "quality": 90}),
        ("page.jp2", {"format": "JPEG2000"}),
        ("page.tif", {"format": "TIFF", "compression": "tiff_lzw"}),
        ("big.tif", {"format": "TIFF", "compression": "tiff_adobe_deflate", "big_tiff": True}),
    ],
)
def test_each_picture_format_is_sniffed_and_read_by_ocr(tmp_path: Path, name: str, save: dict):
    # Given a scan of a line, saved in one of the formats
    path = tmp_path / name
    page_picture(["Invoice INV-4417 paid in full"], mode="L").save(path, **save)
    # When it is sniffed (content only: no name) and read
    media_type = sniff(path.read_bytes()[:8192]).media_type
    # Then it is a picture of one page, whose text is the line
    assert media_type in PICTURE_TYPES
    assert pictures.count_pages(path) == 1
    assert _pages(path, 1, 1) == ["Invoice INV-4417 paid in full"]


def test_a_tiff_s_frames_are_its_pages_read_in_any_range(tmp_path: Path):
    # Given a black-and-white TIFF of 5 pages (CCITT group 4, as faxes and productions are)
    lines = [f"Production page {n} Bates ACME-{n:06d}" for n in range(1, 6)]
    path = scanned_tiff(tmp_path / "volume.tif", [[line] for line in lines])
    # When its pages are counted, and ranges of them read
    # Then each page is its frame, numbered in the file
    assert pictures.count_pages(path) == 5
    assert _pages(path, 1, 5) == lines
    assert _pages(path, 4, 5) == lines[3:]
    read = list(pictures.pages_text(path, 3, 3, OCR))
    assert [(page.number, page.method) for page in read] == [(3, "ocr")]


def test_split_writes_each_range_s_frames_as_they_were(tmp_path: Path):
    # Given a 7-page TIFF: black-and-white pages and a gray one, at 200 dpi, deflated
    path = tmp_path / "volume.tif"
    frames = [page_picture([f"Page {n}"], mode="L" if n == 5 else "1") for n in range(1, 8)]
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        compression="tiff_adobe_deflate",
        dpi=(200, 200),
    )
    # When it is split into ranges
    parts = list(
        pictures.split(path, [PageRange(1, 3), PageRange(4, 6), PageRange(7, 7)], tmp_path)
    )
    # Then each part holds its range's frames, pixel for pixel, at their resolution
    assert [index for index, _ in parts] == [0, 1, 2]
    copied = []
    for _, part in parts:
        with Image.open(part) as picture:
            for frame in range(picture.n_frames):
                picture.seek(frame)
                assert picture.info["dpi"] == (200, 200)
                copied.append((picture.mode, picture.tobytes()))
    assert copied == [(frame.mode, frame.tobytes()) for frame in frames]
    # And a part's pages are read numbered as in the whole
    (_, middle) = parts[1]
    read = list(pictures.pages_text(middle, 4, 6, OCR, first_frame=0))
    assert [(page.number, _words(page.text)) for page in read] == [
        (4, "Page 4"),
        (5, "Page 5"),
        (6, "Page 6"),
    ]


def test_a_page_past_the_last_frame_is_a_typed_error(tmp_path: Path):
    path = scanned_tiff(tmp_path / "two.tif", [["One"], ["Two"]])
    with pytest.raises(InvalidDocument):
        _pages(path, 2, 3)


def test_a_photo_is_read_the_way_its_camera_says_it_is_turned(tmp_path: Path):
    # Given a phone photo of a page, stored sideways with EXIF orientation 6 ("turn it a
    # quarter clockwise to show it"), as phones save a photo taken in portrait
    upright = page_picture(["Receipt 55120 total 418.20"], mode="RGB", dpi=200)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    upright.rotate(90, expand=True).save(path, quality=92, exif=exif)
    # When it is read
    # Then its text is read upright
    assert _pages(path, 1, 1) == ["Receipt 55120 total 418.20"]


def test_a_picture_of_too_many_pixels_is_refused_before_it_is_decoded(tmp_path: Path):
    # Given a 1 MB PNG of 30,000 x 30,000 white pixels (900 MB decoded)
    path = tmp_path / "bomb.png"
    path.write_bytes(white_png(30_000, 30_000))
    # When it is counted or read, Then it is refused, typed
    with pytest.raises(InvalidDocument, match="megapixels"):
        pictures.count_pages(path)
    with pytest.raises(InvalidDocument, match="megapixels"):
        _pages(path, 1, 1)


def test_every_frame_is_held_to_the_pixel_bound(tmp_path: Path, monkeypatch):
    # Given a TIFF whose second frame is larger than the bound (lowered here: Pillow checks
    # only a file's first frame as it opens it)
    path = tmp_path / "two.tif"
    small, large = page_picture(["First page"]), page_picture(["Second"], dpi=300)
    small.save(path, save_all=True, append_images=[large], compression="group4")
    monkeypatch.setattr(pictures, "MAX_PICTURE_PIXELS", small.width * small.height)
    # When both pages are read, Then the first is, and the second is refused
    read = pictures.pages_text(path, 1, 2, OCR)
    assert _words(next(read).text) == "First page"
    with pytest.raises(InvalidDocument, match="page 2 is a picture"):
        next(read)


def test_the_segment_s_memory_is_reserved_before_a_frame_is_decoded(tmp_path: Path):
    # Given a gray page and a budget that asks what each frame will need
    path = tmp_path / "page.png"
    picture = page_picture(["Held"], mode="L", dpi=300)
    picture.save(path)
    budget = RefusingBudget()
    # When it is read, Then the budget was asked for the frame and its copy, and refused it
    with pytest.raises(SegmentBudgetExceeded):
        _pages(path, 1, 1, reserve=budget)
    ((megabytes, reading),) = budget.asked
    assert megabytes == pytest.approx(2 * picture.width * picture.height / 2**20)
    assert "megapixels" in reading


def test_a_large_jpeg_is_decoded_at_a_smaller_scale(tmp_path: Path):
    # Given a 48-megapixel colour JPEG (a camera's), 137 MB decoded at its full size
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (8000, 6000), "white").save(path, quality=80)
    asked: list[float] = []
    # When it is read
    _pages(path, 1, 1, reserve=lambda megabytes, _: asked.append(megabytes))
    # Then what it was decoded at fits OCR's bound, in grayscale: MAX_OCR_PIXELS, one byte
    # each, twice over (red when decoded whole: 275 MB)
    (megabytes,) = asked
    assert megabytes <= 2 * MAX_OCR_PIXELS / 2**20


def test_an_attached_logo_is_not_a_page(tmp_path: Path):
    # Given a TIFF of a page and a logo-sized frame
    path = tmp_path / "mixed.tif"
    page = page_picture(["Signed and dated"], dpi=200)
    logo = page_picture(["ACME"], width=100, height=40, dpi=150)
    page.save(path, save_all=True, append_images=[logo], compression="group4")
    # When read with the e-mail's lower bound, Then the logo is left unread
    assert _pages(path, 1, 2, min_pixels=pictures.MIN_ATTACHED_PICTURE_PIXELS) == [
        "Signed and dated",
        "",
    ]


def test_with_ocr_off_a_picture_is_pages_without_text(tmp_path: Path):
    path = scanned_tiff(tmp_path / "a.tif", [["One"], ["Two"]])
    off = OcrOptions(mode="off")
    assert [page.text for page in pictures.pages_text(path, 1, 2, off)] == ["", ""]


def test_damaged_pictures_give_text_or_a_typed_error(tmp_path: Path):
    # Given small pictures of each kind, and random damage to their bytes
    sources = []
    for save in (
        {"format": "TIFF", "compression": "group4"},
        {"format": "PNG"},
        {"format": "JPEG"},
    ):
        out = io.BytesIO()
        page_picture(["Damaged"], mode="1" if save["format"] == "TIFF" else "L").save(out, **save)
        sources.append(out.getvalue())
    path = tmp_path / "damaged"

    def read(data: bytes) -> None:
        path.write_bytes(data)
        list(pictures.pages_text(path, 1, pictures.count_pages(path), OCR))

    # When each is counted and read
    counts = outcomes(
        read, damaged_copies(sources, 300, seed=11, cut_share=0.2), (InvalidDocument,)
    )
    # Then every one gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts
