"""Outlook's rich-text wrapper, TNEF ([MS-OXTNEF]: ``winmail.dat``, ``application/ms-tnef``):
a message's MAPI properties and its attachments in one stream. Outlook and Exchange send it
with a message written in rich text; a mail client that does not read it shows one attachment,
"winmail.dat", and the files inside are found nowhere else.

Read as an Outlook message is (docproc.extract.outlook): the same properties, laid out alike,
the attachments read as an e-mail's. As an e-mail's attachment beside a body, only the files
inside are read (its body is that body again, in rich text).

Read by hand, to the specification: tnefparse, the library for it, loops over a property
count read from the file before checking it against the bytes (a 40-byte file stating 2**28
properties ran for over a minute) and strips NULs from the end of attachments' bytes.
Counts and sizes here are checked against what holds them; a stream that breaks the format is
InvalidDocument.
"""

from __future__ import annotations

import datetime
import struct
import uuid
from collections.abc import Iterator, Sequence

from docproc.errors import InvalidDocument
from docproc.extract.ocr import OCR_OFF, OcrOptions
from docproc.extract.outlook import (
    MapiObject,
    codepage_name,
    filetime,
    message_text,
)
from docproc.extract.pages import TablesMode
from docproc.extract.sniff import TNEF_SIGNATURE

EXTRACTION_METHOD = "tnef"
# Peak memory per byte of the stream, with a margin: the stream, one attachment's bytes, and
# what its reader makes of them (as an Outlook message's); the most, a body of HTML alone
# dense with text beyond Latin-1: 4.8x (13 MB).
MEMORY_FACTOR = 6

_MESSAGE_LEVEL, _ATTACHMENT_LEVEL = 1, 2
# A level, an id, a size and a checksum: fewer bytes left after an attribute are no attribute.
_SMALLEST_ATTRIBUTE = 11
# Attributes ([MS-OXTNEF] 2.1.3.3), by the low word of their ids.
_ATT_SUBJECT = 0x8004
_ATT_BODY = 0x800C
_ATT_ATTACH_DATA = 0x800F
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_RENDERING = 0x9002  # the first of each attachment's attributes
_ATT_MESSAGE_PROPERTIES = 0x9003
_ATT_RECIPIENTS = 0x9004
_ATT_ATTACHMENT_PROPERTIES = 0x9005
_ATT_OEM_CODEPAGE = 0x9007
# The MAPI properties the legacy attributes stand for ([MS-OXPROPS]).
_SUBJECT, _BODY, _ATTACH_DATA, _ATTACH_FILENAME = 0x0037, 0x1000, 0x3701, 0x3704
_INTERNET_CODEPAGE = 0x3FDE
# Property types ([MS-OXCDATA] 2.11.1).
_LONG, _SYSTIME, _STRING8, _UNICODE = 0x0003, 0x0040, 0x001E, 0x001F
_OBJECT, _BINARY = 0x000D, 0x0102
# Legacy attributes: the MAPI property each stands for, and its type.
_LEGACY = {
    _ATT_SUBJECT: (_SUBJECT, _STRING8),
    _ATT_BODY: (_BODY, _STRING8),
    _ATT_ATTACH_TITLE: (_ATTACH_FILENAME, _STRING8),
    _ATT_ATTACH_DATA: (_ATTACH_DATA, _BINARY),
}
_FIXED_SIZES = {
    0x0002: 2,  # 16-bit integer
    0x0003: 4,
    0x0004: 4,  # 32-bit float
    0x0005: 8,  # 64-bit float
    0x0006: 8,  # currency
    0x0007: 8,  # floating time
    0x000A: 4,  # error code
    0x000B: 2,  # boolean
    0x0014: 8,  # 64-bit integer
    0x0040: 8,  # FILETIME
    0x0048: 16,  # GUID
}
_VARIABLE = {_STRING8, _UNICODE, _BINARY, _OBJECT}
_MULTIPLE = 0x1000
# Property ids from here are named properties: a GUID and a name follow the tag.
_NAMED = 0x8000
# A message attached as a message: its object begins with IID_IMessage, then a TNEF stream.
_IID_IMESSAGE = uuid.UUID("00020307-0000-0000-c000-000000000046").bytes_le

