"""Outlook data files (``.pst``, and ``.ost``, the offline copy of a mailbox, in the same
format [MS-PST]): what e-discovery exports a mailbox as. Repacked by Plan into a ZIP, stored,
of the mailbox's messages and their attachments, which is then planned and read as any ZIP
archive of files (docproc.extract.archive), as a 7z or a tar is:

- each message as ``Inbox/00012 Lease renewal.eml``: its sender, recipients, date and subject
  as an e-mail's header, and its body (plain text, else its HTML or compressed RTF as text:
  docproc.extract.outlook's rules for an Outlook message);
- each file attached to it beside it, as ``Inbox/00012 Lease renewal/lease.pdf``, so that a
  large PDF is read page range by page range as any archived PDF is, not inside one message.

Folders are those under the mailbox's top (Outlook's "Top of Personal Folders", the IPM
subtree its message store names); search folders and Outlook's own (views, free/busy data)
are left out. Messages are numbered in each folder in the order its contents table lists them.

Why repack: a PST is a database of nodes and blocks, a message's parts scattered through the
file; libpff (libpff-python, C) reads it through its B-trees, from a file on disk (Plan copies
the upload to its disk). libpff holds an attachment's bytes from the moment it opens it:
attachments are opened one at a time and let go before the next (Plan's memory grows by the
largest attachment, not by a message's or the mailbox's). A password on a PST is a property
Outlook checks, not encryption: the file is read as any other. A message attached to a
message (an embedded item; libpff-python does not open one), a file attached by reference
and an OLE object are named in the message's text, not read.
"""

from __future__ import annotations

import binascii
import datetime
import email.policy
import email.utils
import mimetypes
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from docproc.errors import InvalidDocument
from docproc.extract.archive import Repacked, UnpackBound, safe_name, unique_name
from docproc.extract.outlook import (
    attachment_name,
    body_text,
    codepage_name,
    filetime,
    message_fields,
)
from docproc.observability import logger

# What libpff-python raises on a damaged file (IOError; MemoryError where it could not build
# an item from what it read).
_PST_ERRORS = (OSError, MemoryError, ValueError, TypeError, OverflowError)
# Property types and ids ([MS-OXPROPS]).
_UNICODE, _STRING8 = 0x001F, 0x001E
_INTERNET_CODEPAGE, _MESSAGE_CODEPAGE = 0x3FDE, 0x3FFD
_SUBJECT = 0x0037
_IPM_SUBTREE_ENTRYID = 0x35E0
_ATTACH_METHOD = 0x3705
_ATTACH_MIME_TAG = 0x370E
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_BY_VALUE, _EMBEDDED_MESSAGE = 1, 5
_UNKNOWN = "application/octet-stream"
_BLOCK = 1 << 20
# A message's file name: its number in the folder, then its subject, cut to this many
# characters (Windows' path limit is 260 for the whole path).
_SUBJECT_CHARACTERS = 60
# A field written as it is up to this many characters (a line may hold 998); others through
# the policy's header classes, which parse it (addresses too) to encode and fold it.
_UNFOLDED = 900
_FOLDING = email.policy.SMTP.clone(refold_source="all")


def repack(source: IO[bytes], target: IO[bytes], bound: UnpackBound) -> Repacked:
    """Write the messages of the PST ``source`` (a seekable file) and their attachments to
    ``target`` as a stored ZIP (see the module docstring), each size taken by ``bound``
    before it is written. InvalidDocument for a damaged file or a bomb; SegmentBudgetExceeded
    past the bound."""
    import pypff

    pst = pypff.file()
    with _read_errors():
        pst.open_file_object(source)
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zipped:
            written = 0
            for path, folder in _folders(pst):
                written += _repack_folder(path, folder, zipped, bound)
    finally:
        pst.close()
    return Repacked(files=written, size=target.tell())


def _folders(pst: Any) -> Iterator[tuple[str, Any]]:
    """Each folder under the mailbox's top with its path ("Inbox/Clients"), depth first."""
    with _read_errors():
        top = _ipm_subtree(pst) or pst.get_root_folder()
    if top is None:
        raise InvalidDocument("an Outlook data file without its root folder")
    stack: list[tuple[str, Any]] = [("", top)]
    while stack:
        path, folder = stack.pop()
        if path:
            yield path, folder
        try:
            with _read_errors():
                children = _sub_folders(folder)
        except InvalidDocument as exc:
            # A damaged folder: its messages are still read, the other folders too.
            logger.warning("a folder's sub-folders could not be listed", extra={"reason": str(exc)})
            children = []
        taken: set[str] = set()  # (two sub-folders of one name get paths of their own)
        named = [(_folder_path(path, child, taken), child) for child in children]
        stack.extend(reversed(named))


def _ipm_subtree(pst: Any) -> Any | None:
    """The folder the message store names as the mailbox's top, None if it names none (or
    is damaged: the folders under the root are read then)."""
    try:
        store = pst.get_message_store()
        entry_id = _Properties(store.get_record_set(0)).binary(_IPM_SUBTREE_ENTRYID)
        if not entry_id or len(entry_id) < 24:
            return None
        nid = int.from_bytes(entry_id[20:24], "little")  # flags (4), provider (16), node
        folders = [pst.get_root_folder()]
        while folders:
            folder = folders.pop()
            if folder.identifier == nid:
                return folder
            folders += _sub_folders(folder)
    except (*_PST_ERRORS, AttributeError):
        pass
    return None


