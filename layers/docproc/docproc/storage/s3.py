"""ObjectStore on Amazon S3 (and anything that speaks its API: moto, LocalStack, MinIO)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from docproc.errors import ObjectNotFound, PermanentDependencyError, TransientError
from docproc.storage.port import ObjectInfo

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}
# Bounded parallel ranged GETs: fast, and memory stays at a few chunks whatever the size.
_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024,
    multipart_chunksize=16 * 1024 * 1024,
    max_concurrency=4,
    max_io_queue=16,
)
_DELETE_BATCH = 1000


_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "InternalError",
}


def translate_client_error(exc: Exception, what: str) -> Exception:
    """Map a botocore failure onto the error tree (by code, never by message)."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _NOT_FOUND or status == 404:
            return ObjectNotFound(f"{what}: not found")
        if status >= 500 or code in _TRANSIENT_CODES:
            return TransientError(f"{what}: {code or status}")
        return exc
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {type(exc).__name__}")
    return exc


def _version_args(version_id: str | None) -> dict[str, Any]:
    return {"VersionId": version_id} if version_id else {}


class S3ObjectStore:
    # A segment fetches whole what it opens: its own sub-PDF, not the upload.
    reads_in_place = False

    def __init__(self, client: S3Client, bucket: str, tmp_dir: Path | None = None) -> None:
        self._s3 = client
        self.bucket = bucket
        self._tmp_dir = tmp_dir

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        try:
            response = self._s3.head_object(
                Bucket=self.bucket, Key=key, ChecksumMode="ENABLED", **_version_args(version_id)
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "head object") from exc
        version = response.get("VersionId")
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            etag=str(response["ETag"]).strip('"'),
            version_id=version if version and version != "null" else None,
            # Whole-object checksums only: a composite (multipart) one ends in "-N".
            checksum_sha256=None
            if "-" in str(response.get("ChecksumSHA256", "-"))
            else response.get("ChecksumSHA256"),
        )

    def read_range(self, key: str, start: int, end: int, version_id: str | None = None) -> bytes:
        if end <= start:
            return b""
        try:
            response = self._s3.get_object(
                Bucket=self.bucket,
                Key=key,
                Range=f"bytes={start}-{end - 1}",
                **_version_args(version_id),
            )
            return response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise translate_client_error(exc, "ranged get") from exc
        except BotoCoreError as exc:
            raise translate_client_error(exc, "ranged get") from exc

    @contextmanager
    def local_copy(self, key: str, version_id: str | None = None) -> Iterator[Path]:
        fd, name = tempfile.mkstemp(prefix="docproc-", dir=self._tmp_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as sink:
                self._s3.download_fileobj(
                    self.bucket,
                    key,
                    sink,
                    ExtraArgs=_version_args(version_id) or None,
                    Config=_TRANSFER,
                )
            yield path
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "download") from exc
        finally:
            path.unlink(missing_ok=True)

    def media_url(
        self, key: str, version_id: str | None = None, expires_seconds: int = 3600
    ) -> str:
        # Signing is local (no request): a missing object shows up when ffmpeg reads it.
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key, **_version_args(version_id)},
                ExpiresIn=expires_seconds,
            )
        )

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        try:
            self._s3.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=_TRANSFER,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "upload") from exc

    @contextmanager
    def writer(self, key: str, content_type: str) -> Iterator[IO[bytes]]:
        # Spooled to a file in the function's /tmp, then uploaded (in parts when it is large).
        with tempfile.NamedTemporaryFile("wb", prefix="docproc-out-", dir=self._tmp_dir) as handle:
            yield handle
            handle.flush()
            self.put_file(key, Path(handle.name), content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "put object") from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "get object") from exc

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "list objects") from exc

    def delete_keys(self, keys: list[str]) -> int:
        for start in range(0, len(keys), _DELETE_BATCH):
            self._delete([{"Key": key} for key in keys[start : start + _DELETE_BATCH]])
        return len(keys)

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        batch: list[dict[str, Any]] = []
        for key in self.list_keys(prefix):
            batch.append({"Key": key})
            if len(batch) == _DELETE_BATCH:
                deleted += self._delete(batch)
                batch = []
        if batch:
            deleted += self._delete(batch)
        return deleted

    def _delete(self, batch: list[dict[str, Any]]) -> int:
        try:
            response = self._s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},  # type: ignore[typeddict-item]
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_client_error(exc, "delete objects") from exc
        # Quiet mode answers only the keys it could not delete; the call itself succeeds.
        errors = response.get("Errors", [])
        if errors:
            codes = sorted({str(error.get("Code", "unknown")) for error in errors})
            message = (
                f"delete objects: {len(errors)} of {len(batch)} keys not deleted "
                f"({', '.join(codes)})"
            )
            if set(codes) <= _TRANSIENT_CODES:
                raise TransientError(message)
            raise PermanentDependencyError(message)
        return len(batch)
