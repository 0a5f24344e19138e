"""ObjectStore in a folder: the laptop runner's stand-in for S3.

Uploads are versioned by content: ``put_upload`` copies a file in and names the version by
its SHA-256, so re-ingesting an unchanged file pins the same version (and is a no-op).
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import itertools
import mmap
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import IO, TypeVar

from docproc.errors import ObjectNotFound, UploadChanged
from docproc.storage.port import ObjectInfo

_VERSIONS = ".versions"
# The store's folder under the laptop's DOCPROC_HOME.
_OBJECTS = "objects"
# From this size a single file's copy starts before the command has imported the pipeline
# (begin_upload_copy); below it the copy takes a few milliseconds.
EARLY_COPY_FROM = 8 * 1024 * 1024
# Whole multiples of any device's logical block size, as direct I/O wants.
_COPY_BLOCK = 4 * 1024 * 1024
_DIRECT_ALIGN = 4096
_DIRECT_FROM = 64 * 1024 * 1024
_T = TypeVar("_T")


@dataclass(frozen=True)
class _CopiedFrom:
    """The file an upload was copied from, as it was while it was copied."""

    path: Path
    # device, inode, size, modification and change times: any write changes the change time
    signature: tuple[int, int, int, int, int]

    def unchanged(self) -> bool:
        try:
            return _signature(os.stat(self.path)) == self.signature
        except OSError:
            return False


def _signature(stat: os.stat_result) -> tuple[int, int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@dataclass(frozen=True)
class _Copy:
    """An upload copied to a staging file beside the store's versions."""

    staging: Path
    size: int
    sha256: str
    direct: bool  # written past the page cache
    # The source as it was while copied, if it stayed the same all along; else None.
    source: _CopiedFrom | None


def _copy_upload(source: Path, staging: Path) -> _Copy:
    with source.open("rb", buffering=0) as reader:
        before = _signature(os.fstat(reader.fileno()))
        size, sha256, direct = _copy_hashing(reader, staging)
        after = _signature(os.fstat(reader.fileno()))
    unchanged = _CopiedFrom(source.absolute(), after) if before == after else None
    return _Copy(staging, size, sha256, direct, unchanged)


@dataclass(frozen=True)
class _EarlyCopy:
    root: Path
    source: Path
    staging: Path
    copy: Future[_Copy]


# The copies begin_upload_copy started (one: a command ingests one file that way).
_early_copies: list[_EarlyCopy] = []


def objects_root(home: Path) -> Path:
    """The laptop store's folder under DOCPROC_HOME."""
    return home / _OBJECTS


def begin_upload_copy(source: Path, root: Path) -> None:
    """Start copying ``source`` into the store at ``root`` now, on a thread of its own. The
    command that will put it there (``docproc ingest FILE``) imports its pipeline meanwhile
    (~0.3 s of one core); the copy, mostly SHA-256 (0.3 s for 417 MB), runs on another core.
    put_upload of the same file, unchanged, into that store takes it; at exit, a copy nobody
    took is removed (the thread is waited for first: it is not a daemon)."""
    staging = root / _VERSIONS / f".incoming-{os.getpid()}-early"
    copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docproc-upload-copy")
    copy = copier.submit(_copy_upload, source, staging)
    copier.shutdown(wait=False)
    _early_copies.append(_EarlyCopy(root.absolute(), source.absolute(), staging, copy))
    atexit.register(_discard_early_copies)


def _take_early_copy(root: Path, source: Path) -> _Copy | None:
    """The early copy of ``source`` into the store at ``root``, if there is one, it succeeded,
    and the file is as it was then; else None. Either way no early copy is left: one that
    does not serve is removed."""
    taken = None
    while _early_copies:
        early = _early_copies.pop()
        copy = early.copy.result() if early.copy.exception() is None else None
        if (
            copy is not None
            and (early.root, early.source) == (root.absolute(), source.absolute())
            and copy.source is not None
            and copy.source.unchanged()
        ):
            taken = copy
        else:
            early.staging.unlink(missing_ok=True)
    return taken


def _discard_early_copies() -> None:
    while _early_copies:
        early = _early_copies.pop()
        early.copy.exception()  # waits for it
        early.staging.unlink(missing_ok=True)


