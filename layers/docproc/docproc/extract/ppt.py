"""PowerPoint 97-2003 presentations (``.ppt``: a ``PowerPoint Document`` stream of records in
an OLE compound file, [MS-PPT]) as text, each slide a page, as a PPTX's are read
(docproc.extract.pptx). No library on PyPI reads the format; what is read is where the text
is, nothing else:

- the ``Current User`` stream names the last edit; each edit (UserEditAtom) has a persist
  directory mapping persist ids to records' offsets (a later edit's entries win: a file saved
  fast keeps its earlier records), and names the document's record;
- the document lists the slides in their order and their notes (SlideListWithText), with the
  text of their placeholders as PowerPoint stores it there;
- each slide's record holds its shapes (OfficeArt), a text box's text among them, and names
  its notes page.

A slide's text is its title, then the other text top to bottom and left to right (by the
shapes' anchors), then its notes under ``Notes:``. An object a slide embeds (a workbook, a
document, a file packaged as an icon: a shape whose client data names it by its id, which the
document's list of objects maps to a record of its storage, compressed) is read where its
shape stands, as the file it is (docproc.extract.included). Charts are not read. A
presentation encrypted with a password is EncryptedDocument.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.ole_objects import inflated, stated_size
from docproc.extract.pages import PageText
from docproc.extract.sniff import OLE_ERRORS

if TYPE_CHECKING:
    from docproc.extract.included import IncludedFiles

EXTRACTION_METHOD = "ppt"
# Peak memory of reading a presentation per byte of its PowerPoint Document stream, with a
# margin: the stream, and its text (pictures are in their own stream, not read).
MEMORY_FACTOR = 3

_STREAM = "PowerPoint Document"
_ENCRYPTED_TOKEN = 0xF3D1C4DF  # CurrentUserAtom.headerToken of an encrypted presentation
# Record types ([MS-PPT] 2.13.24).
_DOCUMENT, _SLIDE, _NOTES = 0x03E8, 0x03EE, 0x03F0
_SLIDE_ATOM, _SLIDE_PERSIST, _SLIDE_LIST = 0x03EF, 0x03F3, 0x0FF0
_TEXT_HEADER, _TEXT_CHARS, _TEXT_BYTES = 0x0F9F, 0x0FA0, 0x0FA8
_USER_EDIT, _PERSIST_DIRECTORY = 0x0FF5, 0x1772
_SHAPE, _ANCHOR = 0xF004, 0xF010  # OfficeArtSpContainer, its client anchor
_SLIDES, _NOTES_LIST = 0, 2  # SlideListWithText's instance: slides, notes
# TextHeaderAtom.textType: a title or a centred title; "other" (a text box) where none says.
_TITLES, _OTHER = {0, 6}, 4
# Where SlideAtom's notesIdRef is: after its header, layout, placeholders and masterIdRef.
_NOTES_ID_AT = 8 + 4 + 8 + 4
# Texts that say nothing: none, and a field's (a slide number's, a date's) where a page shows it.
_NOTHING = {"", "*"}
_CONTAINER = 0xF
_MAX_DEPTH = 32
# Embedded objects: the document's list of them (ExObjList), each one's container and atom
# (ExOleEmbedContainer, ExOleObjAtom: its id, and its storage's persist id), the record of its
# storage (ExOleObjStg: instance 1 compressed, a size then a zlib stream), and what a shape
# names one by (ExObjRefAtom, in its client data).
_OBJECT_LIST, _OBJECT_EMBED, _OBJECT_ATOM = 0x0409, 0x0FCC, 0x0FC3
_OBJECT_STORAGE, _OBJECT_REFERENCE = 0x1011, 0x0BC1
_COMPRESSED = 1


@dataclass
class _Listed:
    """A slide or notes page as the document lists it: its record's persist id, its slide id,
    and the text of its placeholders stored in the list."""

    persist: int
    slide_id: int
    texts: list[tuple[int, str]] = field(default_factory=list)  # (text type, text)


def slide_texts(
    source: Path | IO[bytes],
    reserve: Callable[[float, str], None] | None = None,
    depth: int = 0,
) -> Iterator[PageText]:
    """Each slide with text of the presentation ``source`` (a path or a seekable file), its
    number that of the slide in the show. ``reserve(mb, reading)`` (the segment's budget) is
    asked for what its records need before they are read; ``depth``: how deep in other files
    the presentation lies (what it embeds is read while that is under mail.MAX_NESTING)."""
    import olefile  # only for compound files

    try:
        with olefile.OleFileIO(source) as ole:
            if reserve is not None:
                size_mb = ole.get_size(_STREAM) / 2**20
                reserve(size_mb * MEMORY_FACTOR, f"a PowerPoint file of {size_mb:.0f} MB")
            current_user = ole.openstream("Current User").read()
            data = ole.openstream(_STREAM).read()
    except OLE_ERRORS as exc:
        raise InvalidDocument(f"not a readable PowerPoint file: {type(exc).__name__}") from exc
    try:
        offsets, document = _persist_directory(current_user, data)
        slides, notes = _slide_lists(data, offsets[document])
        notes_by_id = {page.slide_id: page for page in notes}
        storages = _object_storages(data, offsets[document])
        objects = _EmbeddedObjects(data, offsets, storages, reserve, depth)
        for number, slide in enumerate(slides, start=1):
            text = _page_text(data, offsets, slide, notes_by_id, objects.text)
            if text:
                yield PageText(number=number, text=text)
    except (struct.error, KeyError, IndexError, RecursionError) as exc:
        raise InvalidDocument(f"not a readable PowerPoint file: {type(exc).__name__}") from exc


def _persist_directory(current_user: bytes, data: bytes) -> tuple[dict[int, int], int]:
    """Every persist id's record offset, the last edit's winning, and the document's id."""
    token, edit = struct.unpack_from("<II", current_user, 12)
    if token == _ENCRYPTED_TOKEN:
        raise EncryptedDocument("the PowerPoint file is encrypted with a password")
    offsets: dict[int, int] = {}
    document: int | None = None
    seen: set[int] = set()
    while edit and edit not in seen and len(seen) < 10_000:
        seen.add(edit)
        _, _, kind, length = _header(data, edit)
        if kind != _USER_EDIT:
            raise InvalidDocument("not a readable PowerPoint file: its edits are damaged")
        if length >= 0x20:  # encryptSessionPersistIdRef: the records are encrypted
            raise EncryptedDocument("the PowerPoint file is encrypted with a password")
        previous, directory, document_ref = struct.unpack_from("<III", data, edit + 16)
        document = document if document is not None else document_ref
        _, _, kind, length = _header(data, directory)
        position, end = directory + 8, directory + 8 + length
        while position + 4 <= end:
            (entry,) = struct.unpack_from("<I", data, position)
            first, count = entry & 0xFFFFF, entry >> 20
            position += 4
            for number in range(count):
                (offset,) = struct.unpack_from("<I", data, position)
                offsets.setdefault(first + number, offset)
                position += 4
        edit = previous
    if document is None:
        raise InvalidDocument("not a readable PowerPoint file: no edit is named")
    return offsets, document


def _slide_lists(data: bytes, document: int) -> tuple[list[_Listed], list[_Listed]]:
    """The slides and the notes pages, in the document's order."""
    lists: dict[int, list[_Listed]] = {_SLIDES: [], _NOTES_LIST: []}
    if _header(data, document)[2] != _DOCUMENT:
        raise InvalidDocument("not a readable PowerPoint file: no document record")
    for offset, _, instance, kind, _ in _children(data, document):
        if kind != _SLIDE_LIST or instance not in lists:
            continue
        listed = lists[instance]
        text_type = _OTHER
        for child, _, _, child_kind, child_length in _children(data, offset):
            if child_kind == _SLIDE_PERSIST:
                persist, _, _, slide_id = struct.unpack_from("<IIII", data, child + 8)
                listed.append(_Listed(persist, slide_id))
            elif child_kind == _TEXT_HEADER:
                (text_type,) = struct.unpack_from("<I", data, child + 8)
            elif child_kind in (_TEXT_CHARS, _TEXT_BYTES) and listed:
                listed[-1].texts.append(
                    (text_type, _atom_text(data, child, child_kind, child_length))
                )
    return lists[_SLIDES], lists[_NOTES_LIST]


def _object_storages(data: bytes, document: int) -> dict[int, int]:
    """The persist id of each embedded object's storage, by the object's id, from the
    document's list of objects (linked ones, which have none, left out)."""
    found: dict[int, int] = {}
    for listed, _, _, kind, _ in _children(data, document):
        if kind != _OBJECT_LIST:
            continue
        for embed, _, _, embed_kind, _ in _children(data, listed):
            if embed_kind != _OBJECT_EMBED:
                continue
            for atom, _, _, atom_kind, length in _children(data, embed):
                if atom_kind == _OBJECT_ATOM and length >= 20:
                    object_id, _, persist = struct.unpack_from("<III", data, atom + 16)
                    found[object_id] = persist
    return found


class _EmbeddedObjects:
    """The text of each object the presentation embeds, by its id: its storage's record
    (decompressed, within its stated size) read as the compound file it is (through
    docproc.extract.included, imported for the first object: decks seldom have one)."""

    def __init__(
        self,
        data: bytes,
        offsets: dict[int, int],
        storages: dict[int, int],
        reserve: Callable[[float, str], None] | None,
        depth: int,
    ) -> None:
        self._data, self._offsets, self._storages = data, offsets, storages
        self._reserve, self._depth = reserve, depth
        self._included: IncludedFiles | None = None

    def text(self, object_id: int) -> str:
        record = self._offsets.get(self._storages.get(object_id, -1))
        if record is None:
            return ""
        _, instance, kind, length = _header(self._data, record)
        if kind != _OBJECT_STORAGE:
            return ""
        body = self._data[record + 8 : record + 8 + length]
        if self._included is None:
            from docproc.extract.included import Allowance, IncludedFiles

            self._included = IncludedFiles(self._reserve, self._depth, Allowance.whole())
        if instance != _COMPRESSED:
            return self._included.text(f"object {object_id}", len(body), lambda: body)
        return self._included.text(f"object {object_id}", stated_size(body), lambda: inflated(body))


def _page_text(
    data: bytes,
    offsets: dict[int, int],
    slide: _Listed,
    notes: dict[int, _Listed],
    object_text: Callable[[int], str],
) -> str:
    texts = list(slide.texts)
    shapes: list[tuple[tuple[int, int], int, str]] = []
    notes_id = 0
    record = offsets.get(slide.persist)
    if record is not None and _header(data, record)[2] == _SLIDE:
        for offset, _, _, kind, _ in _children(data, record):
            if kind == _SLIDE_ATOM:
                (notes_id,) = struct.unpack_from("<I", data, offset + _NOTES_ID_AT)
        _shape_texts(data, record, (0, 0), shapes, 0, object_text)
    titles = [text for text_type, text in texts if text_type in _TITLES]
    titles += [text for _, text_type, text in shapes if text_type in _TITLES]
    others = [text for text_type, text in texts if text_type not in _TITLES]
    others += [text for _, text_type, text in sorted(shapes) if text_type not in _TITLES]
    # A placeholder's text is in the slide list, and its shape refers to it; a writer that
    # also stores it in the shape would have it read twice: each text is kept once.
    blocks = list(dict.fromkeys(text for text in titles + others if text not in _NOTHING))
    notes_page = notes.get(notes_id) if notes_id else None
    if notes_page is not None:
        notes_text = _notes_text(data, offsets, notes_page)
        if notes_text:
            blocks.append(f"Notes:\n{notes_text}")
    return "\n\n".join(blocks)


def _notes_text(data: bytes, offsets: dict[int, int], page: _Listed) -> str:
    shapes: list[tuple[tuple[int, int], int, str]] = []
    record = offsets.get(page.persist)
    if record is not None and _header(data, record)[2] == _NOTES:
        _shape_texts(data, record, (0, 0), shapes, 0)
    texts = [text for _, text in page.texts] + [text for _, _, text in sorted(shapes)]
    return "\n".join(text for text in texts if text not in _NOTHING)


def _shape_texts(
    data: bytes,
    container: int,
    anchor: tuple[int, int],
    found: list[tuple[tuple[int, int], int, str]],
    depth: int,
    object_text: Callable[[int], str] | None = None,
) -> None:
    """The text atoms under ``container``, each with its shape's anchor (top, left) and its
    text type, into ``found``; and the text of each object a shape names (``object_text``,
    by its id), as its shape's."""
    if depth > _MAX_DEPTH:
        raise InvalidDocument("not a readable PowerPoint file: its records nest too deep")
    children = list(_children(data, container))
    if _header(data, container)[2] == _SHAPE:
        for offset, _, _, kind, child_length in children:
            if kind == _ANCHOR and child_length >= 8:
                top, left = struct.unpack_from("<hh", data, offset + 8)
                if child_length >= 16:
                    top, left = struct.unpack_from("<ii", data, offset + 8)
                anchor = (top, left)
    text_type = _OTHER
    for offset, version, _, kind, child_length in children:
        if version == _CONTAINER:
            _shape_texts(data, offset, anchor, found, depth + 1, object_text)
        elif kind == _OBJECT_REFERENCE and object_text is not None and child_length >= 4:
            (object_id,) = struct.unpack_from("<I", data, offset + 8)
            found.append((anchor, _OTHER, object_text(object_id)))
        elif kind == _TEXT_HEADER:
            (text_type,) = struct.unpack_from("<I", data, offset + 8)
        elif kind in (_TEXT_CHARS, _TEXT_BYTES):
            found.append((anchor, text_type, _atom_text(data, offset, kind, child_length)))


def _atom_text(data: bytes, offset: int, kind: int, length: int) -> str:
    raw = data[offset + 8 : offset + 8 + length]
    # TextBytesAtom: UTF-16 code units whose high byte is 0, stored without it.
    text = raw.decode("utf-16-le" if kind == _TEXT_CHARS else "latin-1", errors="replace")
    return text.replace("\r", "\n").replace("\x0b", "\n").strip()


def _header(data: bytes, offset: int) -> tuple[int, int, int, int]:
    """A record's (version, instance, type, length) at ``offset``."""
    version_instance, kind, length = struct.unpack_from("<HHI", data, offset)
    return version_instance & 0xF, version_instance >> 4, kind, length


def _children(data: bytes, container: int) -> Iterator[tuple[int, int, int, int, int]]:
    """(offset, version, instance, type, length) of each record in a container's body."""
    length = _header(data, container)[3]
    position, end = container + 8, min(container + 8 + length, len(data))
    while position + 8 <= end:
        version, instance, kind, child_length = _header(data, position)
        yield position, version, instance, kind, child_length
        position += 8 + child_length
