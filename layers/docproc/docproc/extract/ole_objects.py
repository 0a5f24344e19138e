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

