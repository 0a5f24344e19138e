"""Charts' figures as text: a chart (DrawingML's, as PowerPoint, Word and Excel keep one) is a
table of a row per category and a column per series, its title in the corner, from the values
the chart last cached (the workbook behind it is not read). python-pptx reads the chart's XML,
a presentation's or any package's chart part alike.
"""

from __future__ import annotations

from typing import Any

from pptx.chart.chart import Chart
from pptx.exc import PythonPptxError
from pptx.oxml import parse_xml

from docproc.extract.pages import markdown_grid
from docproc.extract.sheets import cell_text

# What reading a chart's part raises where it is damaged: its XML not well formed (lxml's
# XMLSyntaxError), or not a chart python-pptx can walk.
CHART_ERRORS: tuple[type[Exception], ...] = (
    SyntaxError,
    ValueError,
    KeyError,
    AttributeError,
    IndexError,
    TypeError,
    PythonPptxError,
)


def chart_table(chart: Any) -> str:
    """A chart's figures as a Markdown table (the chunker repeats a table's header on each of
    its chunks); "" for a chart without series."""
    rows = chart_rows(chart)
    return markdown_grid(rows) if rows else ""


def chart_rows(chart: Any) -> list[list[str]]:
    """A chart's figures as rows of cells: its title ("Chart: ...") and each series' name,
    then a row per category; none for a chart without series."""
    series = list(chart.series)
    if not series:
        return []
    title = ""
    if chart.has_title and chart.chart_title.has_text_frame:
        # (python-pptx writes a line break within a paragraph as a vertical tab)
        title = chart.chart_title.text_frame.text.replace("\v", "\n").strip()
    categories = chart.plots[0].categories if len(chart.plots) else ()
    labels = (
        [" / ".join(map(str, label)) for label in categories.flattened_labels]
        if categories and categories.depth > 1
        else [str(label) for label in categories]
    )
    rows = [[f"Chart: {title}" if title else "Chart", *(line.name or "" for line in series)]]
    for index in range(max([len(labels), *(len(line.values) for line in series)])):
        label = labels[index] if index < len(labels) else str(index + 1)
        values = [line.values[index] if index < len(line.values) else None for line in series]
        rows.append([label, *map(cell_text, values)])
    return rows


def chart_part_rows(xml: bytes) -> list[list[str]]:
    """The figures of the chart part ``xml`` (a ``c:chartSpace``) as chart_rows gives them.
    Raises CHART_ERRORS where it is damaged."""
    # (python-pptx's Chart is untyped; the part, for its workbook, is not needed)
    chart = Chart(parse_xml(xml), None)  # type: ignore[no-untyped-call]
    return chart_rows(chart)
