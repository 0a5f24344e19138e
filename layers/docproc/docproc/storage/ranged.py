"""An object read as a seekable file through ranged reads: for readers such as ``zipfile``
that need only a few places of a large object (a ZIP's directory sits at its end)."""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING

from docproc.storage.port import ObjectStore

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Each read asks for at least this much: zipfile reads a header in small pieces.
_READ_AHEAD = 64 * 1024


class RangedObjectFile(io.RawIOBase):
    def __init__(self, store: ObjectStore, key: str, size: int, version_id: str | None) -> None:
        self._store, self._key, self._size, self._version_id = store, key, size, version_id
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self._position + len(view), self._size)
        if end <= self._position:
            return 0
        data = self._store.read_range(self._key, self._position, end, self._version_id)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_ranged(
    store: ObjectStore,
    key: str,
    size: int,
    version_id: str | None = None,
    read_ahead: int = _READ_AHEAD,
) -> IO[bytes]:
    if 0 < size <= read_ahead:
        # One read holds it all: a reader's seeks (a ZIP's directory at the end, then its
        # members) would otherwise each be a request.
        return io.BytesIO(store.read_range(key, 0, size, version_id))
    return io.BufferedReader(RangedObjectFile(store, key, size, version_id), read_ahead)
