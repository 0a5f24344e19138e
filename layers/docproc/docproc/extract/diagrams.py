"""SmartArt diagrams' text: a diagram's nodes, from its data part (DrawingML's
``dgm:dataModel``, as PowerPoint and Word keep one), a line each, in the part's order.
python-pptx and python-docx read none of it.
"""

from __future__ import annotations

from lxml import etree

from docproc.extract.xml_streams import PARSER_OPTIONS

_DIAGRAM = "{http://schemas.openxmlformats.org/drawingml/2006/diagram}"
_DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def diagram_text(data: bytes) -> str:
    """The text of each node of the diagram whose data part is ``data``, a line each; the
    points that are connections or the layout's own are not nodes. Raises lxml's
    XMLSyntaxError on XML not well formed."""
    model = etree.fromstring(data, etree.XMLParser(**PARSER_OPTIONS))
    lines = []
    for point in model.iter(f"{_DIAGRAM}pt"):
        if point.get("type", "node") != "node":
            continue
        paragraphs = point.iterfind(f"{_DIAGRAM}t/{_DRAWING}p")
        text = "\n".join(
            "".join(run.text or "" for run in paragraph.iter(f"{_DRAWING}t"))
            for paragraph in paragraphs
        ).strip()
        if text:
            lines.append(text)
    return "\n".join(lines)
