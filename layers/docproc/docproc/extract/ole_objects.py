"""Files an Office document embeds as OLE objects, wrapped in a compound file of their own: a
file packaged by Windows' Packager (an exhibit's PDF, a text file, shown as an icon: its
``\\x01Ole10Native`` stream), a PDF embedded by Acrobat (its ``CONTENTS`` stream), or a workbook,
document or deck of Office 2007 and later embedded where only OLE objects can be (in a message,
an RTF, a DOC: its package in a ``Package`` stream). A workbook or a document of Office 97-2003
embedded by the program that made it is its own compound file (an XLS, a DOC): sniff tells
those.
"""

from __future__ import annotations

import io
import struct
import zlib

from docproc.extract.sniff import OLE_ERRORS, OLE_SIGNATURE

_PACKAGED = "\x01Ole10Native"
_ACROBAT = "CONTENTS"
_OFFICE_PACKAGE = "Package"


def unwrapped(name: str, data: bytes) -> tuple[str, bytes]:
    """The name and bytes of the file the OLE object ``data`` wraps, where it is a compound
    file that wraps one; else ``name`` and ``data`` as they are (a DOC, an XLS, any file)."""
    if data.startswith(OLE_SIGNATURE) and (wrapped := embedded_file(data)) is not None:
        wrapped_name, wrapped_data = wrapped
        return wrapped_name or name, wrapped_data
    return name, data


def embedded_file(data: bytes) -> tuple[str, bytes] | None:
    """The name ("" where the object names none) and bytes of the one file the compound file
    ``data`` wraps, where it wraps one (None otherwise, a damaged one too: its reader says what
    it is)."""
    import olefile  # only for compound files

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists(_PACKAGED):
                return _packaged(ole.openstream(_PACKAGED).read())
            if ole.exists(_ACROBAT):
                contents: bytes = ole.openstream(_ACROBAT).read()
                return ("embedded.pdf", contents) if contents.startswith(b"%PDF") else None
            if ole.exists(_OFFICE_PACKAGE):
                package: bytes = ole.openstream(_OFFICE_PACKAGE).read()
                return ("", package) if package.startswith(b"PK\x03\x04") else None
    except OLE_ERRORS:
        return None
    return None


def _packaged(native: bytes) -> tuple[str, bytes] | None:
    """The file in Packager's native data: its size (4 bytes), a type (2), the file's name and
    its source path (each ends in a NUL), 8 bytes, a temporary path (ends in a NUL), then the
    file's size (4) and bytes. None where it is cut short or links a file instead."""
    try:
        at = 6
        name, at = _string(native, at)
        _, at = _string(native, at)
        _, at = _string(native, at + 8)
        (size,) = struct.unpack_from("<I", native, at)
    except (ValueError, struct.error):
        return None
    data = native[at + 4 : at + 4 + size]
    if len(data) != size:
        return None
    return name.decode("cp1252", "replace") or "embedded", data


def _string(data: bytes, at: int) -> tuple[bytes, int]:
    """A NUL-terminated string at ``at``, and where what follows it begins (ValueError if it
    does not end)."""
    end = data.index(b"\0", at)
    return data[at:end], end + 1


# An OLE 1.0 object's FormatID ([MS-OLEDS] 2.2.4): embedded, its data follows (others: linked).
_EMBEDDED_OBJECT = 2


def ole1_object(data: bytes) -> tuple[str, bytes] | None:
    """The name and bytes of what an OLE 1.0 object embeds ([MS-OLEDS] 2.2.4: an RTF's
    ``\\objdata``): its native data, a compound file for the classes of OLE 2 (a DOC, an XLS, an
    Office package's or a PDF's wrapper: see unwrapped) named by its class, or the file
    Packager's data holds. None for a linked object, one cut short, or one whose data is its
    class's own (an equation: no file docproc reads)."""
    try:
        (format_id,) = struct.unpack_from("<I", data, 4)  # after its OLE version
        class_name, at = _counted_string(data, 8)
        _topic, at = _counted_string(data, at)
        _item, at = _counted_string(data, at)
        if format_id != _EMBEDDED_OBJECT:
            return None
        (size,) = struct.unpack_from("<I", data, at)
    except struct.error:
        return None
    native = data[at + 4 : at + 4 + size]
    if len(native) != size:
        return None
    if class_name == "Package":  # Packager's data, as its OLE 2 stream holds it after its size
        return _packaged(data[at : at + 4 + size])
    if not native.startswith(OLE_SIGNATURE):
        return None  # data of the class's own (an equation's, a picture's): no file
    return class_name, native


def _counted_string(data: bytes, at: int) -> tuple[str, int]:
    """An OLE 1.0 LengthPrefixedAnsiString at ``at`` (its length, NUL included, then its
    characters), and where what follows it begins (struct.error if it is cut short)."""
    (length,) = struct.unpack_from("<I", data, at)
    value = data[at + 4 : at + 4 + length]
    if len(value) != length:
        raise struct.error("cut short")
    return value.rstrip(b"\0").decode("cp1252", "replace"), at + 4 + length


def stated_size(stored: bytes) -> int:
    """The size an object kept compressed states (its first 4 bytes; 0 where it is shorter):
    how PowerPoint and Word 2003 XML keep an object's compound file."""
    return int.from_bytes(stored[:4], "little") if len(stored) >= 4 else 0


def inflated(stored: bytes) -> bytes:
    """The object kept compressed in ``stored`` (its size, then a zlib stream): the stream's
    first stated_size bytes at most. zlib.error where it is damaged."""
    size = stated_size(stored)
    if size <= 0:
        return b""  # (a max_length of 0 would be none: the whole stream, however large)
    return zlib.decompressobj().decompress(stored[4:], size)