class LocalObjectStore:
    # Objects are files here: a segment opens the upload itself (see local_copy).
    reads_in_place = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bucket = "local"
        root.mkdir(parents=True, exist_ok=True)
        # Stored version's path -> the file it was copied from by this instance (see
        # local_copy): a large copy is written past the page cache, its source is in it.
        self._copied_from: dict[Path, _CopiedFrom] = {}

    def _path(self, key: str) -> Path:
        # Keys are relative and never climb: checked on the string, no filesystem calls.
        if key.startswith("/") or ".." in key.split("/"):
            raise ObjectNotFound("key escapes the store")
        return self.root / key

    def _version_path(self, key: str, version_id: str) -> Path:
        """``.versions/FOLDER/VERSION-NAME`` for the key ``FOLDER/NAME``: a key's versions lie
        together, so a new document's upload makes one folder for them, where the earlier
        layout, ``.versions/VERSION/FOLDER/NAME``, made one per level of the key (five), and
        deleting a document's uploads removes one folder."""
        folder, _, name = key.rpartition("/")
        return self._path(f"{_VERSIONS}/{folder}/{version_id}-{name}")

    def _earlier_version_path(self, key: str, version_id: str) -> Path:
        """Where a store written before the layout above keeps a version: still read."""
        return self._path(f"{_VERSIONS}/{version_id}/{key}")

    def put_upload(self, key: str, source: Path) -> ObjectInfo:
        """Copy ``source`` in as a new version of ``key`` (hashing while copying), or take the
        copy begin_upload_copy made of it."""
        copy = _take_early_copy(self.root, source) or _copy_upload(
            source, self._path(f"{_VERSIONS}/.incoming-{os.getpid()}")
        )
        version_id = copy.sha256[:32]
        target = self._version_path(key, version_id)
        _in_folder(target, lambda: os.replace(copy.staging, target))
        current = self._path(key)
        current.unlink(missing_ok=True)
        _in_folder(current, lambda: os.link(target, current))
        if copy.direct and copy.source is not None:
            self._copied_from[target] = copy.source
        return ObjectInfo(key=key, size=copy.size, etag=version_id, version_id=version_id)

    def _resolve(self, key: str, version_id: str | None) -> Path:
        path = self._version_path(key, version_id) if version_id else self._path(key)
        if path.is_file():
            return path
        if version_id:
            earlier = self._earlier_version_path(key, version_id)
            if earlier.is_file():
                return earlier
        raise ObjectNotFound("object not found")

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        stat = self._resolve(key, version_id).stat()
        # Versions are named by their content's SHA-256: the version is the fingerprint.
        etag = version_id or f"{stat.st_size:x}-{stat.st_mtime_ns:x}"
        return ObjectInfo(key=key, size=stat.st_size, etag=etag, version_id=version_id)

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        with self._resolve(key, version_id).open("rb") as reader:
            reader.seek(start)
            return reader.read(max(0, end - start))

    @contextmanager
    def local_copy(self, key: str, version_id: str | None = None) -> Iterator[Path]:
        """The object's file (already on disk: no copy needed); or, for a version this store
        copied in past the page cache (see _copy_hashing), the file it was copied from while
        that file is unchanged: the same bytes, still in the page cache from the copy. Reading
        the new copy instead would wait on the disk for every object MuPDF looks up: planning
        and extracting a 417 MB PDF of 1,009 images took 0.15 s longer that way. A source
        changed during the block raises UploadChanged; after any change, the copy is read."""
        path = self._resolve(key, version_id)
        source = self._copied_from.get(path)
        if source is None or not source.unchanged():
            self._copied_from.pop(path, None)
            yield path
            return
        yield source.path
        if not source.unchanged():
            self._copied_from.pop(path, None)
            raise UploadChanged("the file being ingested changed while it was read")

    def media_url(
        self, key: str, version_id: str | None = None, expires_seconds: int = 3600
    ) -> str:
        return str(self._resolve(key, version_id))

    @contextmanager
    def _replacing(self, key: str) -> Iterator[Path]:
        """A path beside ``key``'s file to make the object at, renamed over it when the block
        ends (a reader never sees half of it), removed if the block fails."""
        target = self._path(key)
        staging = target.with_name(target.name + f".tmp-{os.getpid()}")
        try:
            yield staging
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        os.replace(staging, target)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        with self._replacing(key) as staging:
            _in_folder(staging, lambda: shutil.copyfile(path, staging))

    @contextmanager
    def writer(self, key: str, content_type: str) -> Iterator[IO[bytes]]:
        # Written where it is stored: no copy.
        with (
            self._replacing(key) as staging,
            _in_folder(staging, lambda: staging.open("wb")) as handle,
        ):
            yield handle

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with self._replacing(key) as staging:
            _in_folder(staging, lambda: staging.write_bytes(data))

    def get_bytes(self, key: str) -> bytes:
        return self._resolve(key, None).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        if base.is_file():
            yield prefix
            return
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def delete_keys(self, keys: list[str]) -> int:
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        return len(keys)

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.list_keys(prefix))
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        base = self._path(prefix.rstrip("/")) if prefix else None
        if base is not None and base.is_dir() and prefix.endswith("/"):
            shutil.rmtree(base)  # the empty folders, so the layout mirrors S3's
        return len(keys)

    def purge_uploads(self, prefix: str) -> int:
        """Delete the current objects under ``prefix`` and every stored version of them."""
        deleted = self.delete_prefix(prefix)
        versions = self.root / _VERSIONS
        if versions.is_dir():
            # (a prefix's folder in the earlier layout is under each version's)
            for folder in (
                versions / prefix,
                *(version / prefix for version in versions.iterdir()),
            ):
                if folder.is_dir():
                    deleted += sum(1 for path in folder.rglob("*") if path.is_file())
                    shutil.rmtree(folder)
        return deleted


