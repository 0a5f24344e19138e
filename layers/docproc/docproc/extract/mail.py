"""E-mail (RFC 822 / MIME, ``.eml``) to text with the standard library's parser: the header
fields a reader looks for, the body (its plain text, else its HTML as text), then each
attachment by name, with its text where docproc reads its kind (PDF and the other paged
formats, pictures by OCR, Office documents old and new, RTF, text formats, HTML, e-mail and
Outlook messages themselves, archives file by file), so an attachment is found by
what it says, and its base64 is never indexed as text. Outlook messages
(docproc.extract.outlook) are laid out the same way, with the same attachment handling
(attachment_block, file_text).

A message is parsed as it is read and held as text while each attachment is decoded in turn:
memory is a few times the message's size, and a message that would not fit what the segment
has left is refused before it is read (ProcessSegment, MESSAGE_MEMORY_FACTOR). An attachment
of a kind docproc does not read (an archive other than a ZIP, 7z or tar, a recording, a picture
too small: a signature's logo) is named; one that cannot be read (damaged, encrypted) is
named with the reason; the rest of the message is kept either way.
"""

from __future__ import annotations

import binascii
import email.policy
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.errors import MessageError
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from functools import partial
from pathlib import Path
from typing import IO

from docproc.errors import DocprocError, EncryptedDocument, InvalidDocument, UnsupportedDocument
from docproc.extract import sniff
from docproc.extract.ocr import OCR_OFF, OcrOptions
from docproc.extract.pages import PageText, TablesMode
from docproc.extract.smime import PKCS7_MIME_TYPES, signed_content

EXTRACTION_METHOD = "email"
# Peak memory of reading a message per byte of it, with a margin. Parsing peaks at ~2.6x
# (the parser holds a part's lines, then joins them); then the message is held as text while
# one attachment at a time is decoded and read. Measured: 107 MB for a 40 MB message of one
# PDF, 113 MB for a 68 MB one of two PDFs and a 20 MB file; the most, a body of HTML alone
# dense with text beyond Latin-1 (2 bytes a character as str, held twice as it is joined):
# 4.3x (16 MB).
MESSAGE_MEMORY_FACTOR = 6
# Messages inside messages are read this deep; a deeper one is named, not read.
MAX_NESTING = 5
_PGP_MESSAGE = "-----BEGIN PGP MESSAGE-----"
# A MIME entity's header begins with one of these (lower case).
_ENTITY_FIELDS = (b"content-", b"mime-version:")
# Files that hold others: messages, winmail.dat, signed files, archives.
_ENCLOSING_TYPES = {
    sniff.EML,
    sniff.EMLX,
    sniff.MSG,
    sniff.TNEF,
    sniff.P7M,
    sniff.ZIP,
    *sniff.REPACKED,
}
# Office documents and RTF, read from an attachment's bytes.
_OFFICE_TYPES = {
    sniff.DOCX,
    sniff.DOC,
    sniff.XLSX,
    sniff.XLS,
    sniff.PPTX,
    sniff.PPT,
    sniff.RTF,
    sniff.WORDML,
    sniff.SPREADSHEETML,
    *sniff.OPEN_DOCUMENTS,
}
# The header fields given as the message's first lines, in this order.
_FIELDS = ("From", "To", "Cc", "Bcc", "Date", "Subject")


def message_text(
    source: IO[bytes], ocr: OcrOptions = OCR_OFF, tables: TablesMode = "off", depth: int = 0
) -> str:
    """The text of the message read from ``source`` (see the module docstring)."""
    # Parsed from a file, not from bytes: parsebytes holds the bytes, their text and its lines
    # at once (502 MB for a 68 MB message, against 112 MB parsed as it is read).
    message = BytesParser(policy=email.policy.default).parse(source)
    assert isinstance(message, EmailMessage)  # what policy.default makes
    return _parsed_text(message, ocr, tables, depth)


