"""A PDF page's text is read without loading its images only where that cannot change it."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from docproc.extract.pdf import _images, extract_pages, page_text

SEAL = "Seal of the Court of Appeal"


def _jpeg(side: int = 64) -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, side, side, bytes(side * side * 3), False)
    return bytes(pixmap.tobytes("jpeg", jpg_quality=90))


def _pdf_with_images(path: Path, labelled: bool = False, rotated: bool = False) -> Path:
    """Three pages, each an image and a line of text; with ``labelled``, the second page's
    image is wrapped in marked content whose ActualText names it (as an accessible PDF says
    what a seal or a signature is)."""
    document = pymupdf.open()
    image = _jpeg()
    for number in range(1, 4):
        page = document.new_page()
        page.insert_image(pymupdf.Rect(72, 300, 328, 556), stream=image)
        page.insert_text((72, 100), f"Exhibit {number}: the lease signed on the first day.")
        if rotated and number == 3:
            page.set_rotation(90)
    if labelled:
        page = document[1]
        xref = page.get_contents()[0]
        name = document.get_page_images(1)[0][7].encode()
        content = document.xref_stream(xref)
        labelled_draw = b"/Span <</ActualText (" + SEAL.encode() + b")>> BDC /" + name + b" Do EMC"
        document.update_stream(xref, content.replace(b"/" + name + b" Do", labelled_draw))
    document.save(path)
    return path


def test_a_page_read_without_its_images_has_the_same_text_and_never_loads_them(tmp_path):
    # Given pages that draw a JPEG image, one of them rotated, and whose image MuPDF cannot
    # load (its dictionary says it is 0 pixels wide: loading it warns)
    document = pymupdf.open(_pdf_with_images(tmp_path / "images.pdf", rotated=True))
    for index in range(document.page_count):
        document.xref_set_key(document.get_page_images(index)[0][0], "Width", "0")
    for index in range(document.page_count):
        page = document[index]
        assert _images(pymupdf.mupdf.PdfDocument(document.this), index) == "skipped"
        pymupdf.TOOLS.reset_mupdf_warnings()
        # When its text is read without the images
        text = page_text(page, without_images=True)
        # Then the image was never loaded, and the text is what get_text returns (which
        # loads it, and warns)
        assert "width" not in pymupdf.TOOLS.mupdf_warnings()
        assert text == page.get_text("text") and f"Exhibit {index + 1}" in text
        assert "width" in pymupdf.TOOLS.mupdf_warnings()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "owner-password"])
def test_an_image_labelled_by_actual_text_keeps_its_label(tmp_path, encrypted):
    # Given a page whose image is marked with ActualText; or the same PDF encrypted with an
    # owner password only (it opens without one, its streams are stored encrypted)
    path = _pdf_with_images(tmp_path / "labelled.pdf", labelled=True)
    if encrypted:
        pymupdf.open(path).save(
            tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner"
        )
        path = tmp_path / "locked.pdf"
    document = pymupdf.open(path)
    assert not document.needs_pass and bool(document.metadata["encryption"]) == encrypted
    assert SEAL in document[1].get_text("text")
    # Then that page is read with its images, the others without
    pdf = pymupdf.mupdf.PdfDocument(document.this)
    assert [_images(pdf, index) for index in range(3)] == ["skipped", "read", "skipped"]
    # And extraction keeps the label, as get_text does
    texts = [page.text for page in extract_pages(path, 1, 3)]
    assert texts == [document[index].get_text("text") for index in range(3)]
    assert SEAL in texts[1]


@pytest.mark.parametrize("what", ["form", "annotation"])
def test_a_page_with_a_form_or_an_annotation_is_read_with_its_images(tmp_path, what):
    # Given a page that draws another page as a form, or carries an annotation (either can hold
    # marked content of its own)
    path = _pdf_with_images(tmp_path / "images.pdf")
    document = pymupdf.open(path)
    page = document[0]
    if what == "form":
        page.show_pdf_page(pymupdf.Rect(0, 0, 100, 100), pymupdf.open(path), 1)
    else:
        page.add_text_annot((50, 50), "checked")
    # Then it is read with them
    assert _images(pymupdf.mupdf.PdfDocument(document.this), 0) == "read"