# A property's type and its (first) value.
_Properties = dict[int, tuple[int, memoryview]]


def tnef_text(
    data: bytes,
    ocr: OcrOptions = OCR_OFF,
    tables: TablesMode = "off",
    depth: int = 0,
    attachments_only: bool = False,
) -> str:
    """The text of the TNEF stream ``data``: as an Outlook message's (header, body, then each
    attachment), or with ``attachments_only`` its attachments alone."""
    return message_text(read(memoryview(data)), ocr, tables, depth, attachments_only)


class TnefObject:
    """A message, recipient or attachment from a TNEF stream (an outlook.MapiObject). 8-bit
    strings are in the stream's OEM code page; an HTML body in the message's internet code
    page, else that one."""

    def __init__(
        self,
        properties: _Properties,
        codepage: str,
        recipients: Sequence[TnefObject] = (),
        attachments: Sequence[TnefObject] = (),
    ) -> None:
        self._properties, self._strings = properties, codepage
        self._recipients, self._attachments = recipients, attachments
        self._codepage = codepage_name(self.number(_INTERNET_CODEPAGE)) or codepage

    def _value(self, prop: int, *kinds: int) -> tuple[int, memoryview] | None:
        found = self._properties.get(prop)
        return found if found is not None and found[0] in kinds else None

    def text(self, prop: int) -> str:
        found = self._value(prop, _UNICODE, _STRING8)
        if found is None:
            return ""
        kind, value = found
        encoding = "utf-16-le" if kind == _UNICODE else self._strings
        return bytes(value).decode(encoding, errors="replace").rstrip("\x00")

    def number(self, prop: int) -> int | None:
        found = self._value(prop, _LONG)
        return None if found is None else int.from_bytes(found[1][:4], "little")

    def time(self, prop: int) -> datetime.datetime | None:
        found = self._value(prop, _SYSTIME)
        return None if found is None else filetime(int.from_bytes(found[1][:8], "little"))

    def binary(self, prop: int) -> bytes | None:
        found = self._value(prop, _BINARY)
        return None if found is None else bytes(found[1])

    def codepage(self) -> str:
        return self._codepage

    def recipients(self) -> Sequence[TnefObject]:
        return self._recipients

    def attachments(self) -> Sequence[TnefObject]:
        return self._attachments

    def holds_message(self) -> bool:
        found = self._value(_ATTACH_DATA, _OBJECT)
        return found is not None and bytes(found[1][:16]) == _IID_IMESSAGE

    def embedded(self) -> MapiObject | None:
        """The message an attachment is: a TNEF stream of its own inside its object (another
        object, an OLE one, is named only)."""
        if not self.holds_message():
            return None
        return read(self._properties[_ATTACH_DATA][1][16:])

    def ole_object(self) -> bytes | None:
        """None: an OLE object in a TNEF stream (an OLE 1 stream, or a storage) is named only."""
        return None


def read(data: memoryview) -> TnefObject:
    """The message in a TNEF stream (its values are views of ``data``, not copies)."""
    if bytes(data[:4]) != TNEF_SIGNATURE:
        raise InvalidDocument("not a TNEF stream (no signature)")
    codepage = "cp1252"
    message: tuple[_Properties, _Properties] = ({}, {})  # from legacy attributes, from MAPI
    recipients: list[_Properties] = []
    attachments: list[tuple[_Properties, _Properties]] = []
    for level, attribute, value in _attributes(data):
        if level == _ATTACHMENT_LEVEL:
            if attribute == _ATT_ATTACH_RENDERING or not attachments:
                attachments.append(({}, {}))
            _add(attribute, value, *attachments[-1])
        elif attribute == _ATT_OEM_CODEPAGE and len(value) >= 4:
            codepage = codepage_name(int.from_bytes(value[:4], "little")) or codepage
        elif attribute == _ATT_RECIPIENTS:
            cursor = _Cursor(value)
            recipients = [_property_list(cursor) for _ in range(cursor.count(4))]
        else:
            _add(attribute, value, *message)
    # A MAPI property says what its legacy attribute says, in full (a long file name, Unicode).
    return TnefObject(
        {**message[0], **message[1]},
        codepage,
        [TnefObject(row, codepage) for row in recipients],
        [TnefObject({**old, **new}, codepage) for old, new in attachments],
    )


