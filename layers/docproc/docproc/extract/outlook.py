"""Outlook messages (``.msg``, [MS-OXMSG]: MAPI properties in an OLE compound file) as text,
laid out as an e-mail's is (docproc.extract.mail): the sender, recipients, date and subject,
the body (its plain text, else its HTML as text), then each attachment by name with its text,
read as that kind of upload is, a message attached to it among them.

Properties are read through olefile, a stream at a time, from the file as it is (on S3, by
ranged reads): an attachment's bytes are held while it is read, one at a time. A message
whose body is stored only as compressed RTF (rare: Outlook writes the plain text beside it) is
read through compressed_rtf and striprtf.
"""

from __future__ import annotations

import codecs
import datetime
import email.utils
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from docproc.errors import InvalidDocument
from docproc.extract.mail import (
    MAX_NESTING,
    attachment_block,
    file_text,
    header_text,
    signed_text,
)
from docproc.extract.ocr import OCR_OFF, OcrOptions
from docproc.extract.ole_objects import unwrapped
from docproc.extract.pages import TablesMode
from docproc.extract.smime import PKCS7_MIME_TYPES
from docproc.extract.sniff import OLE_ERRORS

if TYPE_CHECKING:
    import olefile

EXTRACTION_METHOD = "outlook"
# Peak memory of reading a message per byte of it, with a margin: an attachment's bytes, and
# what its reader makes of them (a PDF's pages, a workbook's XML), one attachment at a time;
# the most, a body of HTML alone dense with text beyond Latin-1: 4.2x (13 MB).
MEMORY_FACTOR = 6

# Property ids ([MS-OXPROPS]).
_SUBJECT = 0x0037
_CLIENT_SUBMIT_TIME = 0x0039
_SENDER_NAME = 0x0C1A
_SENDER_EMAIL = 0x0C1F
_SENDER_SMTP = 0x5D01
_DELIVERY_TIME = 0x0E06
_DISPLAY_BCC, _DISPLAY_CC, _DISPLAY_TO = 0x0E02, 0x0E03, 0x0E04
_BODY = 0x1000
_RTF_COMPRESSED = 0x1009
_HTML = 0x1013
_INTERNET_CODEPAGE = 0x3FDE
_MESSAGE_CODEPAGE = 0x3FFD
_DISPLAY_NAME = 0x3001
_EMAIL_ADDRESS = 0x3003
_SMTP_ADDRESS = 0x39FE
_RECIPIENT_TYPE = 0x0C15
_ATTACH_DATA = 0x3701
_ATTACH_FILENAME = 0x3704
_ATTACH_METHOD = 0x3705
_ATTACH_LONG_FILENAME = 0x3707
_ATTACH_MIME_TAG = 0x370E
# The MIME types of a signed message's one attachment: the signed entity, in the clear or
# inside an S/MIME object.
_SIGNED = {"multipart/signed", *PKCS7_MIME_TYPES}
# Property types.
_UNICODE, _STRING8, _BINARY, _LONG, _SYSTIME = 0x001F, 0x001E, 0x0102, 0x0003, 0x0040
# How an attachment is held ([MS-OXCMSG] 2.2.2.9): its bytes; an OLE object in a storage
# (afStorage: what Outlook attaches to a message in rich text, a document or a workbook inserted
# as an object). A message of its own (5) is found by its storage; others (by reference) are
# named only.
_BY_VALUE, _OLE_STORAGE = 1, 6
# __properties_version1.0 begins with a header: its size by what holds the stream.
_TOP_HEADER, _EMBEDDED_HEADER, _OBJECT_HEADER = 32, 24, 8
_RECIPIENT_FIELDS = {1: "To", 2: "Cc", 3: "Bcc"}
# Characters that make a display name quoted in an address (RFC 5322's specials).
_ADDRESS_SPECIALS = '()<>[]:;@\\,."'


