"""7z archives of files: repacked by Plan into a ZIP of the same files, stored (not compressed
again), which is then planned and read as any ZIP archive of files (docproc.extract.archive).

Why repack rather than read a 7z in ranges as a ZIP is read: a 7z is usually solid (its files
compressed as one stream), so a file in the middle can only be reached by decompressing every
file before it; each of a hundred segments would decompress the archive up to its files. Plan
decompresses it once, a block at a time, and the ZIP it writes lets every segment read its own
files in place.

py7zr (LGPL, pure Python over liblzma, zlib, bz2, zstd, brotli, Deflate64 and BCJ filters)
reads the format. What it is asked to unpack is bounded before a byte is: the files' stated
sizes together (repacking stops there: py7zr writes a file up to its stated size and checks
its CRC), the ratio of those to the archive's size (an archive bomb), and the memory its
decompressors need (LZMA's dictionary: stated in the archive's header). PPMd, which 7-Zip
uses only when asked, is refused: its decoder crashed the process on damaged data.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import py7zr
from py7zr import exceptions
from py7zr.io import Py7zIO, WriterFactory

from docproc.errors import (
    DocprocError,
    EncryptedDocument,
    InvalidDocument,
    SegmentBudgetExceeded,
    UnsupportedDocument,
)
from docproc.extract.archive import Repacked, UnpackBound
from docproc.extract.sniff import SEVEN_ZIP

# The memory a decompressor may ask for (LZMA's largest preset, 7-Zip's "ultra", asks 64 MB;
# its largest setting, 1.5 GB, more than Plan has).
DECOMPRESSOR_MEMORY_LIMIT = 256 << 20
# Coders' method ids ([7zFormat.txt]) whose memory their properties state.
_LZMA = bytes.fromhex("030101")
_LZMA2 = bytes.fromhex("21")
_PPMD = bytes.fromhex("030401")


def repack(source: IO[bytes], target: IO[bytes], bound: UnpackBound) -> Repacked:
    """Write the files of the 7z archive ``source`` to ``target`` as a stored ZIP, in the
    archive's order, under their paths in it (folders, links and empty names left out), once
    ``bound`` has taken their stated sizes. InvalidDocument for a damaged archive or a bomb,
    EncryptedDocument for one that needs a password, SegmentBudgetExceeded for one that would
    unpack past the bound or whose decompressors would need more than
    DECOMPRESSOR_MEMORY_LIMIT."""
    with _seven_zip_errors(), _opened(source) as archive:
        files = [
            info
            for info in archive.list()
            if info.is_file and not info.is_directory and not info.is_symlink and info.filename
        ]
        _check_bounds(archive, files, bound)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zipped:
            factory = _ZipMembers(zipped)
            try:
                archive.extract(targets=[info.filename for info in files], factory=factory)
            finally:
                factory.close_member()  # (py7zr leaves one open when it fails)
    return Repacked(files=factory.written, size=target.tell())


@contextmanager
def _opened(source: IO[bytes]) -> Iterator[py7zr.SevenZipFile]:
    # A file object, not a path: py7zr then decompresses on this thread, one folder after
    # another (given a path it may start a process per folder).
    with py7zr.SevenZipFile(source, mode="r") as archive:
        if archive.needs_password():
            raise EncryptedDocument("the 7z archive's files are encrypted")
        yield archive


def _check_bounds(
    archive: py7zr.SevenZipFile, files: list[py7zr.FileInfo], bound: UnpackBound
) -> None:
    # (py7zr writes a file up to its stated size: the sizes stated are what is unpacked)
    bound.add(sum(info.uncompressed or 0 for info in files))
    coders = list(_coders(archive))
    if any(coder.get("method") == _PPMD for coder in coders):
        # pyppmd's decoder crashes the process on damaged data (a segmentation fault, found
        # by fuzzing under python3.13): refused, not risked. 7-Zip compresses with PPMd only
        # when asked to.
        raise UnsupportedDocument(
            "a 7z archive compressed with PPMd, which docproc does not undo",
            detected_type=SEVEN_ZIP,
        )
    needed = max((_coder_memory(coder) for coder in coders), default=0)
    if needed > DECOMPRESSOR_MEMORY_LIMIT:
        raise SegmentBudgetExceeded(
            f"a 7z archive whose decompressor needs {needed / 2**20:.0f} MB "
            f"(over the {DECOMPRESSOR_MEMORY_LIMIT / 2**20:.0f} MB docproc allows)"
        )


def _coders(archive: py7zr.SevenZipFile) -> Iterator[dict[str, object]]:
    streams = archive.header.main_streams
    if streams is None:  # an archive of empty files
        return
    for folder in streams.unpackinfo.folders:
        yield from folder.coders


def _coder_memory(coder: dict[str, object]) -> int:
    """The bytes a coder's decompressor allocates, as its properties state: LZMA's and LZMA2's
    dictionary; 0 for the rest (a few MB at most)."""
    method, properties = coder.get("method"), coder.get("properties")
    if not isinstance(method, bytes) or not isinstance(properties, bytes):
        return 0
    if method == _LZMA and len(properties) >= 5:
        return int.from_bytes(properties[1:5], "little")
    if method == _LZMA2 and len(properties) >= 1:
        bits = properties[0]
        return 0xFFFF_FFFF if bits >= 40 else (2 | (bits & 1)) << (bits // 2 + 11)
    return 0


class _ZipMembers(WriterFactory):
    """py7zr's WriterFactory: each file it unpacks becomes a stored member of ``zipped``,
    written as it comes (py7zr unpacks one file at a time)."""

    def __init__(self, zipped: zipfile.ZipFile) -> None:
        self._zipped = zipped
        self._member: _ZipMember | None = None
        self.written = 0

    def create(self, filename: str) -> _ZipMember:
        info = zipfile.ZipInfo(filename)  # (dated 1980: a file's date says nothing to a search)
        info.compress_type = zipfile.ZIP_STORED
        self.written += 1
        self._member = _ZipMember(self._zipped.open(info, mode="w"))
        return self._member

    def close_member(self) -> None:
        if self._member is not None:
            self._member.close()


class _ZipMember(Py7zIO):
    """py7zr's Py7zIO over a member being written: only writing is asked of it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._size = 0

    def write(self, data: bytes | bytearray) -> int:
        self._size += len(data)
        try:
            return self._stream.write(data)
        except OSError as exc:  # the target's, not the archive's: passed on as it is
            raise _TargetFailed(exc) from exc

    def read(self, size: int | None = None) -> bytes:
        raise OSError("a member being repacked is not read")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("a member being repacked is written in order")

    def seekable(self) -> bool:
        return False  # (py7zr rewinds a seekable writer when it closes it)

    def flush(self) -> None:
        self._stream.flush()

    def size(self) -> int:
        return self._size

    def close(self) -> None:
        self._stream.close()


class _TargetFailed(Exception):
    """Writing the ZIP failed (its disk): an error of the target, not of the archive."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


@contextmanager
def _seven_zip_errors() -> Iterator[None]:
    """py7zr's errors, typed: a password, a method it lacks, a damaged archive. Each of its
    decoders (liblzma, zlib, bz2, zstd, brotli, PPMd, Deflate64, BCJ) raises types of its own
    on damaged data (MemoryError too: PPMd allocates what a damaged size states), and its
    header parser builtin ones: whatever it raises on the archive's bytes is a damaged archive.
    """
    try:
        yield
    except _TargetFailed as failed:
        raise failed.error from None
    except DocprocError:
        raise
    except exceptions.PasswordRequired as exc:
        raise EncryptedDocument("the 7z archive is encrypted, its file names too") from exc
    except exceptions.UnsupportedCompressionMethodError as exc:
        raise InvalidDocument("a 7z archive compressed by a method docproc cannot undo") from exc
    except Exception as exc:
        raise InvalidDocument(f"damaged 7z archive: {type(exc).__name__}") from exc
