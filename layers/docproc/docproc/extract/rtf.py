"""RTF to text with striprtf: control words, font tables, pictures and other destinations
dropped, escapes (``\\'e9``, ``\\u8364?``) decoded in the document's code page.

RTF's groups nest from the first byte to the last, so a document is read whole; it is held
as text, and its text beside it: a document that would not fit what the segment has left is
refused before it is read.
"""

from __future__ import annotations

from striprtf.striprtf import rtf_to_text

from docproc.errors import InvalidDocument

EXTRACTION_METHOD = "striprtf"
# Peak memory of reading a document per byte of it (its bytes, the same as text and the text
# found), with a margin: measured, 1.7x for 19 MB of RTF with pictures.
RTF_MEMORY_FACTOR = 4


def rtf_text(data: bytes) -> str:
    """The text of the RTF document ``data``."""
    # RTF is 7-bit: its other characters are escapes; a stray 8-bit byte is kept as Latin-1.
    try:
        text = rtf_to_text(data.decode("latin-1"), errors="replace")
    # What striprtf raises on a malformed control word or code page (found by fuzzing it).
    except (ValueError, TypeError, LookupError, OverflowError, IndexError) as exc:
        raise InvalidDocument(f"not a readable RTF: {type(exc).__name__}") from exc
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
