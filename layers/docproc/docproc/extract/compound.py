"""OLE compound files ([MS-CFB], version 3) written from streams: an OLE object an Outlook
message holds as a storage of its own (a Word document, a workbook pasted into a message written
in rich text) made a file of its own, which docproc then reads as that kind of file; and the
tests' files of formats stored in them. olefile reads compound files but cannot make one.

Streams under 4,096 bytes go in the mini stream, as the format requires; a storage's children
are a chain of right siblings in the format's order (a valid search tree; readers do not check
the red-black colouring)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import olefile

_SECTOR = 512
_MINI_SECTOR = 64
_MINI_CUTOFF = 4096
_FREE, _END, _FAT_SECTOR, _DIFAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
_NONE = 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    start: int = _END
    left: int = _NONE
    right: int = _NONE
    child: int = _NONE


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file holding ``streams`` ("storage/stream": bytes); storages are made for
    the paths' folders."""
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        *folders, name = path.split("/")
        storage = root
        for folder in folders:
            storage = storage.children.setdefault(folder, _Entry(folder, _STORAGE))
        storage.children[name] = _Entry(name, _STREAM, data)
    entries = _numbered(root)
    mini_stream, mini_fat = bytearray(), []
    for entry in entries:
        if entry.kind == _STREAM and len(entry.data) < _MINI_CUTOFF and entry.data:
            entry.start = len(mini_stream) // _MINI_SECTOR
            count = math.ceil(len(entry.data) / _MINI_SECTOR)
            mini_fat += [*range(entry.start + 1, entry.start + count), _END]
            mini_stream += entry.data.ljust(count * _MINI_SECTOR, b"\x00")
    # Sectors after the header: directory, mini FAT, mini stream, large streams, then the FAT.
    directory = b"".join(_directory_entry(entry, len(mini_stream)) for entry in entries)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    chains: list[tuple[bytes, _Entry | None]] = [
        (directory, None),
        (mini_fat_bytes, None),
        (bytes(mini_stream), root),
    ]
    chains += [(e.data, e) for e in entries if e.kind == _STREAM and len(e.data) >= _MINI_CUTOFF]
    # The sectors' bytes, joined once at the end: a large stream is copied only there.
    body: list[bytes] = []
    fat: list[int] = []
    starts: list[int] = []
    for data, owner in chains:
        count = math.ceil(len(data) / _SECTOR)
        start = len(fat) if count else _END
        starts.append(start)
        if owner is not None:
            owner.start = start
        fat += [*range(start + 1, start + count), _END] if count else []
        body += [data, b"\x00" * (count * _SECTOR - len(data))]
    # The FAT, then the DIFAT sectors that list FAT sectors past the header's 109, at the end:
    # each counts in the FAT itself.
    per_sector = _SECTOR // 4
    fat_sectors, difat_sectors = 1, 0
    while fat_sectors * per_sector < len(fat) + fat_sectors + difat_sectors:
        fat_sectors += 1
        difat_sectors = math.ceil(max(0, fat_sectors - 109) / (per_sector - 1))
    first_fat = len(fat)
    fat_ids = [*range(first_fat, first_fat + fat_sectors)]
    difat_ids = [*range(first_fat + fat_sectors, first_fat + fat_sectors + difat_sectors)]
    fat += [_FAT_SECTOR] * fat_sectors + [_DIFAT_SECTOR] * difat_sectors
    fat += [_FREE] * (fat_sectors * per_sector - len(fat))
    difat = bytearray()
    rest = fat_ids[109:]
    for number in range(len(difat_ids)):
        listed = rest[number * (per_sector - 1) : (number + 1) * (per_sector - 1)]
        following = difat_ids[number + 1] if number + 1 < len(difat_ids) else _END
        listed += [_FREE] * (per_sector - 1 - len(listed))
        difat += struct.pack(f"<{per_sector}I", *listed, following)
    # The directory was written before the streams' starts were known: write it again.
    body[0] = b"".join(_directory_entry(entry, len(mini_stream)) for entry in entries)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\x00" * 16,
        0x003E,
        3,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,
        fat_sectors,
        starts[0],
        0,
        _MINI_CUTOFF,
        starts[1] if mini_fat else _END,
        math.ceil(len(mini_fat_bytes) / _SECTOR),
        difat_ids[0] if difat_ids else _END,
        difat_sectors,
    )
    in_header = fat_ids[:109]
    header += struct.pack("<109I", *in_header, *[_FREE] * (109 - len(in_header)))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return b"".join([header, *body, fat_bytes, bytes(difat)])


def _numbered(root: _Entry) -> list[_Entry]:
    """Every entry, the root first; each storage's children chained as right siblings in the
    format's order (shorter names first, then by their upper case)."""
    entries = [root]
    pending = [root]
    while pending:
        storage = pending.pop()
        children = sorted(storage.children.values(), key=lambda e: (len(e.name), e.name.upper()))
        if not children:
            continue
        first = len(entries)
        storage.child = first
        for offset, child in enumerate(children):
            child.right = first + offset + 1 if offset + 1 < len(children) else _NONE
        entries += children
        pending += [child for child in children if child.kind == _STORAGE]
    return entries


def _directory_entry(entry: _Entry, mini_stream_size: int) -> bytes:
    name = (entry.name + "\x00").encode("utf-16-le")
    size = mini_stream_size if entry.kind == _ROOT else len(entry.data)
    start = entry.start if entry.kind != _STORAGE and size else _END
    if entry.kind == _STORAGE:
        start, size = 0, 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name.ljust(64, b"\x00"),
        len(name),
        entry.kind,
        1,  # black
        entry.left,
        entry.right,
        entry.child,
        b"\x00" * 16,
        0,
        0,
        0,
        start,
        size,
    )


def storage_streams(ole: olefile.OleFileIO, storage: str) -> dict[str, bytes]:
    """The streams under ``storage`` ("a/b"; "" for the whole file) of the open compound file
    ``ole``, by their paths within it: what ``compound_file`` makes a file of its own (an OLE
    object a document or a message holds in a storage). Raises what olefile raises on a
    damaged file (OLE_ERRORS)."""
    prefix = storage.split("/") if storage else []
    return {
        "/".join(path[len(prefix) :]): bytes(ole.openstream(path).read())
        for path in ole.listdir(streams=True, storages=False)
        if path[: len(prefix)] == prefix and len(path) > len(prefix)
    }


def storage_size(ole: olefile.OleFileIO, storage: str) -> int:
    """The bytes of the streams under ``storage`` ("a/b") of the open compound file ``ole``:
    what a file of its own (storage_file) holds, before it is made."""
    return sum(
        ole.get_size(path)
        for path in ole.listdir(streams=True, storages=False)
        if "/".join(path).startswith(storage + "/")
    )


def storage_file(ole: olefile.OleFileIO, storage: str) -> bytes:
    """The storage ``storage`` of the open compound file ``ole`` made a compound file of its
    own (an OLE object a document keeps in a storage). Raises OLE_ERRORS on a damaged file."""
    return compound_file(storage_streams(ole, storage))
