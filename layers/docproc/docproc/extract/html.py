"""HTML to text with the standard library's HTML parser (tolerant of broken markup).

A large HTML file is read in byte ranges like any text (docproc.extract.text), and a range
may begin inside a script, a style sheet, a comment or a tag that spans lines: parsed from
there, their insides would be indexed as text (a saved web page's scripts, ``class="x">``).
``range_text`` reads what precedes the range to tell (``html_context``), parses the range
from that state and leaves an unfinished tag or comment at its end to the next range.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
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


# The markup is fed to the parser, and the text it gives is laid out, this many characters at
# a time: what reading holds beside the markup is the text laid out so far, not a string for
# each piece of it (a page of 13 MB took 12.8x its size when every piece was kept to the end).
_PIECE_CHARACTERS = 1 << 20


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skipping = 0
        self._pending: list[str] = []  # the text since the last line laid out
        self._pending_characters = 0
        self._layout = _Layout()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._add(data)

    def _add(self, text: str) -> None:
        self._pending.append(text)
        self._pending_characters += len(text)
        if self._pending_characters >= _PIECE_CHARACTERS:
            # Lay out the lines that are whole; the last, which may go on, waits.
            lines, newline, rest = "".join(self._pending).rpartition("\n")
            if newline:
                self._layout.add(lines)
            self._pending, self._pending_characters = [rest], len(rest)

    def text(self) -> str:
        """The text, once the markup is all fed and the parser closed."""
        self._layout.add("".join(self._pending))
        self._pending = []
        return self._layout.text()


class _Layout:
    """Lines of text as a page shows them: white space in a line collapsed, runs of blank
    lines one, none at the start or the end; added a run of lines at a time. (A blank line is
    written when text follows it: the text is never copied again to strip its end.)"""

    def __init__(self) -> None:
        self._runs: list[str] = []
        self._after_text = False
        self._blank = False  # a blank line after text, written if more text follows

    def add(self, lines: str) -> None:
        kept: list[str] = []
        for raw in lines.split("\n"):
            line = " ".join(raw.split())
            if not line:
                self._blank = self._after_text
                continue
            if self._blank:
                kept.append("")
                self._blank = False
            kept.append(line)
            self._after_text = True
        if kept:
            self._runs.append("\n".join(kept))

    def text(self) -> str:
        return "\n".join(self._runs)


def html_to_text(markup: str) -> str:
    """Visible text of ``markup``: scripts and styles dropped, block elements on their own
    lines, runs of blank lines collapsed."""
    pieces = range(0, len(markup), _PIECE_CHARACTERS)
    return _visible_text(markup[start : start + _PIECE_CHARACTERS] for start in pieces)


def html_bytes_to_text(markup: bytes, encoding: str) -> str:
    """html_to_text of ``markup`` in ``encoding`` (a codec's name; what it cannot decode is
    replaced), decoded a piece at a time: the markup is never held as text beside its bytes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    ends = range(_PIECE_CHARACTERS, len(markup) + _PIECE_CHARACTERS, _PIECE_CHARACTERS)
    decoded = (
        # The last piece with what the decoder held back (a character cut short at the end)
        decoder.decode(markup[end - _PIECE_CHARACTERS : end], final=end >= len(markup))
        for end in ends
    )
    try:
        return _visible_text(decoded)
    except UnicodeError:
        # UTF-16's incremental decoder refuses what does not begin with a byte order mark,
        # which its decoding of the whole reads as little-endian.
        return html_to_text(markup.decode(encoding, errors="replace"))


def _visible_text(markup: Iterable[str]) -> str:
    collector = _TextCollector()
    for piece in markup:
        collector.feed(piece)
    collector.close()
    return collector.text()


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