def msg_text(
    source: Path | IO[bytes], ocr: OcrOptions = OCR_OFF, tables: TablesMode = "off", depth: int = 0
) -> str:
    """The text of the Outlook message ``source`` (a path or a seekable file)."""
    import olefile  # only for compound files

    try:
        ole = olefile.OleFileIO(source)
    except OLE_ERRORS as exc:
        raise InvalidDocument(f"damaged compound file: {type(exc).__name__}") from exc
    with ole:
        return message_text(_Storage(ole, "", _TOP_HEADER), ocr, tables, depth)


class MapiProperties(Protocol):
    """A message, recipient or attachment: its MAPI properties by id, however they are stored
    (a compound file's streams here; a TNEF stream, docproc.extract.tnef; a PST's heap,
    docproc.extract.pst)."""

    def text(self, prop: int) -> str: ...
    def number(self, prop: int) -> int | None: ...
    def time(self, prop: int) -> datetime.datetime | None: ...
    def binary(self, prop: int) -> bytes | None: ...
    def codepage(self) -> str: ...
    def recipients(self) -> Sequence[MapiProperties]: ...


class MapiObject(MapiProperties, Protocol):
    """A message with its attachments, each of which may hold a message of its own."""

    def recipients(self) -> Sequence[MapiObject]: ...
    def attachments(self) -> Sequence[MapiObject]: ...
    def holds_message(self) -> bool: ...
    def embedded(self) -> MapiObject | None: ...
    def ole_object(self) -> bytes | None: ...


def codepage_name(number: int | None) -> str | None:
    """The codec of a MAPI code page number, None where Python has none."""
    if number is None:
        return None
    name = {65001: "utf-8", 20127: "ascii", 28591: "latin-1"}.get(number, f"cp{number}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def filetime(ticks: int) -> datetime.datetime | None:
    """A FILETIME (100 ns since 1601, UTC) as a datetime; None if out of range."""
    try:
        epoch = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)
        return epoch + datetime.timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