def emlx_message(data: bytes) -> bytes:
    """The message in an Apple Mail ``.emlx`` file: the bytes its first line counts (a
    property list of Mail's flags follows them); all that is there, if the count runs past."""
    first, _, rest = data.lstrip().partition(b"\n")
    try:
        size = int(first.strip())
    except ValueError as exc:
        raise InvalidDocument("an .emlx file without its message's size") from exc
    return rest[:size]


def entity_text(
    data: bytes,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    attachments_only: bool = False,
) -> str:
    """The text of a MIME entity without a message's header (what an Outlook message signed
    keeps of itself): its body and attachments, or its attachments alone."""
    message = BytesParser(policy=email.policy.default).parse(io.BytesIO(data))
    if not attachments_only:
        return _parsed_text(message, ocr, tables, depth)
    blocks = (
        _attachment_text(attachment, ocr, tables, depth, beside_body=True)
        for attachment in _attachments(message)
    )
    return "\n\n".join(block for block in blocks if block)


def signed_text(
    data: bytes,
    name: str,
    kind: str,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    attachments_only: bool = False,
) -> str:
    """What a signed message signed, read in the message's place (not as an attachment: it is
    the message's content). ``data`` is the MIME entity (``multipart/signed``) or the opaque
    S/MIME object that holds it (``application/pkcs7-mime``); one that cannot be read
    (encrypted, damaged) is named with why."""
    if depth >= MAX_NESTING:
        return ""
    try:
        signed = signed_content(data) if kind in PKCS7_MIME_TYPES else data
        if not _is_mime_entity(signed):
            # A signed file sent as S/MIME ("lease.pdf.p7m", as certified mail carries one):
            # an attachment, read as what it wraps.
            read = partial(_what_was_signed, signed, name, ocr, tables, depth + 1)
            return attachment_block(name, kind, read)
        return _what_was_signed(signed, name, ocr, tables, depth + 1, attachments_only)
    except DocprocError as exc:
        return f"{_title(name, kind)}, not read: {type(exc).__name__}"


def _what_was_signed(
    signed: bytes,
    name: str,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    attachments_only: bool = False,
) -> str:
    """The text of what a signature holds: a MIME entity (a message's content), else a file,
    read as its kind (its name without ``.p7m`` a hint)."""
    if _is_mime_entity(signed):
        return entity_text(signed, ocr, tables, depth, attachments_only)
    return file_text(signed, _unsigned_name(name), ocr, tables, depth)


def _unsigned_name(name: str) -> str:
    """The name of what a signed file wraps ("lease.pdf" of "lease.pdf.p7m"), a hint to its
    type; none where the name says nothing."""
    return name[: -len(".p7m")] if name.lower().endswith(".p7m") else ""


def _is_mime_entity(data: bytes) -> bool:
    """Whether ``data`` begins with a MIME entity's header (what S/MIME signs), not a file."""
    return data.lstrip()[:40].lower().startswith(_ENTITY_FIELDS)


def _parsed_text(message: MIMEPart, ocr: OcrOptions, tables: TablesMode, depth: int) -> str:
    blocks = [_header(message)]
    body = _body(message)
    if body:
        blocks.append(body)
    for attachment in _attachments(message):
        blocks.append(_attachment_text(attachment, ocr, tables, depth, beside_body=bool(body)))
    if not message.is_multipart() and message.get_content_maintype() != "text":
        # A message that is one file (a scanner's mail of a PDF): the file is its content.
        blocks.append(_attachment_text(message, ocr, tables, depth, beside_body=False))
    return "\n\n".join(block for block in blocks if block)


def _header(message: MIMEPart) -> str:
    return header_text({field: _field(message, field) for field in _FIELDS})


def header_text(fields: Mapping[str, str]) -> str:
    """A message's first lines: each field with a value, in the order of _FIELDS."""
    return "\n".join(f"{field}: {fields[field]}" for field in _FIELDS if fields.get(field))


def _field(message: MIMEPart, field: str) -> str:
    try:
        value = message.get(field)
        text = "" if value is None else str(value)
    except (MessageError, ValueError, IndexError, TypeError, AttributeError):
        # A field the parser cannot make sense of (a malformed address list): as it was sent.
        raw = [value for name, value in message.raw_items() if name.lower() == field.lower()]
        text = str(raw[0]) if raw else ""
    return " ".join(text.split())