def _sub_folders(folder: Any) -> list[Any]:
    children = (folder.get_sub_folder(i) for i in range(folder.number_of_sub_folders))
    return [child for child in children if child is not None]


def _folder_path(parent: str, folder: Any, taken: set[str]) -> str:
    try:
        with _read_errors():
            stated = folder.name or ""
    except InvalidDocument:
        stated = ""  # (a damaged name: the folder is read all the same)
    name = unique_name(safe_name(stated) or "(unnamed folder)", taken)
    return f"{parent}/{name}" if parent else name


def _repack_folder(path: str, folder: Any, zipped: zipfile.ZipFile, bound: UnpackBound) -> int:
    written = 0
    try:
        with _read_errors():
            count = folder.number_of_sub_messages
    except InvalidDocument as exc:
        logger.warning("a folder's messages could not be listed", extra={"reason": str(exc)})
        return 0
    for number in range(count):
        try:
            with _read_errors():
                message = folder.get_sub_message(number)
                properties = _Properties(message.get_record_set(0), message)
                stem = _message_stem(path, number + 1, properties)
        except InvalidDocument as exc:
            # One damaged message: the rest of the mailbox is still read.
            logger.warning("a message of the mailbox could not be read", extra={"reason": str(exc)})
            continue
        # Its files first, beside where it goes: the message refers to each by its path.
        attached = _repack_attachments(message, stem, zipped, bound)
        written += sum(file.path is not None for file in attached)
        try:
            with _read_errors():
                fields, body = message_fields(properties), _body(properties)
        except InvalidDocument as exc:
            logger.warning("a message of the mailbox could not be read", extra={"reason": str(exc)})
            continue
        # (outside the reading's errors: a fault here is docproc's, not the file's)
        mail = _email(fields, body, attached)
        bound.add(len(mail))
        zipped.writestr(zipfile.ZipInfo(f"{stem}.eml"), mail)
        written += 1
    return written


@dataclass(frozen=True)
class _Attached:
    """A file attached to a message: its name, where it was copied (None: named only) and
    its type."""

    name: str
    path: str | None
    media_type: str


def _repack_attachments(
    message: Any, stem: str, zipped: zipfile.ZipFile, bound: UnpackBound
) -> list[_Attached]:
    """The message's files attached by value, copied into the ZIP under ``stem``."""
    attached: list[_Attached] = []
    names: set[str] = set()
    for attachment_number in range(_attachment_count(message)):
        # One at a time, let go before the next: libpff holds an attachment's data whole
        # from the moment it opens it.
        try:
            with _read_errors():
                attachment = message.get_attachment(attachment_number)
                found = _attached_file(attachment)
        except InvalidDocument as exc:
            logger.warning("an attachment could not be read", extra={"reason": str(exc)})
            continue
        name, size, media_type, by_value = found
        if by_value:
            bound.add(size)
            path = f"{stem}/{unique_name(name, names)}"
            _copy(attachment, size, zipped, path)
            attached.append(_Attached(name, path, media_type))
        else:
            attached.append(_Attached(name, None, media_type))
        attachment = None
    return attached


def _attachment_count(message: Any) -> int:
    try:
        with _read_errors():
            return int(getattr(message, "number_of_attachments", 0))  # (a contact has none)
    except InvalidDocument as exc:
        logger.warning("a message's attachments could not be listed", extra={"reason": str(exc)})
        return 0


def _message_stem(path: str, number: int, properties: _Properties) -> str:
    subject = safe_name(properties.text(_SUBJECT))[:_SUBJECT_CHARACTERS].strip()
    return f"{path}/{number:05d} {subject}".rstrip()


def _body(properties: _Properties) -> str:
    """The message's body as text; none where it cannot be read (a damaged compressed RTF
    body: the rest of the message is kept)."""
    try:
        return body_text(properties)
    except InvalidDocument as exc:
        logger.warning("a message's body could not be read", extra={"reason": str(exc)})
        return ""


def _email(fields: dict[str, str], body: str, attached: list[_Attached]) -> bytes:
    """The message as an e-mail: its header ``fields`` (as an Outlook message gives them), its
    ``body`` as text, and each file attached as a reference to where it lies in the archive
    (message/external-body, RFC 2046: named in the message's text, read on its own).

    Written here, not built as an EmailMessage: that parses every field it is given and took
    2.8 ms a message (half of repacking a mailbox of small messages); the standard library
    still folds and encodes every field outside ASCII, and every parameter (RFC 2231)."""
    lines = [_field(name, value) for name, value in fields.items() if value.strip()]
    text = binascii.b2a_qp(body.encode() + b"\n", header=False)
    part = (
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + text
    )
    if not attached:
        return b"".join(lines) + b"MIME-Version: 1.0\r\n" + part
    # "=_" never begins a line of quoted-printable text ("=" there is followed by hex digits)
    boundary = b"=_docproc_" + uuid.uuid4().hex.encode()
    parts = [part]
    for file in attached:
        # Where it lies in the archive, or (not copied) an access type no reader can follow.
        access = (
            b"access-type=local-file; " + _parameter("name", file.path)
            if file.path is not None
            else b"access-type=x-not-copied"
        )
        parts.append(
            b"Content-Type: message/external-body; "
            + access
            + b"\r\nContent-Disposition: attachment; "
            + _parameter("filename", file.name)
            + b"\r\n\r\nContent-Type: "
            + file.media_type.encode()
            + b"\r\n\r\n"
        )
    return (
        b"".join(lines)
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
        + b"--"
        + boundary
        + b"--\r\n"
    )