class _Storage:
    """A message, recipient or attachment: its properties, by id, from its storage's
    streams. A damaged stream is InvalidDocument. Its 8-bit strings are in its own code page,
    else in that of what holds it (a recipient's in its message's)."""

    def __init__(
        self, ole: olefile.OleFileIO, path: str, header: int, codepage: str = "cp1252"
    ) -> None:
        self._ole, self._path = ole, path
        self._fixed = self._fixed_properties(header)
        self._codepage = self._own_codepage() or codepage

    def _stream(self, name: str) -> bytes | None:
        path = self._path + name
        try:
            if not self._ole.exists(path):
                return None
            return bytes(self._ole.openstream(path).read())
        except OLE_ERRORS as exc:
            raise InvalidDocument(f"damaged stream in a message: {type(exc).__name__}") from exc

    def _fixed_properties(self, header: int) -> dict[int, tuple[int, bytes]]:
        """Fixed-size properties (numbers, times): id -> (type, its 8 bytes)."""
        data = self._stream("__properties_version1.0") or b""
        found = {}
        for offset in range(header, len(data) - 15, 16):
            tag, _flags, value = struct.unpack_from("<II8s", data, offset)
            found[tag >> 16] = (tag & 0xFFFF, value)
        return found

    def number(self, prop: int) -> int | None:
        kind, value = self._fixed.get(prop, (0, b""))
        return int.from_bytes(value[:4], "little") if kind == _LONG else None

    def time(self, prop: int) -> datetime.datetime | None:
        kind, value = self._fixed.get(prop, (0, b""))
        if kind != _SYSTIME:
            return None
        return filetime(int.from_bytes(value, "little"))

    def text(self, prop: int) -> str:
        data = self._stream(f"__substg1.0_{prop:04X}{_UNICODE:04X}")
        if data is not None:
            return data.decode("utf-16-le", errors="replace").rstrip("\x00")
        data = self._stream(f"__substg1.0_{prop:04X}{_STRING8:04X}")
        if data is not None:
            return data.decode(self.codepage(), errors="replace").rstrip("\x00")
        return ""

    def binary(self, prop: int) -> bytes | None:
        return self._stream(f"__substg1.0_{prop:04X}{_BINARY:04X}")

    def codepage(self) -> str:
        """The encoding of its 8-bit strings."""
        return self._codepage

    def _own_codepage(self) -> str | None:
        return codepage_name(self.number(_INTERNET_CODEPAGE) or self.number(_MESSAGE_CODEPAGE))

    def recipients(self) -> list[_Storage]:
        return self._children("__recip_version1.0_#", _OBJECT_HEADER)

    def attachments(self) -> list[_Storage]:
        return self._children("__attach_version1.0_#", _OBJECT_HEADER)

    def _children(self, prefix: str, header: int) -> list[_Storage]:
        """Its recipients (``__recip_version1.0_#``) or attachments, in their order."""
        names = sorted(
            {
                entry[len(self._path.split("/")) - 1]
                for entry in self._ole.listdir(streams=True, storages=True)
                if "/".join(entry).startswith(self._path + prefix)
            }
        )
        return [
            _Storage(self._ole, f"{self._path}{name}/", header, self._codepage) for name in names
        ]

    def holds_message(self) -> bool:
        # An OLE object's storage has the same name as a message's.
        if self.number(_ATTACH_METHOD) == _OLE_STORAGE:
            return False
        return bool(self._ole.exists(self._object_path().rstrip("/")))

    def embedded(self) -> _Storage | None:
        """The message an attachment is (a storage in place of its bytes)."""
        if not self.holds_message():
            return None
        return _Storage(self._ole, self._object_path(), _EMBEDDED_HEADER, self._codepage)

    def ole_object(self) -> bytes | None:
        """The OLE object an attachment is (afStorage), made a compound file of its own: its
        storage's streams, under the file's root (where an application's storage of the object
        is its file's: a DOC's, an XLS's, Packager's). None for any other attachment."""
        from docproc.extract.compound import compound_file, storage_streams

        if self.number(_ATTACH_METHOD) != _OLE_STORAGE:
            return None
        try:
            streams = storage_streams(self._ole, self._object_path().rstrip("/"))
        except OLE_ERRORS as exc:
            raise InvalidDocument(f"damaged OLE object in a message: {type(exc).__name__}") from exc
        return compound_file(streams) if streams else None

    def _object_path(self) -> str:
        """Where an attachment's message or OLE object is: a storage in place of its bytes."""
        return f"{self._path}__substg1.0_{_ATTACH_DATA:04X}000D/"


def message_text(
    message: MapiObject,
    ocr: OcrOptions,
    tables: TablesMode,
    depth: int,
    attachments_only: bool = False,
) -> str:
    """A message laid out as an e-mail's text is: header, body, then each attachment; or its
    attachments alone (where another copy of the message gives the rest)."""
    if attachments_only:
        return _attachments_text(message, ocr, tables, depth, beside_body=True)
    fields = message_fields(message)
    body = body_text(message)
    attachments = _attachments_text(message, ocr, tables, depth, beside_body=bool(body))
    return "\n\n".join(block for block in (header_text(fields), body, attachments) if block)


def message_fields(message: MapiProperties) -> dict[str, str]:
    """A message's sender, recipients, date and subject, by the e-mail header field each is."""
    recipients: dict[str, list[str]] = {"To": [], "Cc": [], "Bcc": []}
    for recipient in message.recipients():
        field = _RECIPIENT_FIELDS.get(recipient.number(_RECIPIENT_TYPE) or 1, "To")
        address = recipient.text(_SMTP_ADDRESS) or recipient.text(_EMAIL_ADDRESS)
        recipients[field].append(_mailbox(recipient.text(_DISPLAY_NAME), address))
    displayed = {"To": _DISPLAY_TO, "Cc": _DISPLAY_CC, "Bcc": _DISPLAY_BCC}
    sent = message.time(_CLIENT_SUBMIT_TIME) or message.time(_DELIVERY_TIME)
    sender = message.text(_SENDER_SMTP) or message.text(_SENDER_EMAIL)
    fields = {
        "From": _mailbox(message.text(_SENDER_NAME), sender),
        # Recipients as the message lists them; their names as it displays them otherwise.
        **{
            field: ", ".join(recipients[field]) or message.text(displayed[field])
            for field in recipients
        },
        "Date": email.utils.format_datetime(sent) if sent else "",
        "Subject": message.text(_SUBJECT),
    }
    return fields


