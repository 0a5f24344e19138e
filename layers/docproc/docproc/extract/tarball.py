"""tar archives, compressed or not (``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``),
and single compressed files (``contract.pdf.gz``): repacked by Plan into a ZIP of their files,
stored, which is then planned and read as any ZIP archive of files (docproc.extract.archive),
as a 7z is (docproc.extract.sevenzip).

Why repack: a compressed tar is one stream, readable only from its start, and even a plain
tar lists its files only by walking every header; the standard library's tarfile reads it
once, in stream mode (a block at a time, never seeking back), and each file goes to the ZIP
as it comes. A compressed stream that is not a tar is one file: named as its gzip header
names it, else as the upload without its compression's suffix.

The tar states each file's size before its bytes: the sizes together are bounded (the limit,
and the archive bomb's ratio to the archive's own size) as they are read, before each file's
bytes are; a single compressed file is bounded as it is decompressed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import IO

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract.archive import Repacked, is_bomb

# What a decompressor's errors are on damaged data (tarfile's own too).
_STREAM_ERRORS = (
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    gzip.BadGzipFile,
    EOFError,
    OSError,
    ValueError,
    UnicodeDecodeError,
)
# Each compression's signature, what decompresses it as a stream, and its files' suffixes.
_COMPRESSIONS: dict[bytes, tuple[Callable[[IO[bytes]], io.BufferedIOBase], tuple[str, ...]]] = {
    b"\x1f\x8b\x08": (lambda source: gzip.GzipFile(fileobj=source, mode="rb"), (".gz", ".tgz")),
    b"BZh": (bz2.BZ2File, (".bz2", ".tbz2", ".tbz")),
    b"\xfd7zXZ\x00": (lzma.LZMAFile, (".xz", ".txz")),
}
_BLOCK = 1 << 20
# A gzip header's flags (RFC 1952): an extra field, a file name.
_FEXTRA, _FNAME = 0x04, 0x08


def repack(
    source: IO[bytes], target: IO[bytes], archive_size: int, name: str, limit: int
) -> Repacked:
    """Write the files of the tar (or the one compressed file) ``source``, ``archive_size``
    bytes, uploaded as ``name``, to ``target`` as a stored ZIP, in their order, under their
    paths (folders, links and devices left out). InvalidDocument for a damaged stream or a
    bomb; SegmentBudgetExceeded past ``limit`` bytes of files."""
    head = source.read(512)
    source.seek(0)
    bound = _Bound(archive_size, limit)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, True) as zipped:
        if _is_tar(head) or _compressed_tar(head, source):
            files = _repack_tar(source, zipped, bound)
        else:
            files = _repack_file(head, source, zipped, bound, name)
    return Repacked(files=files, size=target.tell())


def _is_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"


def _compressed_tar(head: bytes, source: IO[bytes]) -> bool:
    """Whether a compressed stream holds a tar: its first 512 bytes decompressed say."""
    opener = _opener(head)
    if opener is None:
        return False
    try:
        with opener(source) as stream:
            first = stream.read(512)
    except _STREAM_ERRORS:
        return False  # (damaged: read as one file, whose reading names the damage)
    finally:
        source.seek(0)
    return _is_tar(first)


def _opener(head: bytes) -> Callable[[IO[bytes]], io.BufferedIOBase] | None:
    """What decompresses the stream that begins ``head``, if it is compressed."""
    for signature, (opener, _) in _COMPRESSIONS.items():
        if head.startswith(signature):
            return opener
    return None


class _Bound:
    """The bytes unpacked so far, refused past the limit or as a bomb."""

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
                f"files of over {self.unpacked / 2**20:.0f} MB in an archive of "
                f"{self._archive_size / 2**20:.1f} MB: an archive bomb, not documents"
            )


def _repack_tar(source: IO[bytes], zipped: zipfile.ZipFile, bound: _Bound) -> int:
    files = 0
    # Stream mode: read once from the start, compressed or not, never seeking back.
    with _read_errors():
        # (opened apart, so only its own errors are typed here: closed by the block below)
        tar = tarfile.open(fileobj=source, mode="r|*")  # noqa: SIM115
    with tar:
        for member in _members(tar):
            if not member.isfile() or not member.name.strip("/"):
                continue  # folders, links, devices
            bound.add(member.size)  # stated before its bytes, and all a tar reader reads
            with _read_errors():
                reader = tar.extractfile(member)
            if reader is None:
                continue
            with zipped.open(zipfile.ZipInfo(member.name.lstrip("/")), "w") as out:
                while block := _read(reader):
                    out.write(block)
            files += 1
    return files


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    members = iter(tar)
    while True:
        with _read_errors():
            member = next(members, None)
        if member is None:
            return
        yield member


def _repack_file(
    head: bytes, source: IO[bytes], zipped: zipfile.ZipFile, bound: _Bound, name: str
) -> int:
    opener = _opener(head)
    if opener is None:
        raise InvalidDocument("neither a tar archive nor a compressed file")
    with opener(source) as stream, zipped.open(_inner_name(head, name), "w") as out:
        while block := _read(stream):
            bound.add(len(block))
            out.write(block)
    return 1


def _inner_name(head: bytes, name: str) -> str:
    """The compressed file's name: as its gzip header names it (FNAME, RFC 1952), else the
    upload's name without its compression's suffix."""
    if head.startswith(b"\x1f\x8b\x08") and len(head) > 10 and head[3] & _FNAME:
        at = 10
        if head[3] & _FEXTRA:
            at += 2 + int.from_bytes(head[10:12], "little")
        end = head.find(b"\x00", at)
        stated = head[at:end].decode("latin-1") if end > at else ""
        if PurePosixPath(stated.replace("\\", "/")).name:
            return PurePosixPath(stated.replace("\\", "/")).name
    path = PurePosixPath(name)
    for _, suffixes in _COMPRESSIONS.values():
        if path.suffix.lower() in suffixes:
            return path.stem
    return path.name


def _read(stream: IO[bytes] | io.BufferedIOBase) -> bytes:
    with _read_errors():
        return stream.read(_BLOCK)


@contextmanager
def _read_errors() -> Iterator[None]:
    """The archive's damage, typed (only around reading it: the ZIP's own writes, to its
    disk, fail as they are)."""
    try:
        yield
    except _STREAM_ERRORS as exc:
        raise InvalidDocument(f"damaged archive: {type(exc).__name__}") from exc