def _body(message: MIMEPart) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    if part.get_content_subtype() == "html":
        return _html_text(part)
    content = _content(part)
    return content.strip() if isinstance(content, str) else ""


def _html_text(part: MIMEPart) -> str:
    """An HTML part's text, its bytes decoded as they are read (get_content would hold the
    markup as text beside them), in its charset as get_content's (ASCII where it names none;
    UTF-8 where it names one Python does not know, as _content)."""
    from docproc.extract.html import html_bytes_to_text

    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset("ascii")
    try:  # a text encoding Python knows, that can replace what it cannot decode
        b"x".decode(charset, errors="replace")  # (empty bytes are not looked up)
    except (LookupError, ValueError):  # "x-unknown", "rot13", "base64", "idna"
        charset = "utf-8"
    try:
        return html_bytes_to_text(payload, charset)
    except ValueError:  # a codec that fails on these bytes though told to replace (punycode)
        return html_bytes_to_text(payload, "utf-8")


def _attachments(message: MIMEPart) -> Iterator[MIMEPart]:
    """Every part that is not the body (attachments, and the parts of a multipart/mixed that
    are neither), in order; a multipart attachment's own parts in its place. Left out: what a
    web page saved whole (MHTML) holds for its page's look, not its text (_page_resource)."""
    for part in message.iter_attachments():
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            yield from _attachments(part)
        elif not _page_resource(message, part):
            yield part


def _page_resource(container: MIMEPart, part: MIMEPart) -> bool:
    """Whether ``part`` is a file a saved page's HTML refers to by its address for its look: a
    style sheet, a script, Word's list of its files and its theme (in a multipart/related,
    located by Content-Location, without a file name). Pictures are read as a message's
    (OCR where it is on)."""
    return (
        container.get_content_type() == "multipart/related"
        and part.get("Content-Location") is not None
        and not part.get_filename()
        and part.get_content_maintype() != "image"
    )


def _content(part: MIMEPart) -> object:
    try:
        return part.get_content()
    except (LookupError, ValueError, KeyError):
        # An unknown charset: the payload's bytes, decoded as best we can.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else None


def _attachment_text(
    part: MIMEPart, ocr: OcrOptions, tables: TablesMode, depth: int, beside_body: bool
) -> str:
    name = part.get_filename() or ""
    if part.get_content_type() == "message/external-body":
        # A file the message refers to and does not carry (one repacked from a PST: its
        # attachment lies beside it in the archive, docproc.extract.pst): named, with the type
        # of what it refers to.
        inner = part.get_payload(0) if part.is_multipart() else None
        kind = (
            inner.get_content_type() if isinstance(inner, MIMEPart) else "application/octet-stream"
        )
        return _title(name, kind)
    if part.get_content_type() in PKCS7_MIME_TYPES:
        return signed_text(
            _decoded(part), name, part.get_content_type(), ocr, tables, depth, beside_body
        )
    return attachment_block(
        name,
        part.get_content_type(),
        lambda: _part_text(part, name, ocr, tables, depth, beside_body),
    )


def attachment_block(name: str, kind: str, read: Callable[[], str]) -> str:
    """An attachment as a message's text gives it: named with its type, then its text
    (``read()``). One that cannot be read is named with why; the rest is kept either way.
    A part without a name and without text (an inline picture of a signature) says nothing."""
    return titled_block(_title(name, kind), read, keep_title=bool(name))


def titled_block(title: str, read: Callable[[], str], keep_title: bool = True) -> str:
    """``title``, then the text ``read()`` gives: a file inside a message or an archive. One
    that cannot be read is titled with why; one of a kind docproc does not read (an archive in
    a message, a recording), or without text, is its title alone (``keep_title``) or nothing."""
    try:
        text = read()
    except UnsupportedDocument:
        text = ""
    except DocprocError as exc:
        return f"{title}, not read: {type(exc).__name__}"
    if text:
        return f"{title}\n\n{text}"
    return title if keep_title else ""