def _attachments_text(
    message: MapiObject, ocr: OcrOptions, tables: TablesMode, depth: int, beside_body: bool
) -> str:
    blocks = []
    for attachment in message.attachments():
        kind = attachment.text(_ATTACH_MIME_TAG).lower()
        if kind in _SIGNED:
            # A signed message keeps what was signed as its one attachment ([MS-OXOSMIME]):
            # the MIME entity, or the S/MIME object holding it, read as the message's content
            # (its body where the message shows none, and its files), not as a file of MIME
            # source and base64.
            signed, name = attachment.binary(_ATTACH_DATA) or b"", attachment_name(attachment)
            blocks.append(signed_text(signed, name, kind, ocr, tables, depth, beside_body))
        else:
            blocks.append(attachment_text(attachment, ocr, tables, depth))
    return "\n\n".join(block for block in blocks if block)


def attachment_text(attachment: MapiObject, ocr: OcrOptions, tables: TablesMode, depth: int) -> str:
    name = attachment_name(attachment)
    if attachment.holds_message():
        kind = "application/vnd.ms-outlook"
    else:
        kind = attachment.text(_ATTACH_MIME_TAG) or "application/octet-stream"
    return attachment_block(
        name, kind, lambda: _attachment_content(attachment, name, ocr, tables, depth)
    )


def attachment_name(attachment: MapiProperties) -> str:
    name = attachment.text(_ATTACH_LONG_FILENAME) or attachment.text(_ATTACH_FILENAME)
    return name or attachment.text(_DISPLAY_NAME)


def _attachment_content(
    attachment: MapiObject, name: str, ocr: OcrOptions, tables: TablesMode, depth: int
) -> str:
    # Read here, inside attachment_block: a damaged attached message is named with why.
    embedded = attachment.embedded()
    if embedded is not None:
        return "" if depth >= MAX_NESTING else message_text(embedded, ocr, tables, depth + 1)
    ole_object = attachment.ole_object()
    if ole_object is not None:
        # Read as the file it holds: a document, a workbook, or the file Packager wraps.
        held_name, held = unwrapped(name, ole_object)
        return file_text(held, held_name, ocr, tables, depth)
    if attachment.number(_ATTACH_METHOD) not in (None, _BY_VALUE):
        return ""  # attached by reference: named only
    return file_text(attachment.binary(_ATTACH_DATA) or b"", name, ocr, tables, depth)


def _mailbox(name: str, address: str) -> str:
    """``Name <address>`` as an e-mail's header writes it (not formataddr: that writes a name
    outside ASCII as an encoded word, and refuses an address outside it)."""
    if not (name and address) or name == address:
        return name or address
    if any(special in name for special in _ADDRESS_SPECIALS):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def body_text(message: MapiProperties) -> str:
    """A message's body: its plain text, else its HTML as text, else its compressed RTF's text."""
    text = message.text(_BODY)
    if text.strip():
        return text.strip()
    html = message.binary(_HTML)
    if html is not None or message.text(_HTML):
        from docproc.extract.html import html_bytes_to_text, html_to_text

        if html:
            return html_bytes_to_text(html, message.codepage())
        return html_to_text(message.text(_HTML))
    compressed = message.binary(_RTF_COMPRESSED)
    if compressed:
        return _rtf_body(compressed)
    return ""


def _rtf_body(compressed: bytes) -> str:
    import compressed_rtf

    from docproc.extract.rtf import rtf_text

    try:
        rtf = compressed_rtf.decompress(compressed)
    except Exception as exc:  # the library raises bare Exceptions on damaged data
        raise InvalidDocument(f"damaged compressed RTF body: {type(exc).__name__}") from exc
    return rtf_text(rtf)
