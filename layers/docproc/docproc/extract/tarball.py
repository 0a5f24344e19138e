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

from docproc.errors import InvalidDocument
from docproc.extract.archive import Repacked, UnpackBound
from docproc.extract.sniff import BZIP2, GZIP, TAR, XZ, is_tar

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
# Each compressed type sniff tells, what decompresses it as a stream, and its files' suffixes.
_COMPRESSIONS: dict[str, tuple[Callable[[IO[bytes]], io.BufferedIOBase], tuple[str, ...]]] = {
    GZIP: (lambda source: gzip.GzipFile(fileobj=source, mode="rb"), (".gz", ".tgz")),
    BZIP2: (bz2.BZ2File, (".bz2", ".tbz2", ".tbz")),
    XZ: (lzma.LZMAFile, (".xz", ".txz")),
}
_BLOCK = 1 << 20
# A gzip header's flags (RFC 1952): an extra field, a file name.
_FEXTRA, _FNAME = 0x04, 0x08


def repack(
    media_type: str, source: IO[bytes], target: IO[bytes], bound: UnpackBound, name: str
) -> Repacked:
    """Write the files of the tar (or the one compressed file) ``source``, of sniff's
    ``media_type`` (TAR, GZIP, BZIP2 or XZ), uploaded as ``name``, to ``target`` as a stored
    ZIP, in their order, under their paths (folders, links and devices left out), each size
    taken by ``bound`` before its bytes are written. InvalidDocument for a damaged stream or
    a bomb; SegmentBudgetExceeded past the bound."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, True) as zipped:
        if media_type == TAR or _compressed_tar(media_type, source):
            files = _repack_tar(source, zipped, bound)
        else:
            files = _repack_file(media_type, source, zipped, bound, name)
    return Repacked(files=files, size=target.tell())


def _compressed_tar(media_type: str, source: IO[bytes]) -> bool:
    """Whether a compressed stream holds a tar: its first 512 bytes decompressed say."""
    opener, _ = _COMPRESSIONS[media_type]
    try:
        with opener(source) as stream:
            first = stream.read(512)
    except _STREAM_ERRORS:
        return False  # (damaged: read as one file, whose reading names the damage)
    finally:
        source.seek(0)
    return is_tar(first)


def _repack_tar(source: IO[bytes], zipped: zipfile.ZipFile, bound: UnpackBound) -> int:
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
    media_type: str, source: IO[bytes], zipped: zipfile.ZipFile, bound: UnpackBound, name: str
) -> int:
    opener, suffixes = _COMPRESSIONS[media_type]
    named = (_gzip_name(source) if media_type == GZIP else None) or _unsuffixed(name, suffixes)
    with opener(source) as stream, zipped.open(named, "w") as out:
        while block := _read(stream):
            bound.add(len(block))
            out.write(block)
    return 1


def _gzip_name(source: IO[bytes]) -> str | None:
    """The file name a gzip header states (FNAME, RFC 1952), if it states one."""
    head = source.read(512)
    source.seek(0)
    if len(head) <= 10 or not head[3] & _FNAME:
        return None
    at = 10
    if head[3] & _FEXTRA:
        at += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\x00", at)
    stated = head[at:end].decode("latin-1") if end > at else ""
    return PurePosixPath(stated.replace("\\", "/")).name or None


def _unsuffixed(name: str, suffixes: tuple[str, ...]) -> str:
    """The upload's name without its compression's suffix ("lease.pdf" of "lease.pdf.gz")."""
    path = PurePosixPath(name)
    return path.stem if path.suffix.lower() in suffixes else path.name


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
