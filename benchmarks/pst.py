"""Outlook data files (``.pst``, [MS-PST], the Unicode format Outlook 2003 and later write)
written from folders of messages, for the PST reader's tests and benchmark: nothing
installable here writes one.

What a reader walks is written, no more: the header, the node and block B-trees, each folder's
property context and its hierarchy and contents tables, each message's property context with
its recipient and attachment tables, and each attachment's; values too large for a heap go to
subnodes (in blocks, through XBLOCKs past one). No allocation maps (the header says they are
not valid, which tells Outlook to rebuild them), no name-to-id map, no encryption. Each heap
is one block: a table holds a few hundred rows at most (ValueError past that)."""

from __future__ import annotations

import datetime
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

# Node id types ([MS-PST] 2.2.2.1) and the fixed nodes.
_FOLDER, _MESSAGE, _ATTACHMENT, _LTP = 0x02, 0x04, 0x05, 0x1F
_MESSAGE_STORE, _ROOT_FOLDER = 0x21, 0x122
_HIERARCHY, _CONTENTS, _ASSOCIATED = 11, 12, 13  # added to a folder's nid
_RECIPIENT_TABLE, _ATTACHMENT_TABLE = 0x692, 0x671
# Property types.
_BOOLEAN, _LONG, _SYSTIME, _UNICODE, _BINARY = 0x000B, 0x0003, 0x0040, 0x001F, 0x0102
_STRING8 = 0x001E  # 8-bit text in the message's code page
_OBJECT = 0x000D  # an attached item: its node and size
_FIXED = {_BOOLEAN: 1, _LONG: 4, _SYSTIME: 8}
_BLOCK_DATA = 8176
_HEAP_VALUE = 3580  # the largest heap allocation; larger values go to subnodes
_DATA_START = 0x4600
_PAGE = 512


@dataclass
class Recipient:
    name: str
    address: str
    kind: int = 1  # 1 To, 2 Cc, 3 Bcc


@dataclass
class Attachment:
    name: str
    data: bytes | Message  # a message: attached as an item of its own (method 5)
    mime_type: str = ""


@dataclass
class Message:
    subject: str
    body: str = ""
    html: bytes | None = None
    sender_name: str = ""
    sender_address: str = ""
    recipients: list[Recipient] = field(default_factory=list)
    sent: datetime.datetime | None = None
    attachments: list[Attachment] = field(default_factory=list)
    message_class: str = "IPM.Note"
    # Its subject, sender's name and body as 8-bit strings in this Windows code page (as
    # Outlook 97-2002 wrote them), not UTF-16.
    codepage: int | None = None


@dataclass
class Folder:
    name: str
    messages: list[Message] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)


def pst_file(
    folders: list[Folder], outside: list[Folder] | None = None, store_name: str = "Personal Folders"
) -> bytes:
    """A PST whose root holds "Top of Personal Folders" (the mailbox's top, which holds
    ``folders``) and the folders ``outside`` it (Outlook keeps its own there)."""
    writer = _Writer()
    top = Folder("Top of Personal Folders", folders=folders)
    root = Folder("", folders=[top, *(outside or [])])
    top_nid, *_ = writer.folder(root, _ROOT_FOLDER, _ROOT_FOLDER)
    # The store names the mailbox's top (the IPM subtree) by an entry id: flags, the store's
    # provider id, then the folder's node id.
    subtree = bytes(4) + b"docproc-test-pst" + struct.pack("<I", top_nid)
    store = {0x3001: (_UNICODE, store_name), 0x35E0: (_BINARY, subtree)}
    writer.node(_MESSAGE_STORE, writer.block(_property_context(store)), 0)
    return writer.file()


def _crc(data: bytes) -> int:
    """[MS-PST]'s CRC: CRC-32's table, begun at 0, not inverted at the end."""
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def _signature(offset: int, bid: int) -> int:
    value = offset ^ bid
    return ((value >> 16) ^ value) & 0xFFFF


