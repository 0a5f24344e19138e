"""HTML to text with the standard library's HTML parser (tolerant of broken markup).

A large HTML file is read in byte ranges like any text (docproc.extract.text), and a range
may begin inside a script, a style sheet, a comment or a tag that spans lines: parsed from
there, their insides would be indexed as text (a saved web page's scripts, ``class="x">``).
``range_text`` reads what precedes the range to tell (``html_context``), parses the range
from that state and leaves an unfinished tag or comment at its end to the next range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from docproc.extract.text import TextSlice
from docproc.storage.port import ObjectStore

EXTRACTION_METHOD = "html-text"
# How far before a range its context is looked for: a script or style sheet opened further
# back than this (and not closed) is not seen, and its remainder is read as text.
HTML_CONTEXT_BYTES = 4 * 2**20

# Where the parser's state changes between text and the elements whose insides are not
# markup (as HTMLParser's CDATA_CONTENT_ELEMENTS), and comments.
_RAW_TEXT_MARKERS = re.compile(r"<(/?)(script|style)\b|<!--|-->", re.IGNORECASE)
# What HTMLParser takes for the start of a tag, a comment or a declaration.
_TAG_OPEN = re.compile(r"<[a-zA-Z/!?]")
# An unfinished tag longer than this is taken for text with a "<" in it: real tags are short,
# and the range it ends would otherwise leave the rest of its text to the next.
_TAG_MAX_CHARACTERS = 64 * 1024

_SKIP = {"script", "style", "noscript", "template", "head", "svg"}
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of ``markup``: scripts and styles dropped, block elements on their own
    lines, runs of blank lines collapsed."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class HtmlContext:
    """The parser's state where some HTML ends, as far as its last ``HTML_CONTEXT_BYTES``
    show: ``prefix`` is what to feed a parser before the text that follows, so that it starts
    in that state (``<script>``, ``<!--``, or an unfinished tag itself); ``unfinished_at`` is
    where an unfinished tag or comment begins in the HTML looked at, if it ends inside one
    (HTMLParser would give out what it holds as text)."""

    prefix: str = ""
    unfinished_at: int | None = None


def html_context(before: str) -> HtmlContext:
    """The state at the end of ``before`` (see HtmlContext). Read forward from the first
    marker of a state change: a script or a comment is left only at its own end."""
    inside, opened_at = "", -1
    for marker in _RAW_TEXT_MARKERS.finditer(before):
        text = marker.group().lower()
        if inside == "comment":
            if text == "-->":
                inside = ""
        elif inside:
            if text == f"</{inside}":
                inside = ""
        elif text == "<!--":
            inside, opened_at = "comment", marker.start()
        elif marker.group(2) and not marker.group(1):
            inside, opened_at = marker.group(2).lower(), marker.start()
    if inside == "comment":
        return HtmlContext(prefix="<!--", unfinished_at=opened_at)
    if inside:
        if before.find(">", opened_at) == -1 and len(before) - opened_at <= _TAG_MAX_CHARACTERS:
            return HtmlContext(prefix=before[opened_at:], unfinished_at=opened_at)
        return HtmlContext(prefix=f"<{inside}>")
    last_open = max(
        (m.start() for m in _TAG_OPEN.finditer(before, before.rfind(">") + 1)), default=-1
    )
    if last_open == -1 or len(before) - last_open > _TAG_MAX_CHARACTERS:
        return HtmlContext()
    return HtmlContext(prefix=before[last_open:], unfinished_at=last_open)


def segment_text(before: str, markup: str, last: bool) -> str:
    """Visible text of ``markup``, a range of a larger HTML file that follows ``before``
    (up to HTML_CONTEXT_BYTES of it): parsed in the state ``before`` leaves, and without an
    unfinished tag or comment at its end unless it is the ``last`` range (the next range
    begins in it)."""
    context = html_context(before)
    if not last:
        ending = html_context(context.prefix + markup)
        if ending.unfinished_at is not None:
            markup = markup[: max(0, ending.unfinished_at - len(context.prefix))]
    return html_to_text(context.prefix + markup)


def range_text(
    store: ObjectStore, key: str, version_id: str | None, owned: TextSlice, size: int
) -> str:
    """Visible text of ``owned``, a byte range of the HTML object ``key`` of ``size`` bytes,
    in the context of what precedes it (segment_text)."""
    start = max(0, owned.byte_start - HTML_CONTEXT_BYTES)
    before = store.read_range(key, start, owned.byte_start, version_id) if owned.byte_start else b""
    last = owned.byte_end >= size
    return segment_text(before.decode("utf-8", errors="replace"), owned.text, last)