def _title(name: str, kind: str) -> str:
    return f"Attachment: {name} ({kind})" if name else f"Attachment ({kind})"


def _part_text(
    part: MIMEPart, name: str, ocr: OcrOptions, tables: TablesMode, depth: int, beside_body: bool
) -> str:
    """The text of an attached part: a message, or a file (see _file_text)."""
    if part.get_content_type() == "message/rfc822":
        # Parsed with the message that carries it: read as it is, not written out again
        # (which can fail on what the parser tolerated).
        inner = part.get_payload(0) if part.is_multipart() else None
        if not isinstance(inner, MIMEPart) or depth >= MAX_NESTING:
            return ""
        return _parsed_text(inner, ocr, tables, depth + 1)
    return file_text(_decoded(part), name, ocr, tables, depth, beside_body)


def file_text(
    data: bytes,
    name: str,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    beside_body: bool = False,
) -> str:
    """The text of an attached file, by its content, as docproc reads that kind of upload.
    ``beside_body``: the message that carries it has a body (Outlook's winmail.dat then holds
    that body again, and is read for the files inside it)."""
    if not data:
        return ""
    detected = sniff.sniff_data(data, name)
    media_type = detected.media_type
    if media_type in _ENCLOSING_TYPES:
        if depth >= MAX_NESTING:
            return ""
        return _enclosed_text(data, name, media_type, ocr, tables, depth + 1, beside_body)
    if media_type in _OFFICE_TYPES:
        return _office_text(data, media_type, depth)
    if media_type in sniff.PAGED:
        filetype = sniff.PAGED[media_type]
        with _spilled(data, filetype) as path:
            del data  # MuPDF reads the file: the bytes need not stay while it does
            return _joined(paged_pages(path, filetype, ocr, tables))
    if media_type in sniff.PICTURE_TYPES:
        from docproc.extract import pictures

        picture = io.BytesIO(data)
        count = pictures.count_pages(picture)
        pages = pictures.pages_text(
            picture, 1, count, ocr, min_pixels=pictures.MIN_ATTACHED_PICTURE_PIXELS
        )
        return _joined(pages)
    if media_type in sniff.TEXT_TYPES:
        return _text_file(data, media_type, detected.encoding)
    return ""  # a recording: named, not transcribed


def _enclosed_text(
    data: bytes,
    name: str,
    media_type: str,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    beside_body: bool,
) -> str:
    """The text of a file that holds others (``depth``: how deep it lies): a message, Outlook's
    winmail.dat, a signed file, an archive."""
    if media_type == sniff.TNEF:
        from docproc.extract.tnef import tnef_text

        return tnef_text(data, ocr, tables, depth, attachments_only=beside_body)
    if media_type == sniff.MSG:
        from docproc.extract.outlook import msg_text

        return msg_text(io.BytesIO(data), ocr, tables, depth)
    if media_type == sniff.P7M:  # what was signed, read as its kind ("lease.pdf.p7m")
        return _what_was_signed(signed_content(data), name, ocr, tables, depth)
    if media_type == sniff.ZIP or media_type in sniff.REPACKED:  # an archive of files
        from docproc.extract.archive import attached_text

        return attached_text(data, media_type, name, ocr, tables, depth)
    if media_type == sniff.EMLX:
        return message_text(io.BytesIO(emlx_message(data)), ocr, tables, depth)
    return message_text(io.BytesIO(data), ocr, tables, depth)


