"""Presentations (PPTX, PPTM, PPSX, POTX) through python-pptx: each slide is a page.

A slide's text is its title, then its shapes from top to bottom and left to right (the order in
the file is the order they were drawn in, not read in): text boxes and placeholders, tables and
charts' figures as Markdown tables, SmartArt's text, pictures' descriptions (alt text), groups'
shapes in the same order; then its speaker notes. Hidden slides are read too: what an audience
was not shown is still in the file.

python-pptx opens a copy of the package without its media (docproc.extract.packages), and parses
every slide's XML when it does: where the segment has a memory budget, a package whose XML would
not fit is refused before it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from pptx.exc import PythonPptxError
from pptx.package import Package
from pptx.parts.presentation import PresentationPart
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape
from pptx.shapes.picture import Picture
from pptx.slide import Slide

from docproc.errors import InvalidDocument
from docproc.extract.charts import chart_table
from docproc.extract.diagrams import diagram_text
from docproc.extract.included import Allowance, IncludedParts
from docproc.extract.packages import PACKAGE_ERRORS, opened_package, without_blobs
from docproc.extract.pages import PageText, markdown_grid

EXTRACTION_METHOD = "python-pptx"
# Peak memory of reading a presentation per byte of its XML, with a margin (measured: 361 MB
# over the interpreter and python-pptx for a deck of 3,000 slides, 33.7 MB of XML, 6.4 MB of
# text: python-pptx parses every part when it opens the package).
XML_MEMORY_FACTOR = 12
# What python-pptx raises on a damaged package, beside what any package's reader may.
_PPTX_ERRORS: tuple[type[Exception], ...] = (
    PythonPptxError,
    TypeError,
    IndexError,
    AttributeError,
    *PACKAGE_ERRORS,
)
# A macro-enabled slide show (PPSM) or template (POTM) is a presentation's parts under a
# content type python-pptx has no part for: its copy declares a presentation's.
_AS_PRESENTATION = {
    f"application/vnd.ms-powerpoint.{kind}.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    )
    for kind in ("slideshow", "template")
}
_SMARTART = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
# An object the slide embeds (OLE).
_OLE = "http://schemas.openxmlformats.org/presentationml/2006/ole"
_NAMESPACES = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "dgm": _SMARTART,
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


def slide_texts(
    source: Path | IO[bytes], reserve: Callable[[float, str], None] | None = None, depth: int = 0
) -> Iterator[PageText]:
    """Each slide with text of the presentation ``source`` (a path or a seekable file), its
    number that of the slide in the show. ``reserve(mb, reading)`` (the segment's budget) is
    asked for the memory its XML needs before any of it is read. ``depth``: how deep in other
    files the presentation lies (what it embeds is read while that is under
    mail.MAX_NESTING)."""
    with ExitStack() as stack:
        try:
            package = stack.enter_context(opened_package(source))
            with without_blobs(
                package, reserve, XML_MEMORY_FACTOR, "a presentation", _AS_PRESENTATION
            ) as copy:
                # Package.open, not pptx.Presentation: that refuses a slide show (PPSX) or a
                # template (POTX), whose parts are a presentation's under another content type.
                main = Package.open(copy).main_document_part
                if not isinstance(main, PresentationPart):
                    raise InvalidDocument("not a presentation: its main part is of another kind")
                slides = list(main.presentation.slides)
        except _PPTX_ERRORS as exc:
            raise InvalidDocument(f"not a readable presentation: {type(exc).__name__}") from exc
        embedded = IncludedParts(package, reserve, depth, Allowance.whole())
        for number, slide in enumerate(slides, start=1):
            try:
                text = _slide_text(slide, embedded)
            except _PPTX_ERRORS as exc:
                raise InvalidDocument(
                    f"slide {number} cannot be read: {type(exc).__name__}"
                ) from exc
            if text:
                yield PageText(number=number, text=text)


def _slide_text(slide: Slide, embedded: IncludedParts) -> str:
    title = slide.shapes.title
    blocks = [_frame_text(title)] if title is not None else []
    # (shape objects are made anew at each access: their elements are the shapes)
    title_element = title.element if title is not None else None
    shapes = (shape for shape in slide.shapes if shape.element is not title_element)
    blocks += _shapes_text(shapes, embedded)
    if slide.has_notes_slide:
        notes_frame = slide.notes_slide.notes_text_frame
        notes = _text(notes_frame.text) if notes_frame is not None else ""
        if notes:
            blocks.append(f"Notes:\n{notes}")
    return "\n\n".join(block for block in blocks if block)


def _shapes_text(shapes: Iterable[Any], embedded: IncludedParts) -> list[str]:
    """The text of ``shapes`` in reading order: top to bottom, then left to right."""
    ordered = sorted(shapes, key=lambda shape: (shape.top or 0, shape.left or 0))
    return [text for shape in ordered if (text := _shape_text(shape, embedded))]


def _shape_text(shape: Any, embedded: IncludedParts) -> str:
    if isinstance(shape, GroupShape):
        return "\n\n".join(_shapes_text(shape.shapes, embedded))
    if isinstance(shape, GraphicFrame):
        if shape.has_table:
            return markdown_grid(
                [[_text(cell.text) for cell in row.cells] for row in shape.table.rows]
            )
        if shape.has_chart:
            return chart_table(shape.chart)
        if shape.element.graphicData_uri == _SMARTART:
            return _smartart_text(shape)
        if shape.element.graphicData_uri == _OLE:
            return _embedded_text(shape, embedded)
        return ""
    if isinstance(shape, Picture):
        # A picture's text is its description (its "alt text"), if it was given one.
        described = shape.element.xpath("./p:nvPicPr/p:cNvPr/@descr")
        return f"Picture: {_text(described[0])}" if described and described[0].strip() else ""
    return _frame_text(shape)


def _embedded_text(frame: GraphicFrame, embedded: IncludedParts) -> str:
    """The text of the object a frame embeds (OLE: a workbook, a document, a file shown as an
    icon), read as its kind (docproc.extract.included); none for one it links."""
    for rid in frame.element.xpath(".//p:oleObj/@r:id"):  # (a choice and its fallback: one)
        relationship = frame.part.rels.get(rid)
        if relationship is not None and not relationship.is_external:
            return embedded.text(str(relationship.target_part.partname).lstrip("/"))
    return ""


def _frame_text(shape: Any) -> str:
    return _text(shape.text_frame.text) if shape.has_text_frame else ""


def _text(text: str) -> str:
    # python-pptx writes a line break within a paragraph as a vertical tab.
    return text.replace("\v", "\n").strip()


def _smartart_text(frame: GraphicFrame) -> str:
    """SmartArt's text: that of each of its nodes, from its data part (docproc.extract.diagrams:
    python-pptx does not read SmartArt)."""
    ids = frame.element.find(".//dgm:relIds", _NAMESPACES)
    data_id = ids.get(f"{{{_NAMESPACES['r']}}}dm") if ids is not None else None
    if data_id is None:
        return ""
    return diagram_text(frame.part.related_part(data_id).blob)