def _attributes(data: memoryview) -> Iterator[tuple[int, int, memoryview]]:
    """Each attribute's level, id and value: after the signature and a legacy key, each is a
    level, an id (and type), a size, the value, then a checksum (not checked: readers differ
    on it, and a wrong one harms nothing read here). Writers leave a few bytes after the last
    attribute, or its checksum out: both are let be."""
    offset = 6
    while len(data) - offset >= _SMALLEST_ATTRIBUTE:
        level = data[offset]
        if level not in (_MESSAGE_LEVEL, _ATTACHMENT_LEVEL):
            raise InvalidDocument(f"a TNEF attribute of unknown level {level}")
        attribute, _kind, size = struct.unpack_from("<HHI", data, offset + 1)
        start = offset + 9
        if size > len(data) - start:
            raise InvalidDocument("a TNEF attribute runs past the end of the stream")
        yield level, attribute, data[start : start + size]
        offset = start + size + 2


def _add(attribute: int, value: memoryview, legacy: _Properties, properties: _Properties) -> None:
    """What a message's or attachment's attribute says, as MAPI properties."""
    if attribute in _LEGACY:
        prop, kind = _LEGACY[attribute]
        legacy[prop] = (kind, value)
    elif attribute in (_ATT_MESSAGE_PROPERTIES, _ATT_ATTACHMENT_PROPERTIES):
        properties.update(_property_list(_Cursor(value)))


class _Cursor:
    """Reads a MAPI property list's fields in order, each checked against the bytes left."""

    def __init__(self, data: memoryview) -> None:
        self._data, self._offset = data, 0

    def take(self, size: int) -> memoryview:
        if size > len(self._data) - self._offset:
            raise InvalidDocument("a TNEF property runs past its attribute")
        start, self._offset = self._offset, self._offset + size
        return self._data[start : self._offset]

    def take_padded(self, size: int) -> memoryview:
        """A value and the padding to 4 bytes after it (where the attribute holds it: some
        writers leave the last value's out)."""
        value = self.take(size)
        self._offset = min(len(self._data), self._offset + -size % 4)
        return value

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "little")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def count(self, smallest: int) -> int:
        """A count of items of at least ``smallest`` bytes each, which the bytes left hold."""
        count = self.u32()
        if count * smallest > len(self._data) - self._offset:
            raise InvalidDocument(f"a TNEF count of {count} that its attribute cannot hold")
        return count


def _property_list(cursor: _Cursor) -> _Properties:
    """A count of properties, each a tag, a name if named, then its values ([MS-OXTNEF]
    2.1.3.4). Every property takes at least 8 bytes (a tag and a padded value)."""
    found: _Properties = {}
    for _ in range(cursor.count(8)):
        kind, prop = cursor.u16(), cursor.u16()
        if prop >= _NAMED:
            cursor.take(16)  # the property set's GUID
            if cursor.u32() == 0:
                cursor.take(4)  # a named property's number
            else:
                cursor.take_padded(cursor.u32())  # its name, in UTF-16
        values = _values(cursor, kind)
        if values and prop < _NAMED:  # named ones' ids are the stream's own: none read here
            found[prop] = (kind & ~_MULTIPLE, values[0])
    return found


def _values(cursor: _Cursor, kind: int) -> list[memoryview]:
    base = kind & ~_MULTIPLE
    if base in _FIXED_SIZES:
        size = _FIXED_SIZES[base]
        count = cursor.count(4) if kind & _MULTIPLE else 1
        return [cursor.take_padded(size) for _ in range(count)]
    if base in _VARIABLE:
        # Counted even when single; each value sized, then padded to 4 bytes.
        values = []
        for _ in range(cursor.count(4)):
            values.append(cursor.take_padded(cursor.u32()))
        return values
    raise InvalidDocument(f"a TNEF property of unknown type {base:#06x}")
