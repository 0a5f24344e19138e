"""In-process test doubles of the ports (no sockets, no files)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from docproc.errors import ObjectNotFound, SegmentBudgetExceeded
from docproc.storage.port import ObjectInfo


class InMemoryObjectStore:
    """The ObjectStore port over a dict; counts the bytes it hands out (ranges and copies)."""

    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.bucket = "memory"
        # Like S3: local_copy hands out a temporary copy.
        self.reads_in_place = False
        self.objects = dict(objects or {})
        self.bytes_read = 0
        # Where media_url writes objects out for ffmpeg; made on first use.
        self._media_dir: tempfile.TemporaryDirectory[str] | None = None

    def _get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectNotFound(key)
        return self.objects[key]

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        data = self._get(key)
        return ObjectInfo(
            key=key, size=len(data), etag=f"{hash(data) & 0xFFFFFFFF:x}", version_id=version_id
        )

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        chunk = self._get(key)[start:end]
        self.bytes_read += len(chunk)
        return chunk

    @contextmanager
    def local_copy(self, key: str, version_id: str | None = None) -> Iterator[Path]:
        data = self._get(key)
        self.bytes_read += len(data)
        with tempfile.NamedTemporaryFile() as handle:
            handle.write(data)
            handle.flush()
            yield Path(handle.name)

    def media_url(
        self, key: str, version_id: str | None = None, expires_seconds: int = 3600
    ) -> str:
        # ffmpeg needs a file or URL: the object is written out, kept while the fake lives.
        if self._media_dir is None:
            self._media_dir = tempfile.TemporaryDirectory()
        path = Path(self._media_dir.name) / key.replace("/", "_")
        path.write_bytes(self._get(key))
        return str(path)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.objects[key] = path.read_bytes()

    @contextmanager
    def writer(self, key: str, content_type: str) -> Iterator[BinaryIO]:
        written = io.BytesIO()
        yield written
        self.objects[key] = written.getvalue()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    def get_bytes(self, key: str) -> bytes:
        return self._get(key)

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def delete_keys(self, keys: list[str]) -> int:
        for key in keys:
            self.objects.pop(key, None)
        return len(keys)

    def delete_prefix(self, prefix: str) -> int:
        keys = [k for k in self.objects if k.startswith(prefix)]
        for key in keys:
            del self.objects[key]
        return len(keys)


class RefusingBudget:
    """A segment budget's ``reserve``: records what a reader asks it for (megabytes, what is
    read), and refuses it, as a budget with nothing left does."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, str]] = []

    def __call__(self, megabytes: float, reading: str) -> None:
        self.asked.append((megabytes, reading))
        raise SegmentBudgetExceeded(reading)


class ReadsCounted:
    """An object store, counting the reads by range, the bytes they read, and the objects
    copied whole."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.reads = 0
        self.bytes_read = 0
        self.copies: list[str] = []

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        data: bytes = self._store.read_range(key, start, end, version_id)
        self.reads += 1
        self.bytes_read += len(data)
        return data

    def local_copy(self, key: str, version_id: str | None = None) -> Any:
        self.copies.append(key)
        return self._store.local_copy(key, version_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
