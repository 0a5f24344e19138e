"""The object store port: where uploads live and where work outputs go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    version_id: str | None
    # Base64 SHA-256 of the content when the store knows it (S3: uploaded with a checksum).
    checksum_sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identifies the content: its hash where known, else its ETag (an MD5 for
        single-part uploads, stable for the same multipart split)."""
        return f"sha256:{self.checksum_sha256}" if self.checksum_sha256 else f"etag:{self.etag}"


class ObjectStore(Protocol):
    """One bucket. Reads of uploads pin a version; work outputs are written unversioned."""

    bucket: str
    # True when ``local_copy`` yields the stored file itself (a folder on this machine), so
    # reading a few pages of a large upload costs no download: Plan makes no sub-PDFs.
    reads_in_place: bool

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Size, ETag and version of an object; ObjectNotFound if it is gone."""
        ...

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        """Bytes ``[start, end)`` of the object (fewer at its end)."""
        ...

    def local_copy(self, key: str, version_id: str | None = None) -> AbstractContextManager[Path]:
        """A file holding the object, streamed to disk (never whole in memory); removed on exit
        when it is a temporary copy."""
        ...

    def media_url(
        self, key: str, version_id: str | None = None, expires_seconds: int = 3600
    ) -> str:
        """Where ffmpeg can read the object with ranged reads, without a download: a presigned
        GET URL (S3) or a local path. Never logged: it is a credential."""
        ...

    def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    def writer(self, key: str, content_type: str) -> AbstractContextManager[IO[bytes]]:
        """A file to write an object into as it is made (never whole in memory), stored at
        ``key`` when the block ends without an exception; nothing is stored otherwise."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str) -> bytes:
        """A small object (manifest, chunk file) whole; ObjectNotFound if missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def delete_keys(self, keys: list[str]) -> int:
        """Delete these objects (missing ones are fine); returns how many were asked for."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many were deleted."""
        ...