def _field(name: str, value: str) -> bytes:
    """A header field's line(s): as it is in ASCII, else folded and encoded (RFC 2047) by the
    standard library's SMTP policy, which parses addresses to encode their names alone."""
    value = " ".join(value.split())
    if value.isascii() and len(value) < _UNFOLDED:
        return f"{name}: {value}\r\n".encode()
    return _FOLDING.fold_binary(name, value)


def _parameter(name: str, value: str) -> bytes:
    """A MIME parameter, encoded as RFC 2231 says (any character: quotes, slashes, accents)."""
    return f"{name}*={email.utils.encode_rfc2231(value, 'utf-8')}".encode()


def _attached_file(attachment: Any) -> tuple[str, int, str, bool]:
    """An attachment's name, size and type (its stated MIME type, else its name's), and
    whether its bytes are here to copy: not for a message of its own (libpff-python does not
    open one), a file attached by reference or an OLE object, which are named only."""
    properties = _Properties(attachment.get_record_set(0))
    name = safe_name(attachment_name(properties)) or "attachment"
    method = properties.number(_ATTACH_METHOD)
    if method == _EMBEDDED_MESSAGE:
        return name, 0, "message/rfc822", False
    stated = properties.text(_ATTACH_MIME_TAG).strip().lower()
    media_type = stated if _MIME_TYPE.fullmatch(stated) else mimetypes.guess_type(name)[0]
    by_value = method in (None, _BY_VALUE)
    return name, attachment.get_size() if by_value else 0, media_type or _UNKNOWN, by_value


def _copy(attachment: Any, size: int, zipped: zipfile.ZipFile, path: str) -> None:
    """The attachment's bytes into the ZIP a block at a time; what there is of them if its
    blocks are damaged part way (the file's reading then says so)."""
    with zipped.open(zipfile.ZipInfo(path), "w") as out:
        try:
            with _read_errors():
                attachment.seek_offset(0, 0)
            left = size
            while left > 0:
                with _read_errors():
                    block = attachment.read_buffer(min(_BLOCK, left))
                if not block:
                    break
                out.write(block)
                left -= len(block)
        except InvalidDocument as exc:
            logger.warning("an attachment was cut short", extra={"reason": str(exc)})


class _Properties:
    """A message's, recipient's or attachment's MAPI properties: one of libpff's record sets
    (docproc.extract.outlook.MapiProperties)."""

    def __init__(self, record_set: Any, message: Any = None) -> None:
        self._set, self._message = record_set, message
        self._codepage = codepage_name(
            self.number(_INTERNET_CODEPAGE) or self.number(_MESSAGE_CODEPAGE)
        )

    def _entry(self, prop: int) -> Any:
        return self._set.get_entry_by_type(prop) if self._set is not None else None

    def text(self, prop: int) -> str:
        entry = self._entry(prop)
        if entry is None or entry.value_type not in (_UNICODE, _STRING8):
            return ""
        data = entry.data or b""
        if entry.value_type == _UNICODE:
            return data.decode("utf-16-le", errors="replace").rstrip("\x00")
        return data.decode(self.codepage(), errors="replace").rstrip("\x00")

    def number(self, prop: int) -> int | None:
        entry = self._entry(prop)
        if entry is None or entry.value_type not in (0x0002, 0x0003):
            return None
        return int.from_bytes((entry.data or b"")[:4], "little", signed=True)

    def time(self, prop: int) -> datetime.datetime | None:
        entry = self._entry(prop)
        if entry is None or entry.value_type != 0x0040 or len(entry.data or b"") != 8:
            return None
        return filetime(int.from_bytes(entry.data, "little"))

    def binary(self, prop: int) -> bytes | None:
        entry = self._entry(prop)
        return None if entry is None or entry.value_type != 0x0102 else bytes(entry.data or b"")

    def codepage(self) -> str:
        return self._codepage or "cp1252"

    def recipients(self) -> Sequence[_Properties]:
        table = getattr(self._message, "recipients", None)
        if table is None:
            return []
        return [_Properties(table.get_record_set(i)) for i in range(table.number_of_record_sets)]


@contextmanager
def _read_errors() -> Iterator[None]:
    """The file's damage, typed (only around reading it: the ZIP's own writes fail as they
    are)."""
    try:
        yield
    except _PST_ERRORS as exc:
        raise InvalidDocument(f"damaged Outlook data file: {type(exc).__name__}") from exc