def _copy_hashing(
    reader: FileIO, target: Path, direct_from: int = _DIRECT_FROM
) -> tuple[int, str, bool]:
    """Copy ``reader`` to a new file ``target``: the bytes copied, their SHA-256 (hex), and
    whether they were written with direct I/O.

    A thread writes each block while this one hashes it and reads the next (all three release
    the GIL): a large file takes about the longest of them, not their sum. A file of
    ``direct_from`` bytes or more is written with direct I/O where the file system has it
    (Linux's O_DIRECT): the copy goes to the disk without filling the page cache with pages
    nobody reads now. Here a buffered copy of a 417 MB upload took 1.7-4.0 s, almost all of
    it the kernel filling fresh page-cache pages, against 0.6 s direct; below 64 MiB the
    buffered copy was as fast, and a small one does not wait for the disk."""
    size_hint = os.fstat(reader.fileno()).st_size
    fd, direct = _in_folder(target, lambda: _create(target, direct=size_hint >= direct_from))
    try:
        size, digest = _pump(reader, fd, direct)
        if direct:
            os.ftruncate(fd, size)  # the last block was written padded to the alignment
    finally:
        os.close(fd)
    return size, digest, direct


def _create(path: Path, direct: bool) -> tuple[int, bool]:
    """A new file at ``path`` open for writing, and whether it was opened for direct I/O (a
    file system without it refuses the flag: then it is an ordinary file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    o_direct = getattr(os, "O_DIRECT", 0)
    if direct and o_direct:
        try:
            return os.open(path, flags | o_direct, 0o644), True
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
    return os.open(path, flags, 0o644), False


def _pump(reader: FileIO, fd: int, direct: bool) -> tuple[int, str]:
    digest = hashlib.sha256()
    # Page-aligned buffers (anonymous maps), as direct I/O needs: one is read into and hashed
    # while the other is written.
    buffers = [memoryview(mmap.mmap(-1, _COPY_BLOCK)) for _ in range(2)]

    def read(turn: int) -> tuple[memoryview, memoryview]:
        """The next block read (to hash) and as written, in the buffer whose write was
        waited for in the turn before."""
        buffer = buffers[turn % 2]
        count = _fill(reader, buffer)
        digest.update(buffer[:count])
        if count < _COPY_BLOCK and direct:
            # Direct writes are whole aligned blocks: pad (the caller truncates).
            padded = -(-count // _DIRECT_ALIGN) * _DIRECT_ALIGN
            buffer[count:padded] = bytes(padded - count)
            return buffer[:count], buffer[:padded]
        return buffer[:count], buffer[:count]

    data, block = read(0)
    size = len(data)
    if size < _COPY_BLOCK:  # one block: no thread for a small file
        _write_all(fd, block)
        return size, digest.hexdigest()
    with ThreadPoolExecutor(max_workers=1) as disk:
        writing = disk.submit(_write_all, fd, block)
        for turn in itertools.count(1):
            data, block = read(turn)
            size += len(data)
            writing.result()
            if not data:
                break
            writing = disk.submit(_write_all, fd, block)
    return size, digest.hexdigest()


def _fill(reader: FileIO, buffer: memoryview) -> int:
    """Read into all of ``buffer`` unless the file ends first (a read may return less):
    the bytes read. A block short of the end would be padded in the middle of the copy."""
    count = 0
    while count < len(buffer):
        read = reader.readinto(buffer[count:])
        if not read:
            break
        count += read
    return count


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _in_folder(path: Path, create: Callable[[], _T]) -> _T:
    """Run ``create``, which makes ``path``, making its folder first if that is missing. Most
    writes go to folders that exist: trying first saves a mkdir (a system call) per write."""
    try:
        return create()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return create()
