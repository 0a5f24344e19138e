"""ZIP archives of files (a production of exhibits, a client's folder sent zipped): each file
read as that kind of upload is (docproc.extract.mail.file_text: PDFs and the other paged
formats, Office documents, e-mail, pictures, text), under its path in the archive, so it is
found by what it says and a search hit says which file it came from.

Plan cuts the archive into byte ranges between files (its central directory, at the end, says
where each lies: a few ranged reads); a range owns the files whose local header lies in it,
as a mailbox's range owns its messages; a paged file of SEGMENT_BYTES or more Plan unpacks
and cuts into page ranges of its own (large_paged_files, unpack). In a range, a paged file (a
PDF, a book) is decompressed into a temporary file and read from there a page at a time, its
pages numbered as its own; another
kind is held while read, its size x MEMBER_MEMORY_FACTOR asked of the segment's budget before
a byte is decompressed. A file that cannot be read (encrypted, damaged, too large for the
segment's memory or disk, an archive bomb) is named with why, and the rest is read. Folders
and the files operating systems add (macOS's ``__MACOSX/``, ``.DS_Store``, Windows'
``Thumbs.db``) are left out; an archive inside the archive is opened (MAX_NESTED deep), its
files' paths its own path then theirs. A ZIP attached to a message is read the same way
(attached_text).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from docproc.errors import (
    DocprocError,
    EncryptedDocument,
    InvalidDocument,
    SegmentBudgetExceeded,
)
from docproc.extract import sniff
from docproc.extract.mail import file_text, paged_pages, titled_block
from docproc.extract.ocr import OcrOptions
from docproc.extract.packages import PACKAGE_ERRORS
from docproc.extract.pages import PageText, TablesMode

EXTRACTION_METHOD = "archive"
# Memory to read a file held whole, per byte of it (as an e-mail attachment's: its bytes and
# what its reader makes of them).
MEMBER_MEMORY_FACTOR = 4
# A file is decompressed to disk only where this much would stay free beside it.
_DISK_MARGIN = 64 << 20
# A file stated this much larger than it is compressed, and past the floor, is an archive
# bomb (gigabytes of zeros in a few megabytes): documents compress a few times, text logs
# tens of times, not a hundred.
_BOMB_RATIO = 100
_BOMB_FLOOR = 64 << 20
# Files an operating system adds to what it zips: not documents.
_SYSTEM_FOLDERS = {"__MACOSX"}
_SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
_ENCRYPTED_FLAG = 0x1
_UTF8_NAMES = 0x800  # general purpose flag bit 11: the name (and comment) in UTF-8
# Archives inside the archive are opened this deep (a delivery of volumes, each zipped); a
# deeper one is named.
MAX_NESTED = 3
# What zipfile raises on a damaged archive, and a ranged reader on bytes past its end.
_ARCHIVE_ERRORS: tuple[type[Exception], ...] = (*PACKAGE_ERRORS, OSError)

Reserve = Callable[[float, str], None]


@dataclass(frozen=True)
class _Reading:
    """How an archive's files are read: OCR and tables as for an upload; ``reserve`` asks for
    memory before a file is held; ``depth`` is how deep in messages the archive lies (a file
    in it that is a message is read one deeper: mail.MAX_NESTING bounds both)."""

    ocr: OcrOptions
    tables: TablesMode
    reserve: Reserve
    depth: int = 0
    # The segment's check between pages: out of time or memory, the segment fails, not the
    # file (checked inside a file's reading, where a file's own failure is caught).
    check: Callable[[str], None] = lambda stage: None

    def check_segment(self, stage: str) -> None:
        try:
            self.check(stage)
        except SegmentBudgetExceeded as exc:
            raise _SegmentOverBudget(exc) from exc


class _SegmentOverBudget(Exception):
    """The segment's SegmentBudgetExceeded, on its way out of a file's reading (not itself a
    DocprocError: titled_block, which names a file's own failures, lets it pass)."""

    def __init__(self, error: SegmentBudgetExceeded) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class Member:
    """A file in the archive and the bytes it spans there (its local header to the next)."""

    info: zipfile.ZipInfo
    start: int
    end: int

    @property
    def path(self) -> str:
        return self.info.filename


@contextmanager
def opened(source: Path | IO[bytes]) -> Iterator[zipfile.ZipFile]:
    """The archive, its central directory read (a seekable ``source`` will do: only that is
    read until a file is opened)."""
    try:
        archive = zipfile.ZipFile(source)
    except _ARCHIVE_ERRORS as exc:
        raise InvalidDocument(f"damaged ZIP archive: {type(exc).__name__}") from exc
    with archive:
        for info in archive.infolist():
            info.filename = _written_name(info)  # (orig_filename, which zipfile checks, stays)
        yield archive


def _written_name(info: zipfile.ZipInfo) -> str:
    """A file's name as its writer wrote it. zipfile reads a name without the UTF-8 flag as
    CP437, the format's default; Linux's zip and other tools write UTF-8 without setting it
    ("Contrat sign├⌐.pdf"). Bytes that are valid UTF-8 are read so (a CP437 name outside
    ASCII rarely is: its letters are single bytes of 0x80 and over)."""
    if info.flag_bits & _UTF8_NAMES or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def members(archive: zipfile.ZipFile) -> list[Member]:
    """The archive's files, in the order their bytes lie (folders and system files left out).
    Files that share their bytes are InvalidDocument."""
    infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
    # The last file ends where the central directory begins.
    ends = [info.header_offset for info in infos[1:]] + [archive.start_dir]
    for info, end in zip(infos, ends, strict=True):
        if end < info.header_offset + info.compress_size:
            # Its data runs into the next file's: files that share their bytes are how a
            # small archive unpacks to terabytes (an overlapping bomb), and no writer makes them.
            raise InvalidDocument("files in the archive overlap: an archive bomb, not files")
    return [
        Member(info, info.header_offset, end)
        for info, end in zip(infos, ends, strict=True)
        if not info.is_dir() and not _system_file(info.filename)
    ]


def _system_file(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and (
        bool(_SYSTEM_FOLDERS.intersection(parts)) or parts[-1].lower() in _SYSTEM_FILES
    )


def large_paged_files(
    archive: zipfile.ZipFile, files: list[Member], smallest: int
) -> list[tuple[Member, str]]:
    """The paged files (a PDF, a book) of the archive's own, ``smallest`` bytes or more
    unpacked, with the filetype PyMuPDF opens them as: what Plan unpacks and cuts into page
    ranges, as it cuts an upload's. One encrypted, damaged or a bomb is left to the range that
    holds it (which names it with why)."""
    found = []
    for member in files:
        info = member.info
        if info.file_size < smallest or info.flag_bits & _ENCRYPTED_FLAG or _bomb(info):
            continue
        try:
            with _member_errors(), open_member(archive, info) as stream:
                detected = sniff.sniff(stream.read(sniff.SNIFF_BYTES), member.path)
        except DocprocError:
            continue
        if detected.media_type in sniff.PAGED:
            found.append((member, sniff.PAGED[detected.media_type]))
    return found


def unpack(archive: zipfile.ZipFile, member: Member, target: IO[bytes]) -> None:
    """Write ``member``'s bytes, unpacked, to ``target`` (a megabyte at a time)."""
    with _member_errors(), open_member(archive, member.info) as stream:
        shutil.copyfileobj(stream, target, 1 << 20)


# Deflate64 ("enhanced deflate", method 9): what Windows' compressed folders write for large
# files, and zipfile cannot undo; inflate64 (py7zr's own decoder of it) can.
_DEFLATE64 = 9
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then (after 22 bytes) name and extra
_LOCAL_SIGNATURE = b"PK\x03\x04"


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """A file of the archive, as it unpacks: zipfile's reader, or (Deflate64) our own."""
    if info.compress_type != _DEFLATE64:
        return archive.open(info)
    if archive.fp is None:
        raise ValueError("the archive is closed")
    return io.BufferedReader(_Deflate64Member(archive.fp, info), 1 << 20)


class _Deflate64Member(io.RawIOBase):
    """A Deflate64 file's bytes, decompressed as they are read: no more than its stated size
    (as zipfile stops a file there), its CRC checked at its end (zipfile.BadZipFile, as
    zipfile's own readers raise). Reads the archive's file at its own offset each time."""

    def __init__(self, source: IO[bytes], info: zipfile.ZipInfo) -> None:
        import inflate64

        source.seek(info.header_offset)
        signature, name_size, extra_size = _LOCAL_HEADER.unpack(source.read(_LOCAL_HEADER.size))
        if signature != _LOCAL_SIGNATURE:
            raise zipfile.BadZipFile("a file's local header is missing")
        self._source, self._info = source, info
        self._at = info.header_offset + _LOCAL_HEADER.size + name_size + extra_size
        self._packed_left, self._left = info.compress_size, info.file_size
        self._inflater, self._pending, self._crc = inflate64.Inflater(), b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and self._left > 0:
            if self._packed_left <= 0:
                raise zipfile.BadZipFile("a file ends before its stated size")
            self._source.seek(self._at)
            # (16 KiB at a time: what one read can inflate to stays a few MB)
            packed = self._source.read(min(1 << 14, self._packed_left))
            if not packed:
                raise zipfile.BadZipFile("the archive ends inside a file")
            self._at += len(packed)
            self._packed_left -= len(packed)
            self._pending = self._inflater.inflate(packed)
        take = min(len(buffer), self._left, len(self._pending))
        data, self._pending = self._pending[:take], self._pending[take:]
        buffer[:take] = data
        self._left -= len(data)
        self._crc = zlib.crc32(data, self._crc)
        if self._left == 0 and self._crc != self._info.CRC:
            raise zipfile.BadZipFile(f"bad CRC-32 for file {self._info.filename!r}")
        return len(data)


def _bomb(info: zipfile.ZipInfo) -> bool:
    return is_bomb(info.file_size, info.compress_size)


@dataclass(frozen=True)
class Repacked:
    """What repacking an archive into a ZIP wrote: the files, and the ZIP's size."""

    files: int
    size: int


# Archives repacked into a ZIP of their files (see sevenzip, tarball, pst); the most their
# files may unpack to (Plan spools the ZIP on its disk, 4 GB, beside a PST's copy of up to
# 1 GB; a large PDF it unpacks from the ZIP comes after the ZIP is uploaded).
REPACK_LIMIT = 2 << 30


def repack(
    media_type: str,
    source: IO[bytes],
    target: IO[bytes],
    archive_size: int,
    name: str,
    limit: int = REPACK_LIMIT,
) -> Repacked:
    """Write the files of the archive ``source`` (a 7z, a tar, a compressed file, an Outlook
    data file: sniff's REPACKED types; seekable, and on disk for a PST), uploaded as ``name``,
    to ``target`` as a stored ZIP."""
    bound = UnpackBound(archive_size, min(limit, REPACK_LIMIT))
    if media_type == sniff.SEVEN_ZIP:
        from docproc.extract import sevenzip

        return sevenzip.repack(source, target, bound)
    if media_type == sniff.PST:
        from docproc.extract import pst

        return pst.repack(source, target, bound)
    from docproc.extract import tarball

    return tarball.repack(media_type, source, target, bound, name)


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``...: where two of one name share a place in a ZIP repacked (a
    message's attachments, a folder's sub-folders, a PDF's attached files)."""
    candidate, copy = name, 1
    while candidate.lower() in taken:
        copy += 1
        stem, dot, suffix = name.rpartition(".")
        candidate = f"{stem} ({copy}).{suffix}" if dot and stem else f"{name} ({copy})"
    taken.add(candidate.lower())
    return candidate


_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def safe_name(name: str) -> str:
    """A name as a ZIP member's path part: no separators, control or reserved characters."""
    return " ".join(_UNSAFE_IN_NAMES.sub(" ", name).split()).strip(". ")


class UnpackBound:
    """What an archive repacked has unpacked so far (its files' stated sizes, or the bytes a
    stream gave), refused past the limit (SegmentBudgetExceeded) or as a bomb
    (InvalidDocument): the ZIP rule for a file, over the archive as a whole, as a solid 7z or
    a compressed tar states no compressed size per file."""

    def __init__(self, archive_size: int, limit: int) -> None:
        self._archive_size, self._limit = archive_size, limit
        self.unpacked = 0

    def add(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self._limit:
            raise SegmentBudgetExceeded(
                f"an archive whose files unpack to more than {self._limit / 2**20:,.0f} MB, "
                "the room there is to unpack them"
            )
        if is_bomb(self.unpacked, self._archive_size):
            raise InvalidDocument(
                f"files of {self.unpacked / 2**20:.0f} MB or more in an archive of "
                f"{self._archive_size / 2**20:.1f} MB: an archive bomb, not documents"
            )


def is_bomb(unpacked: int, packed: int) -> bool:
    """Whether what ``packed`` bytes state they unpack to makes them an archive bomb."""
    return unpacked > _BOMB_FLOOR and unpacked > _BOMB_RATIO * packed


def file_heading(path: str) -> str:
    """The line a file from an archive begins with, in its first chunk."""
    return f"File: {path}"


def headed(page: PageText, path: str) -> PageText:
    """A file's first page, beginning with its heading."""
    return dataclasses.replace(page, text=f"{file_heading(path)}\n\n{page.text}")


@dataclass(frozen=True)
class ArchivedFile:
    """A file read from an archive: its path (in an archive inside the archive, that
    archive's path, then the file's within it), the bytes of the upload it lies in, and its
    text: a paged file's pages (numbered as the file numbers them), else one text."""

    path: str
    start: int
    end: int
    pages: list[PageText]
    paged: bool


def owned_files(
    source: IO[bytes],
    start: int,
    end: int,
    ocr: OcrOptions,
    tables: TablesMode,
    reserve: Reserve,
    check: Callable[[str], None],
) -> Iterator[ArchivedFile]:
    """Each file whose local header lies in ``[start, end)``, read; an archive among them, its
    files (MAX_NESTED deep). The first page begins ``File: PATH``; a file that cannot be read
    is that line and why. ``check`` runs between a paged file's pages (SegmentBudgetExceeded
    from it fails the segment)."""
    reading = _Reading(ocr, tables, reserve, check=check)
    try:
        with opened(source) as archive:
            for member in members(archive):
                if start <= member.start < end:
                    span = (member.start, member.end)
                    yield from _files(archive, member.info, member.path, span, reading, 0)
    except _SegmentOverBudget as over:
        raise over.error from None


def attached_text(
    data: bytes, media_type: str, name: str, ocr: OcrOptions, tables: TablesMode, depth: int
) -> str:
    """The text of an archive of ``media_type`` (a ZIP, or one of sniff's REPACKED types: a
    7z, a tar, a compressed file) named ``name``, attached to a message ``depth`` deep (or
    inside an archive): each file's, as an archive's upload reads it. A file is held only up
    to the attachment's own size (as large an attachment as the message's budget allowed
    for); a paged one is read from disk."""

    def no_larger_than_the_attachment(needed_mb: float, reading: str) -> None:
        if needed_mb / MEMBER_MEMORY_FACTOR > len(data) / 2**20:
            raise SegmentBudgetExceeded(f"{reading} is larger than the attachment it is in")

    reading = _Reading(ocr, tables, no_larger_than_the_attachment, depth)
    if media_type in sniff.REPACKED:
        with _repacked_on_disk(media_type, io.BytesIO(data), len(data), name) as repacked:
            return _archive_text(repacked, reading)
    # Read where it is: the message holds the attachment's bytes while it is read anyway.
    return _archive_text(io.BytesIO(data), reading)


@contextmanager
def _repacked_on_disk(
    media_type: str, source: IO[bytes], size: int, name: str
) -> Iterator[IO[bytes]]:
    """An archive read from its start (a 7z, a tar), repacked into a ZIP in a temporary file
    (as Plan repacks an upload), as large as the disk can spare beside it."""
    free = shutil.disk_usage(tempfile.gettempdir()).free - _DISK_MARGIN
    with tempfile.TemporaryFile(prefix="docproc-repacked-") as repacked:
        repack(media_type, source, repacked, size, name, max(0, free))
        yield repacked


def _archive_text(source: IO[bytes], reading: _Reading) -> str:
    texts: list[str] = []
    with opened(source) as archive:
        for member in members(archive):
            span = (member.start, member.end)
            for file in _files(archive, member.info, member.path, span, reading, 0):
                texts.extend(page.text.strip() for page in file.pages)
    return "\n\n".join(text for text in texts if text)


def _files(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: str,
    span: tuple[int, int],
    reading: _Reading,
    nested_depth: int,
) -> Iterator[ArchivedFile]:
    with ExitStack() as held:
        pages: list[PageText] = []
        inner: list[tuple[zipfile.ZipFile, list[Member]]] = []
        read = partial(_member_text, archive, info, path, reading, pages, inner, nested_depth, held)
        text = titled_block(file_heading(path), read)
        if inner:
            nested, files = inner[0]
            for member in files:
                inner_path = f"{path}/{member.path}"
                yield from _files(nested, member.info, inner_path, span, reading, nested_depth + 1)
        elif pages:
            yield ArchivedFile(path, *span, [headed(pages[0], path), *pages[1:]], paged=True)
        else:
            yield ArchivedFile(path, *span, [PageText(number=1, text=text)], paged=False)


def _member_text(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: str,
    reading: _Reading,
    pages: list[PageText],
    inner: list[tuple[zipfile.ZipFile, list[Member]]],
    nested_depth: int,
    held: ExitStack,
) -> str:
    """A file's text. A paged file's pages go to ``pages`` instead (read from disk a page at
    a time) and the text returned is theirs joined (so that the block sees text); an archive
    (MAX_NESTED deep) goes to ``inner``, open on a temporary file ``held`` keeps."""
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise EncryptedDocument("the file is encrypted in the archive")
    if _bomb(info):
        # Its stated size is what zipfile unpacks it to: refused before a byte is.
        raise InvalidDocument(
            f"a file of {info.file_size / 2**20:.0f} MB compressed to "
            f"{info.compress_size / 2**20:.1f} MB: an archive bomb, not a document"
        )
    with _member_errors(), open_member(archive, info) as stream:
        detected = sniff.sniff(stream.read(sniff.SNIFF_BYTES), path)
    if detected.media_type in sniff.PAGED:
        filetype = sniff.PAGED[detected.media_type]
        with _decompressed(archive, info, filetype) as spilled:
            for page in paged_pages(spilled, filetype, reading.ocr, reading.tables):
                reading.check_segment(f"reading page {page.number} of a file in an archive")
                if page.text.strip():
                    pages.append(page)
        return "\n\n".join(page.text for page in pages)
    if detected.media_type == sniff.ZIP:
        spilled = held.enter_context(_decompressed(archive, info, "zip"))
        if sniff.sniff_zip(spilled) == sniff.ZIP:
            if nested_depth >= MAX_NESTED:
                return ""  # named, not opened
            nested = held.enter_context(opened(spilled))
            inner.append((nested, members(nested)))
            return ""
    if detected.media_type in sniff.REPACKED:  # a 7z, a tar: its files with paths of their own
        if nested_depth >= MAX_NESTED:
            return ""  # named, not opened
        with _decompressed(archive, info, "packed") as packed, packed.open("rb") as source:
            repacked = held.enter_context(
                _repacked_on_disk(detected.media_type, source, info.file_size, path)
            )
        nested = held.enter_context(opened(repacked))
        inner.append((nested, members(nested)))
        return ""
    # Another kind is held while read: asked of the budget before a byte is decompressed.
    size_mb = info.file_size / 2**20
    reading.reserve(size_mb * MEMBER_MEMORY_FACTOR, f"a file of {size_mb:.0f} MB in the archive")
    with _member_errors(), open_member(archive, info) as stream:
        data = stream.read()
    return file_text(data, path, reading.ocr, reading.tables, reading.depth)


@contextmanager
def _member_errors() -> Iterator[None]:
    """zipfile's errors on a file in the archive, typed."""
    try:
        yield
    except NotImplementedError as exc:  # deflate64, PPMd: methods zipfile lacks
        raise InvalidDocument("a file compressed by a method docproc cannot undo") from exc
    except _ARCHIVE_ERRORS as exc:
        raise InvalidDocument(f"a damaged file in the archive: {type(exc).__name__}") from exc


@contextmanager
def _decompressed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filetype: str) -> Iterator[Path]:
    """The file, decompressed into a temporary file removed after the block. Its stated size
    bounds what is written (zipfile stops there, and a file that would run on fails its CRC):
    a file stated larger than the disk can spare is refused before a byte is written."""
    free = shutil.disk_usage(tempfile.gettempdir()).free - _DISK_MARGIN
    if info.file_size > free:
        raise SegmentBudgetExceeded(
            f"a file of {info.file_size / 2**20:.0f} MB would not fit the "
            f"{max(0, free) / 2**20:.0f} MB free on disk"
        )
    # Named by its kind, not its name in the archive (which may be anything, of any length).
    fd, name = tempfile.mkstemp(prefix="docproc-member-", suffix=f".{filetype}")
    try:
        with _member_errors(), os.fdopen(fd, "wb") as out, open_member(archive, info) as source:
            shutil.copyfileobj(source, out, 1 << 20)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