def _office_text(data: bytes, media_type: str, depth: int) -> str:
    if media_type == sniff.DOCX:
        from docproc.extract.docx import docx_text

        return docx_text(io.BytesIO(data), depth=depth)
    if media_type == sniff.DOC:
        from docproc.extract.doc import doc_text

        return doc_text(io.BytesIO(data), depth=depth)
    if media_type == sniff.PPTX:
        from docproc.extract import pptx

        return _joined(pptx.slide_texts(io.BytesIO(data), depth=depth))
    if media_type == sniff.PPT:
        from docproc.extract import ppt

        return _joined(ppt.slide_texts(io.BytesIO(data), depth=depth))
    if media_type == sniff.RTF:
        from docproc.extract.rtf import rtf_text

        return rtf_text(data, depth=depth)
    if media_type == sniff.WORDML:
        from docproc.extract.wordml import wordml_text

        return wordml_text(io.BytesIO(data), depth=depth)
    if media_type in (sniff.ODT, sniff.ODP):
        from docproc.extract import opendocument

        if media_type == sniff.ODT:
            return opendocument.text_document_text(io.BytesIO(data), depth=depth)
        return _joined(opendocument.slide_texts(io.BytesIO(data), depth=depth))
    return _workbook_text(data, media_type, depth)


def _text_file(data: bytes, media_type: str, encoding: str | None) -> str:
    # UTF-8 read as UTF-8 with its byte order mark, if any, left out (the same without one).
    encoding = "utf-8-sig" if encoding in (None, "utf-8") else encoding
    head = data[: len(_PGP_MESSAGE) * 8].decode(encoding, errors="replace")
    if head.lstrip("\ufeff").lstrip().startswith(_PGP_MESSAGE):
        # PGP's armour: ciphertext in base64, which says nothing to a search.
        raise EncryptedDocument("the attachment is a PGP-encrypted message")
    if media_type == sniff.HTML and not head.startswith("\ufeff"):
        from docproc.extract.html import html_bytes_to_text

        # Decoded as it is read: the text of a page is not held beside its bytes.
        return html_bytes_to_text(data, encoding)
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    if media_type == sniff.HTML:
        from docproc.extract.html import html_to_text

        return html_to_text(text)
    return text.strip()


def _workbook_text(data: bytes, media_type: str, depth: int) -> str:
    """A workbook's sheets (XLSX, ODS, Excel 2003 XML, XLS), each read as it is written out
    (its rows are streamed); the objects it embeds within ``depth``."""
    if media_type == sniff.XLSX:
        from docproc.extract import xlsx

        return "\n\n".join(
            sheet.text() for sheet in xlsx.sheet_tables(io.BytesIO(data), None, depth)
        )
    if media_type == sniff.ODS:
        from docproc.extract import opendocument

        sheets = opendocument.sheet_tables(io.BytesIO(data), None, depth)
        return "\n\n".join(sheet.text() for sheet in sheets)
    if media_type == sniff.SPREADSHEETML:
        from docproc.extract.spreadsheetml import sheet_tables

        return "\n\n".join(sheet.text() for sheet in sheet_tables(io.BytesIO(data)))
    from docproc.extract import xls

    with _spilled(data, "xls") as path:  # xlrd maps a file
        return "\n\n".join(sheet.text() for sheet in xls.sheet_tables(path, None, depth))


@contextmanager
def _spilled(data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` in a temporary file for a reader that takes a path, removed after the block
    (this frame lets go of the bytes once they are written)."""
    fd, name = tempfile.mkstemp(prefix="docproc-attachment-", suffix=f".{suffix}")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    del data
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _decoded(part: MIMEPart) -> bytes:
    """A part's content. Base64 is decoded straight from the parsed text: the parser's own
    decoding copies it as bytes and as lines first (3.6x the part, against 0.75x)."""
    payload = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64" and isinstance(payload, str):
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            pass  # damaged: the parser's decoding makes what it can of it
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


def paged_pages(
    path: Path, filetype: str, ocr: OcrOptions, tables: TablesMode
) -> Iterator[PageText]:
    """Every page of a paged file (a PDF, an EPUB, ...) read from ``path``, a page at a time."""
    # Imported here: MuPDF loads only for messages with such attachments.
    from docproc.extract import pdf

    count = pdf.count_pages(path, filetype)
    return pdf.extract_pages(path, 1, count, filetype, ocr, tables)


def _joined(pages: Iterator[PageText]) -> str:
    return "\n\n".join(page.text.strip() for page in pages if page.text.strip())