class _Writer:
    def __init__(self) -> None:
        self._out = bytearray(_DATA_START)
        self._blocks: list[tuple[int, int, int]] = []  # bid, offset, size
        self._nodes: list[tuple[int, int, int, int]] = []  # nid, data bid, subnode bid, parent
        self._next_bid = 4
        self._next_page = 1
        self._next_index = {_FOLDER: 0x400, _MESSAGE: 0x400}

    def nid(self, kind: int) -> int:
        index = self._next_index[kind]
        self._next_index[kind] = index + 1
        return index << 5 | kind

    def node(self, nid: int, bid: int, parent: int, subnodes: int = 0) -> None:
        self._nodes.append((nid, bid, subnodes, parent))

    def block(self, data: bytes, internal: bool = False) -> int:
        assert len(data) <= _BLOCK_DATA
        bid = self._next_bid | (2 if internal else 0)
        self._next_bid += 4
        offset = len(self._out)
        trailer = struct.pack("<HHIQ", len(data), _signature(offset, bid), _crc(data), bid)
        padded = (len(data) + 16 + 63) // 64 * 64
        self._out += data.ljust(padded - 16, b"\x00") + trailer
        self._blocks.append((bid, offset, len(data)))
        return bid

    def data_tree(self, data: bytes) -> int:
        """A value of any size: one block, or an XBLOCK (an XXBLOCK past ~8 MB) of blocks."""
        if len(data) <= _BLOCK_DATA:
            return self.block(data)
        bids = [self.block(data[at : at + _BLOCK_DATA]) for at in range(0, len(data), _BLOCK_DATA)]
        per_xblock = (_BLOCK_DATA - 8) // 8
        if len(bids) <= per_xblock:
            return self.block(_array(1, bids, len(data)), internal=True)
        xblocks = []
        for at in range(0, len(bids), per_xblock):
            part = bids[at : at + per_xblock]
            size = min(len(data), (at + per_xblock) * _BLOCK_DATA) - at * _BLOCK_DATA
            xblocks.append(self.block(_array(1, part, size), internal=True))
        return self.block(_array(2, xblocks, len(data)), internal=True)

    def subnode_block(self, entries: list[tuple[int, int, int]]) -> int:
        """An SLBLOCK of (nid, data bid, subnode bid), sorted by nid."""
        if not entries:
            return 0
        if len(entries) > (_BLOCK_DATA - 8) // 24:
            raise ValueError("too many subnodes for one SLBLOCK")
        rows = b"".join(struct.pack("<QQQ", *entry) for entry in sorted(entries))
        return self.block(struct.pack("<BBHI", 2, 0, len(entries), 0) + rows, internal=True)

    def folder(self, folder: Folder, nid: int, parent: int) -> list[int]:
        """Write ``folder`` as node ``nid``: the node ids its sub-folders got."""
        children = [(self.nid(_FOLDER), child) for child in folder.folders]
        message_nids = [(self.nid(_MESSAGE), message) for message in folder.messages]
        properties = {
            0x3001: (_UNICODE, folder.name),
            0x3602: (_LONG, len(folder.messages)),
            0x3603: (_LONG, 0),
            0x360A: (_BOOLEAN, bool(children)),
        }
        self.node(nid, self.block(_property_context(properties)), parent)
        hierarchy = [
            {
                0x3001: (_UNICODE, child.name),
                0x3602: (_LONG, len(child.messages)),
                0x3603: (_LONG, 0),
                0x360A: (_BOOLEAN, bool(child.folders)),
                0x67F2: (_LONG, child_nid),
                0x67F3: (_LONG, 0),
            }
            for child_nid, child in children
        ]
        hierarchy_columns = {0x3001: _UNICODE, 0x3602: _LONG, 0x3603: _LONG, 0x360A: _BOOLEAN}
        self.node(nid + _HIERARCHY, self.block(_table(hierarchy_columns, hierarchy)), 0)
        # (the row id and version alone: what a reader needs to find each message; Outlook's
        # own columns, subjects among them, would fill one block's heap at ~100 messages)
        contents = [
            {0x67F2: (_LONG, message_nid), 0x67F3: (_LONG, 0)} for message_nid, _ in message_nids
        ]
        self.node(nid + _CONTENTS, self.block(_table({}, contents)), 0)
        self.node(nid + _ASSOCIATED, self.block(_table({}, [])), 0)
        for message_nid, message in message_nids:
            self.message(message, message_nid, nid)
        for child_nid, child in children:
            self.folder(child, child_nid, nid)
        return [child_nid for child_nid, _ in children]

    def message(self, message: Message, nid: int, parent: int) -> None:
        pc, subnodes = self._message_blocks(message)
        self.node(nid, pc, parent, subnodes)

    def _message_blocks(self, message: Message) -> tuple[int, int]:
        """A message's property context and its subnodes (recipients, attachments): their
        blocks, for a node of the file or a subnode of an attachment."""
        subnodes: list[tuple[int, int, int]] = []
        properties: dict[int, tuple[int, object]] = {
            0x001A: (_UNICODE, message.message_class),
            0x0037: (_UNICODE, message.subject),
            0x0E07: (_LONG, 0x10 if message.attachments else 0),
            0x0E1B: (_BOOLEAN, bool(message.attachments)),
            0x0C1A: (_UNICODE, message.sender_name),
            0x0C1F: (_UNICODE, message.sender_address),
            0x0E04: (
                _UNICODE,
                "; ".join(r.name for r in message.recipients if r.kind == 1),
            ),
            0x1000: (_UNICODE, message.body),
        }
        if message.codepage is not None:
            codec = f"cp{message.codepage}"
            for prop in (0x0037, 0x0C1A, 0x1000):
                properties[prop] = (_STRING8, str(properties[prop][1]).encode(codec))
            properties[0x3FFD] = (_LONG, message.codepage)
        if message.html is not None:
            properties[0x1013] = (_BINARY, message.html)
            properties[0x3FDE] = (_LONG, 65001)
        if message.sent is not None:
            properties[0x0039] = (_SYSTIME, message.sent)
            properties[0x0E06] = (_SYSTIME, message.sent)
        heap = _property_context(properties, self._spill(subnodes))
        recipients = [
            {
                0x0C15: (_LONG, recipient.kind),
                0x3001: (_UNICODE, recipient.name),
                0x3002: (_UNICODE, "SMTP"),
                0x3003: (_UNICODE, recipient.address),
                0x39FE: (_UNICODE, recipient.address),
                0x67F2: (_LONG, row),
                0x67F3: (_LONG, 0),
            }
            for row, recipient in enumerate(message.recipients)
        ]
        columns = {0x0C15: _LONG, 0x3001: _UNICODE, 0x3002: _UNICODE, 0x3003: _UNICODE}
        columns[0x39FE] = _UNICODE
        subnodes.append((_RECIPIENT_TABLE, self.block(_table(columns, recipients)), 0))
        rows = []
        for number, attachment in enumerate(message.attachments):
            attachment_nid = (0x400 + number) << 5 | _ATTACHMENT
            own: list[tuple[int, int, int]] = []
            if isinstance(attachment.data, Message):
                # An item of its own: a subnode holding its blocks, named by PtypObject's
                # (node, size) ([MS-PST] 2.3.3.5)
                inner = (0x7000 + len(own)) << 5 | _MESSAGE
                pc, inner_subnodes = self._message_blocks(attachment.data)
                own.append((inner, pc, inner_subnodes))
                method, size, data = 5, 0, (_OBJECT, struct.pack("<II", inner, 0))
            else:
                size = len(attachment.data)
                method, data = 1, (_BINARY, attachment.data)
            attached = {
                0x0E20: (_LONG, size),
                0x3001: (_UNICODE, attachment.name),
                0x3701: data,
                0x3704: (_UNICODE, attachment.name[:12]),
                0x3705: (_LONG, method),
                0x3707: (_UNICODE, attachment.name),
                0x370B: (_LONG, -1),
            }
            if attachment.mime_type:
                attached[0x370E] = (_UNICODE, attachment.mime_type)
            pc = self.block(_property_context(attached, self._spill(own)))
            subnodes.append((attachment_nid, pc, self.subnode_block(own)))
            rows.append(
                {
                    0x0E20: (_LONG, size),
                    0x3704: (_UNICODE, attachment.name[:12]),
                    0x3705: (_LONG, method),
                    0x370B: (_LONG, -1),
                    0x67F2: (_LONG, attachment_nid),
                    0x67F3: (_LONG, 0),
                }
            )
        if rows:
            columns = {0x0E20: _LONG, 0x3704: _UNICODE, 0x3705: _LONG, 0x370B: _LONG}
            subnodes.append((_ATTACHMENT_TABLE, self.block(_table(columns, rows)), 0))
        return self.block(heap), self.subnode_block(subnodes)

    def _spill(self, subnodes: list[tuple[int, int, int]]) -> Callable[[bytes], int]:
        """What stores a value too large for a heap: a subnode of its own."""

        def spill(value: bytes) -> int:
            nid = (0x400 + len(subnodes)) << 5 | _LTP
            subnodes.append((nid, self.data_tree(value), 0))
            return nid

        return spill

    def file(self) -> bytes:
        nbt = self._tree(
            0x81,
            32,
            [
                (nid, struct.pack("<QQQII", nid, bid, sub, parent, 0))
                for nid, bid, sub, parent in sorted(self._nodes)
            ],
        )
        bbt = self._tree(
            0x80,
            24,
            [
                (bid, struct.pack("<QQHHI", bid, offset, size, 2, 0))
                for bid, offset, size in sorted(self._blocks)
            ],
        )
        header = bytearray(564)
        header[0:4] = b"!BDN"
        struct.pack_into("<2sHHBB", header, 8, b"SM", 23, 19, 1, 1)
        struct.pack_into("<Q", header, 32, self._next_page)  # bidNextP
        struct.pack_into("<I", header, 40, 0x5EED)  # dwUnique
        struct.pack_into("<32I", header, 44, *([0x400] * 32))  # nid high-water marks
        struct.pack_into("<IQQQQ", header, 180, 0, len(self._out), 0, 0, 0)
        struct.pack_into("<QQQQ", header, 216, *nbt, *bbt)  # BREFs: bid, offset
        header[248] = 0  # the allocation maps are not valid
        header[256:512] = b"\xff" * 256
        header[512] = 0x80
        header[513] = 0  # no encryption
        struct.pack_into("<Q", header, 516, self._next_bid)  # bidNextB
        struct.pack_into("<I", header, 4, _crc(bytes(header[8 : 8 + 471])))
        struct.pack_into("<I", header, 524, _crc(bytes(header[8 : 8 + 516])))
        self._out[0:564] = header
        return bytes(self._out)

    def _tree(self, page_type: int, size: int, entries: list[tuple[int, bytes]]) -> tuple[int, int]:
        """A B-tree of pages over (key, entry) sorted by key: its root's (bid, offset)."""
        level, per_page = 0, 488 // size
        while True:
            pages = []
            for at in range(0, max(len(entries), 1), per_page):
                part = entries[at : at + per_page]
                pages.append((part[0][0] if part else 0, self._page(page_type, size, level, part)))
            if len(pages) == 1:
                return pages[0][1]
            entries = [(key, struct.pack("<QQQ", key, *bref)) for key, bref in pages]
            level, size, per_page = level + 1, 24, 488 // 24

    def _page(
        self, page_type: int, size: int, level: int, entries: list[tuple[int, bytes]]
    ) -> tuple[int, int]:
        bid = self._next_page
        self._next_page += 1
        self._out += bytes(-len(self._out) % _PAGE)  # pages lie on 512-byte boundaries
        offset = len(self._out)
        body = b"".join(entry for _, entry in entries).ljust(488, b"\x00")
        body += struct.pack("<BBBBI", len(entries), 488 // size, size, level, 0)
        trailer = struct.pack(
            "<BBHIQ", page_type, page_type, _signature(offset, bid), _crc(body), bid
        )
        self._out += body + trailer
        return bid, offset


def _array(level: int, bids: list[int], size: int) -> bytes:
    return struct.pack(f"<BBHI{len(bids)}Q", 1, level, len(bids), size, *bids)


class _Heap:
    """A heap-on-node in one block: allocations numbered from 1 (HID = index << 5)."""

    def __init__(self) -> None:
        self._allocations: list[bytes] = []

    def set(self, hid: int, data: bytes) -> None:
        self._allocations[(hid >> 5) - 1] = data

    def add(self, data: bytes) -> int:
        if len(data) > _HEAP_VALUE:
            raise ValueError("a heap allocation over 3,580 bytes")
        self._allocations.append(data)
        return len(self._allocations) << 5

    def bytes(self, client: int, root: int) -> bytes:
        body = bytearray(12)
        offsets = []
        for data in self._allocations:
            offsets.append(len(body))
            body += data
        offsets.append(len(body))
        body += bytes(len(body) % 2)  # the page map on a 2-byte boundary
        page_map = struct.pack(f"<HH{len(offsets)}H", len(self._allocations), 0, *offsets)
        struct.pack_into("<HBBII", body, 0, len(body), 0xEC, client, root, 0)
        heap = bytes(body) + page_map
        if len(heap) > _BLOCK_DATA:
            raise ValueError("a heap larger than one block")
        return heap


def _encoded(kind: int, value: object) -> bytes:
    if kind == _UNICODE:
        assert isinstance(value, str)
        return value.encode("utf-16-le")
    if kind in (_BINARY, _STRING8, _OBJECT):
        assert isinstance(value, bytes)
        return value
    if kind == _SYSTIME:
        assert isinstance(value, datetime.datetime)
        epoch = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)
        return struct.pack("<Q", (value - epoch) // datetime.timedelta(microseconds=1) * 10)
    if kind == _BOOLEAN:
        return struct.pack("<B", bool(value))
    assert isinstance(value, int)
    return struct.pack("<i", value)


def _property_context(
    properties: Mapping[int, tuple[int, object]], spill: Callable[[bytes], int] | None = None
) -> bytes:
    """A property context ([MS-PST] 2.3.3): a BTH of (id, type, value or its HNID)."""
    heap = _Heap()
    header_at = heap.add(b"")  # the BTH header, filled in below
    records = []
    for prop, (kind, value) in sorted(properties.items()):
        data = _encoded(kind, value)
        if kind in (_BOOLEAN, _LONG):
            reference = int.from_bytes(data.ljust(4, b"\x00"), "little")
        elif not data:
            reference = 0
        elif len(data) > 1024 and spill is not None:
            reference = spill(data)
        else:
            reference = heap.add(data)
        records.append(struct.pack("<HHI", prop, kind, reference))
    root = heap.add(b"".join(records)) if records else 0
    heap.set(header_at, struct.pack("<BBBBI", 0xB5, 2, 6, 0, root))
    return heap.bytes(0xBC, header_at)


def _table(columns: dict[int, int], rows: list[dict[int, tuple[int, object]]]) -> bytes:
    """A table context ([MS-PST] 2.3.4) with the row id and version columns and ``columns``
    (id: type); each row's values by id."""
    heap = _Heap()
    info_at = heap.add(b"")
    every = {0x67F2: _LONG, 0x67F3: _LONG, **columns}
    # Row layout: 8- and 4-byte cells, then 2-, then 1-byte, then the cell existence bitmap.
    width = {prop: _FIXED.get(kind, 4) for prop, kind in every.items()}
    ordered = sorted(every, key=lambda prop: (-width[prop], prop != 0x67F2, prop != 0x67F3, prop))
    offsets, at = {}, 0
    for prop in ordered:
        offsets[prop] = at
        at += width[prop]
    end_4 = sum(width[p] for p in ordered if width[p] >= 4)
    end_2 = end_4 + sum(width[p] for p in ordered if width[p] == 2)
    end_1 = end_2 + sum(width[p] for p in ordered if width[p] == 1)
    bits = {prop: number for number, prop in enumerate(ordered)}
    row_size = end_1 + -(-len(ordered) // 8)
    matrix = bytearray()
    for row in rows:
        cells = bytearray(row_size)
        for prop, (kind, value) in row.items():
            data = _encoded(kind, value)
            if kind not in _FIXED:
                data = struct.pack("<I", heap.add(data) if data else 0)
            cells[offsets[prop] : offsets[prop] + len(data)] = data
            cells[end_1 + bits[prop] // 8] |= 0x80 >> (bits[prop] % 8)
        matrix += cells
    # The row index: a BTH of (row id, row number), sorted by row id.
    row_ids = [cast(int, row[0x67F2][1]) for row in rows]
    index = b"".join(
        struct.pack("<II", row_id, number)
        for row_id, number in sorted((row_id, n) for n, row_id in enumerate(row_ids))
    )
    index_root = heap.add(index) if index else 0
    index_header = heap.add(struct.pack("<BBBBI", 0xB5, 4, 4, 0, index_root))
    rows_at = heap.add(bytes(matrix)) if matrix else 0
    descriptions = b"".join(
        struct.pack("<HHHBB", every[prop], prop, offsets[prop], width[prop], bits[prop])
        for prop in sorted(every)
    )
    info = struct.pack(
        "<BB4HIII", 0x7C, len(every), end_4, end_2, end_1, row_size, index_header, rows_at, 0
    )
    heap.set(info_at, info + descriptions)
    return heap.bytes(0x7C, info_at)
