"""PDF and other paged formats through PyMuPDF: count, split into sub-PDFs, extract text.

PyMuPDF opened by path reads only the parts of the file it needs, so neither the planner
nor a worker ever holds a whole document in memory. It is not thread-safe: parallelism is
by processes (or by Lambda invocations).
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import pymupdf

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.ocr import (
    OCR_OFF,
    OcrOptions,
    mostly_images,
    ocr_dpi,
    read_gray_image,
    readable,
)
from docproc.extract.open_documents import OpenDocuments
from docproc.extract.pages import PageRange, PageText, TablesMode
from docproc.extract.tables import Table, find_tables, may_hold_table, text_with_tables
from docproc.observability import logger

if TYPE_CHECKING:
    from docproc.extract.archive import Repacked

# What MuPDF raises on damaged input; all of it becomes InvalidDocument (not retried).
MUPDF_ERRORS = (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)
# A page's content inflated to look for marked content, at most (a text page's is ~10 KB).
_CONTENT_SCAN_LIMIT = 4 * 2**20
PageImages = Literal["none", "skipped", "read", "unknown"]

# MuPDF is not thread-safe, and rendering plus OCR is where two threads would overlap longest
# (Tesseract failed that way inside MuPDF). A Lambda process runs one invocation at a time and
# laptop workers are processes: the lock only ever waits in a threaded host (tests).
_OCR_LOCK = threading.Lock()

# MuPDF reports recoverable damage on stderr; route it to its warnings buffer instead.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)
# find_tables otherwise prints advice to stdout once, which would corrupt `docproc ... --json`.
pymupdf.no_recommend_layout()


def scanned_pages(path: Path, filetype: str = "pdf") -> list[bool]:
    """Per page, whether it looks scanned (see likely_scanned); a page whose resources
    cannot be read counts as text (its extraction will tell what it is)."""
    with open_document(path, filetype) as document:
        # Counted once: a damaged page tree can count differently after a failed lookup.
        count = int(document.page_count)
        if filetype == "cbz":
            return [True] * count  # a comic-book archive is one picture a page
        if filetype != "pdf":
            return [False] * count  # reflowable formats have text
        return [_likely_scanned_or_not(document, index) for index in range(count)]


def _likely_scanned_or_not(document: pymupdf.Document, index: int) -> bool:
    try:
        return likely_scanned(document, index)
    except MUPDF_ERRORS:
        return False


@contextmanager
def open_document(path: Path, filetype: str = "pdf") -> Iterator[pymupdf.Document]:
    """Open a paged document (pdf, epub, xps, cbz, fb2, mobi) for reading; a typed
    InvalidDocument if it cannot be read at all."""
    document = opened_document(path, filetype)
    try:
        yield document
    finally:
        document.close()


def opened_document(path: Path, filetype: str = "pdf") -> pymupdf.Document:
    """The document at ``path``, open and checked: the caller closes it."""
    try:
        document = pymupdf.open(path, filetype=filetype)
    except (pymupdf.FileDataError, *MUPDF_ERRORS) as exc:
        raise InvalidDocument(f"not a readable {filetype}: {type(exc).__name__}") from exc
    try:
        # A user password stops reading; an owner password alone (print/copy limits) does not.
        if document.needs_pass:
            raise EncryptedDocument("the PDF is encrypted with a user password")
        # Counting is where a broken page tree shows; checked once here for every caller.
        try:
            pages = document.page_count
        except MUPDF_ERRORS as exc:
            raise InvalidDocument(f"the page tree is broken: {type(exc).__name__}") from exc
        if pages < 1:
            raise InvalidDocument("the PDF has no pages")
    except Exception:
        document.close()
        raise
    return document


def count_pages(path: Path, filetype: str = "pdf") -> int:
    with open_document(path, filetype) as document:
        return int(document.page_count)


def split(
    source: Path, ranges: list[PageRange], out_dir: Path | None = None, filetype: str = "pdf"
) -> Iterator[tuple[int, Path]]:
    """Write one sub-PDF per range, yielding ``(index, path)``; the caller removes each file.

    One sub-PDF exists on disk at a time if the caller removes it before asking for the next,
    and memory holds one range's pages. Other paged formats (EPUB, XPS, CBZ, ...) are
    converted to PDF one range at a time.
    """
    with open_document(source, filetype) as document:
        for index, pages in enumerate(ranges):
            fd, name = tempfile.mkstemp(prefix=f"docproc-{index:05d}-", suffix=".pdf", dir=out_dir)
            os.close(fd)
            try:
                if filetype == "pdf":
                    _copy_pages(document, pages, name)
                else:
                    _convert_pages(document, pages, name)
            except MUPDF_ERRORS as exc:
                Path(name).unlink(missing_ok=True)
                raise InvalidDocument(
                    f"pages {pages.start}-{pages.end} cannot be copied: {type(exc).__name__}"
                ) from exc
            yield index, Path(name)


def _copy_pages(document: pymupdf.Document, pages: PageRange, name: str) -> None:
    part = pymupdf.open()
    try:
        part.insert_pdf(document, from_page=pages.start - 1, to_page=pages.end - 1)
        # Streams are copied as they are: deflate=True would also compress the ones the
        # original stored uncompressed (14.7 s instead of 0.9 s for 417 MB of such images),
        # for a sub-PDF that lives only until its segment is done.
        part.save(name, garbage=1)
    finally:
        part.close()


def _convert_pages(document: pymupdf.Document, pages: PageRange, name: str) -> None:
    """Pages of a non-PDF document drawn into a new PDF, as ``Document.convert_to_pdf`` does
    for a whole document. That one cannot start past the first page (PyMuPDF 1.28: "invalid
    page number") and returns the PDF as bytes, so a 190 MB comic book held 600 MB at once;
    a range at a time holds that range's images (JPEGs are copied, not re-encoded)."""
    mupdf = pymupdf.mupdf
    part = mupdf.PdfDocument()
    for number in range(pages.start - 1, pages.end):
        page = mupdf.fz_load_page(document.this, number)
        mediabox = mupdf.fz_bound_page(page)
        device, resources, contents = mupdf.pdf_page_write(part, mediabox)
        mupdf.fz_run_page(page, device, mupdf.FzMatrix(), mupdf.FzCookie())
        mupdf.fz_close_device(device)
        mupdf.pdf_insert_page(part, -1, mupdf.pdf_add_page(part, mediabox, 0, resources, contents))
    options = mupdf.PdfWriteOptions()
    options.do_compress = 1  # the pages' text drawing, written uncompressed by the device
    mupdf.pdf_save_document(part, name, options)


def extract_pages(
    path: Path,
    first_page_number: int,
    last_page_number: int,
    filetype: str = "pdf",
    ocr: OcrOptions = OCR_OFF,
    tables: TablesMode = "off",
    documents: OpenDocuments | None = None,
) -> Iterator[PageText]:
    """Text of each page of a (sub-)PDF, numbered in the original document; a scanned page
    is read by OCR as ``ocr`` says (auto: only pages without a real text layer that are
    mostly images, or whose text layer is unreadable); with ``tables`` on, a page's tables are
    in its text as Markdown tables (see docproc.extract.tables).

    ``path`` holds either exactly pages first..last (a sub-PDF) or the whole document, opened
    through ``documents`` when given (kept open for the next range of it until its last page
    is read).
    """
    opening = (
        documents.open(path, filetype) if documents is not None else open_document(path, filetype)
    )
    with opening as document:
        whole = document.page_count > last_page_number - first_page_number + 1
        # The table the previous page ended with: one opening this page may continue it.
        open_table: Table | None = None
        # Through it, each page's images leave MuPDF's store once the page is read.
        pdf = pymupdf.mupdf.PdfDocument(document.this) if document.is_pdf else None
        for number in range(first_page_number, last_page_number + 1):
            local_index = number - 1 if whole else number - first_page_number
            try:
                page = document[local_index]
                images = _images(pdf, local_index) if pdf is not None else "unknown"
                text = "" if ocr.mode == "force" else page_text(page, images == "skipped")
                if ocr.mode != "off" and _needs_ocr(page, text, ocr):
                    open_table = None
                    yield PageText(number=number, text=_ocr_text(page, ocr), method="ocr")
                    continue
                found = find_tables(page) if tables == "auto" and may_hold_table(text) else []
                if found:
                    text, open_table = text_with_tables(page, found, open_table)
                else:
                    open_table = None
                # Images in the store to drop: those the text loaded, or the tables, or OCR's
                # check, which looks at them only on a page without visible text (see
                # _needs_ocr); a page whose resources name no image or form has none.
                checked = ocr.mode != "off" and not text.strip()
                loaded = images == "read" or (images == "skipped" and (found or checked))
                if pdf is not None and (loaded or images == "unknown"):
                    _forget_images(document, pdf, local_index)
                yield PageText(number=number, text=text)
            except MUPDF_ERRORS as exc:
                raise InvalidDocument(
                    f"page {number} cannot be read: {type(exc).__name__}"
                ) from exc
        if documents is not None and (not whole or last_page_number == document.page_count):
            documents.close()  # nothing more of it will be read


def page_text(page: pymupdf.Page, without_images: bool) -> str:
    """What ``page.get_text("text")`` returns; read without loading the page's images when
    ``without_images`` (a PDF page where that cannot change the text: see _images).

    Reading a page's text runs its whole content stream, and MuPDF loads every image the page
    draws (its stream's bytes, into memory) though the text keeps none of them: on a 417 MB
    PDF of 1,009 JPEG pages that was 0.95-1.39 s of reading, against 0.12 s with the device's
    "do not decode images" hint, and 332 MB against 57 MB of memory, the same text.
    """
    if not without_images:
        return str(page.get_text("text"))
    # PyMuPDF's own Page.get_textpage (its Python path), with the hint: the page read
    # unrotated, on its bounds, with the flags of get_text("text").
    rotation = page.rotation
    if rotation:
        page.set_rotation(0)
    try:
        stext = pymupdf.mupdf.FzStextPage(pymupdf.mupdf.fz_bound_page(page.this))
        device = pymupdf.mupdf.fz_new_stext_device(
            stext, pymupdf.mupdf.FzStextOptions(pymupdf.TEXTFLAGS_TEXT)
        )
        pymupdf.mupdf.fz_enable_device_hints(device, pymupdf.mupdf.FZ_DONT_DECODE_IMAGES)
        pymupdf.mupdf.fz_run_page(
            page.this, device, pymupdf.mupdf.FzMatrix(), pymupdf.mupdf.FzCookie()
        )
        pymupdf.mupdf.fz_close_device(device)
    finally:
        if rotation:
            page.set_rotation(rotation)
    return str(pymupdf.TextPage(stext).extractText())


def _images(pdf: pymupdf.mupdf.PdfDocument, index: int) -> PageImages:
    """How page ``index``'s text is read: "none" (its resources name no image and no form),
    "skipped" (it names images, and reading without them cannot change the text: see
    _may_label_images), "read" (with them), or "unknown" (its objects cannot be read: read as
    get_text reads it, errors and all)."""
    try:
        page = pymupdf.mupdf.pdf_lookup_page_obj(pdf, index)
        resources = _own_resources(page)
        if not resources.images and not resources.forms:
            return "none"
        return "read" if _may_label_images(page, resources) else "skipped"
    except MUPDF_ERRORS:
        return "unknown"


def _may_label_images(page: pymupdf.mupdf.PdfObj, resources: _OwnResources) -> bool:
    """Whether ActualText could stand for one of the page's images: the one thing the text
    loads images for. Marked content that labels an image ("the firm's seal") is written
    where the image is, so MuPDF loads images for it (it skips them itself only when
    ActualText is ignored). A page can carry it only in marked content (BDC) of its own
    content, of a form it draws or of an annotation: a page with a form, an annotation, or
    "BDC" anywhere in its content is read with its images."""
    mupdf = pymupdf.mupdf
    if resources.forms or mupdf.pdf_array_len(mupdf.pdf_dict_get(page, mupdf.PDF_ENUM_NAME_Annots)):
        return True
    contents = mupdf.pdf_dict_get(page, mupdf.PDF_ENUM_NAME_Contents)
    streams = (
        [contents]
        if mupdf.pdf_is_stream(contents)
        else [mupdf.pdf_array_get(contents, item) for item in range(mupdf.pdf_array_len(contents))]
    )
    return any(_may_mark_content(stream) for stream in streams)


def _may_mark_content(stream: pymupdf.mupdf.PdfObj) -> bool:
    """Whether a content stream says "BDC", or might: one this cannot read cheaply (a filter
    other than Flate, a predictor, more than _CONTENT_SCAN_LIMIT, or broken) counts as saying
    it, and its page is read as before. Its bytes are decoded here with a bound (_decoded): a
    page whose content inflates to 1 GiB (tests/integration/test_hostile_input.py) is
    MuPDF's to refuse, not a gigabyte here."""
    content = _decoded(stream, _CONTENT_SCAN_LIMIT)
    return content is None or b"BDC" in content


def _forget_images(document: pymupdf.Document, pdf: pymupdf.mupdf.PdfDocument, index: int) -> None:
    """Drop from MuPDF's resource store the images page ``index`` drew.

    The store caches what drawing a page loads, up to 256 MB (MuPDF's default, fixed when
    PyMuPDF starts), and reading a page's text with its images, finding its tables or deciding
    on OCR loads every image the page draws: 50 pages of scans added ~40 MB to the worker
    reading them, and reading a 417 MB PDF of images took a process to 310 MB. The page's
    fonts stay: pages share them, and loading them again costs ~5 ms a page (emptying the
    whole store at every page made reading a text PDF 5x slower). An image a later page draws
    again (a letterhead) is read from the file again: bytes, not decoding."""
    try:
        images = document.get_page_images(index)
    except MUPDF_ERRORS:
        pymupdf.TOOLS.store_shrink(100)  # which images it drew is unknown: drop everything
        return
    for image in images:
        for xref in image[:2]:  # the image, and its soft mask (0: none)
            if xref > 0:
                pymupdf.mupdf.pdf_purge_object_from_store(pdf, xref)


def _needs_ocr(page: pymupdf.Page, text: str, ocr: OcrOptions) -> bool:
    if ocr.mode == "force":
        return True
    if readable(text):
        return False
    if text.strip():
        return True  # a text layer, but unreadable: what the page shows is the text
    images = [pymupdf.Rect(info["bbox"]) & page.rect for info in page.get_image_info(hashes=False)]
    return mostly_images(page.rect.get_area(), [rect.get_area() for rect in images])


def _ocr_text(page: pymupdf.Page, ocr: OcrOptions) -> str:
    """The page rendered in grayscale and read by Tesseract, whatever text layer it has."""
    dpi = ocr_dpi(ocr.dpi, page.rect.width, page.rect.height)
    with _OCR_LOCK:
        pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        pixels, width, height, stride = pixmap.samples, pixmap.width, pixmap.height, pixmap.stride
        del pixmap
        # MuPDF keeps what it decoded to render the page (the scan, at full size) in its
        # resource store, up to 256 MB: emptied after each OCR'd page, or a segment of scans
        # grows by each page's image.
        pymupdf.TOOLS.store_shrink(100)
        return read_gray_image(pixels, width, height, stride, dpi, ocr)


def likely_scanned(document: pymupdf.Document, index: int) -> bool:
    """A cheap guess from the page's resources (no content parsing), for sizing segments:
    images and no fonts. Extraction decides for real. A page that draws forms is asked of
    PyMuPDF, which looks through them too; the others are read in a few dictionary lookups
    (PyMuPDF's two calls cost ~110 us a page, a tenth of a second on 1,000 pages)."""
    pdf = pymupdf.mupdf.PdfDocument(document.this)
    resources = _own_resources(pymupdf.mupdf.pdf_lookup_page_obj(pdf, index))
    if resources.forms:
        return bool(document.get_page_images(index)) and not document.get_page_fonts(index)
    return resources.images > 0 and not resources.fonts


@dataclass(frozen=True)
class _OwnResources:
    """What a page's resources name (its own or inherited from the page tree, not those of
    the forms it draws)."""

    images: int
    forms: int
    fonts: int


def _own_resources(page: pymupdf.mupdf.PdfObj) -> _OwnResources:
    mupdf = pymupdf.mupdf
    resources = mupdf.pdf_dict_get_inheritable(page, mupdf.PDF_ENUM_NAME_Resources)
    xobjects = mupdf.pdf_dict_get(resources, mupdf.PDF_ENUM_NAME_XObject)
    images = forms = 0
    for position in range(mupdf.pdf_dict_len(xobjects)):
        xobject = mupdf.pdf_dict_get_val(xobjects, position)
        subtype = mupdf.pdf_dict_get(xobject, mupdf.PDF_ENUM_NAME_Subtype)
        if mupdf.pdf_name_eq(subtype, mupdf.PDF_ENUM_NAME_Image):
            images += 1
        elif mupdf.pdf_name_eq(subtype, mupdf.PDF_ENUM_NAME_Form):
            forms += 1
    fonts = mupdf.pdf_dict_len(mupdf.pdf_dict_get(resources, mupdf.PDF_ENUM_NAME_Font))
    return _OwnResources(images=images, forms=forms, fonts=fonts)


# Files attached to a PDF (a portfolio's documents, exhibits attached to a brief): the most
# one may hold, decoded (Plan holds each whole while it writes it out, in its 1 GB), and the
# most they may hold together (the room Plan has for the ZIP they are written to).
ATTACHED_FILE_LIMIT = 256 * 2**20


@dataclass(frozen=True)
class AttachedFile:
    """A file attached to a PDF: its name as the PDF gives it, and its stream's object."""

    name: str
    xref: int


def attached_files(document: pymupdf.Document) -> list[AttachedFile]:
    """The files attached to the PDF ``document``: those its EmbeddedFiles name tree lists
    (its Kids too, which PyMuPDF's own embfile_* functions do not read), then those file
    attachment annotations carry, page by page; each once. Damage in the tree or a page's
    annotations leaves out what it hides, not the rest."""
    mupdf = pymupdf.mupdf
    pdf = mupdf.PdfDocument(document.this)
    specifications: list[tuple[object, str]] = []
    try:
        tree = mupdf.pdf_load_name_tree(pdf, mupdf.pdf_new_name("EmbeddedFiles"))
        for item in range(mupdf.pdf_dict_len(tree)):
            key = mupdf.pdf_to_name(mupdf.pdf_dict_get_key(tree, item))
            specifications.append((mupdf.pdf_dict_get_val(tree, item), key))
    except MUPDF_ERRORS as exc:
        logger.warning(
            "a PDF's list of attached files cannot be read", extra={"error": type(exc).__name__}
        )
    attachment = mupdf.pdf_new_name("FileAttachment")
    for index in range(document.page_count):
        try:
            annotations = mupdf.pdf_dict_get(
                mupdf.pdf_lookup_page_obj(pdf, index), mupdf.PDF_ENUM_NAME_Annots
            )
            for item in range(mupdf.pdf_array_len(annotations)):
                annotation = mupdf.pdf_array_get(annotations, item)
                subtype = mupdf.pdf_dict_get(annotation, mupdf.PDF_ENUM_NAME_Subtype)
                if mupdf.pdf_name_eq(subtype, attachment):
                    specification = mupdf.pdf_dict_get(annotation, mupdf.PDF_ENUM_NAME_FS)
                    specifications.append((specification, ""))
        except MUPDF_ERRORS as exc:
            logger.warning(
                "a page's annotations cannot be read", extra={"error": type(exc).__name__}
            )
    found: dict[int, AttachedFile] = {}
    for specification, key in specifications:
        try:
            files = mupdf.pdf_dict_get(specification, mupdf.PDF_ENUM_NAME_EF)
            stream = mupdf.pdf_dict_get(files, mupdf.PDF_ENUM_NAME_F)
            if not mupdf.pdf_is_stream(stream):  # (PDF 2.0 may name it by UF alone)
                stream = mupdf.pdf_dict_get(files, mupdf.pdf_new_name("UF"))
            if not mupdf.pdf_is_stream(stream) or mupdf.pdf_to_num(stream) in found:
                continue
            names = [
                mupdf.pdf_to_text_string(mupdf.pdf_dict_get(specification, mupdf.pdf_new_name(n)))
                for n in ("UF", "F")
            ]
            name = next((n for n in [*names, key] if n.strip()), "attachment")
            found[mupdf.pdf_to_num(stream)] = AttachedFile(name, mupdf.pdf_to_num(stream))
        except MUPDF_ERRORS as exc:
            logger.warning("an attached file cannot be read", extra={"error": type(exc).__name__})
    return list(found.values())


def attached_bytes(document: pymupdf.Document, attached: AttachedFile, limit: int) -> bytes | None:
    """The bytes of a file attached to ``document``, decoded here with a bound: None (and a
    warning) for one over ``limit`` bytes (stored or decoded: a bomb too), damaged, or stored
    in a filter other than Flate (rare for files: MuPDF would decode it whole, unbounded)."""
    mupdf = pymupdf.mupdf
    try:
        stream = mupdf.pdf_new_indirect(mupdf.PdfDocument(document.this), attached.xref, 0)
        if mupdf.pdf_dict_get_int(stream, mupdf.PDF_ENUM_NAME_Length) > limit:
            reason = "larger than docproc reads"
        else:
            data = _decoded(stream, limit)
            if data is not None:
                return data
            reason = "larger than docproc reads, or in a filter it does not decode"
    except MUPDF_ERRORS as exc:
        reason = f"damaged: {type(exc).__name__}"
    logger.warning("a file attached to the PDF is not read", extra={"reason": reason})
    return None


def repack_attached(
    document: pymupdf.Document, attached: list[AttachedFile], target: IO[bytes], limit: int
) -> Repacked:
    """Write the files ``attached`` to ``document`` (attached_files) to ``target`` as a
    stored ZIP, each named as the PDF names it (made safe and unique), until ``limit`` bytes
    are written (the rest logged and left out)."""
    from docproc.extract.archive import Repacked, safe_name, unique_name

    written, size, taken = 0, 0, set[str]()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zipped:
        for each in attached:
            data = attached_bytes(document, each, min(ATTACHED_FILE_LIMIT, limit - size))
            if data is None:
                continue
            name = unique_name(safe_name(each.name) or "attachment", taken)
            zipped.writestr(zipfile.ZipInfo(name), data)
            written, size = written + 1, size + len(data)
    return Repacked(files=written, size=target.tell())


def _decoded(stream: pymupdf.mupdf.PdfObj, limit: int) -> bytes | None:
    """A stream's bytes as stored (decrypted, not decoded), decoded here where they are not
    filtered or Flate without a predictor, at most ``limit`` of them: None where they are
    over it, damaged, or in another filter (which MuPDF would decode whole)."""
    mupdf = pymupdf.mupdf
    filters = mupdf.pdf_dict_get(stream, mupdf.PDF_ENUM_NAME_Filter)
    if mupdf.pdf_is_array(filters) and mupdf.pdf_array_len(filters) == 1:
        filters = mupdf.pdf_array_get(filters, 0)
    flate = mupdf.pdf_name_eq(filters, mupdf.PDF_ENUM_NAME_FlateDecode) or mupdf.pdf_name_eq(
        filters, mupdf.PDF_ENUM_NAME_Fl
    )
    if not mupdf.pdf_is_null(filters) and (
        not flate
        or not mupdf.pdf_is_null(mupdf.pdf_dict_get(stream, mupdf.PDF_ENUM_NAME_DecodeParms))
    ):
        return None
    stored = mupdf.fz_buffer_extract_copy(mupdf.pdf_load_raw_stream(stream))
    if mupdf.pdf_is_null(filters):
        return stored if len(stored) <= limit else None
    inflate = zlib.decompressobj()
    try:
        decoded = inflate.decompress(stored, limit)
    except zlib.error:
        return None
    return None if inflate.unconsumed_tail else decoded
