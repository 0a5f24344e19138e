"""The laptop store's copy of an upload: every byte, its SHA-256, direct I/O or not."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from docproc.storage import local
from docproc.storage.local import _COPY_BLOCK, _copy_hashing

SIZES = [0, 1, 4095, 4097, _COPY_BLOCK - 1, _COPY_BLOCK, _COPY_BLOCK + 1, 2 * _COPY_BLOCK + 17]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("direct_from", [0, 1 << 62], ids=["direct", "buffered"])
def test_a_copy_has_every_byte_and_their_sha256(tmp_path: Path, size: int, direct_from: int):
    # Given a file of ``size`` bytes: none, less or more than a disk block, about one and two
    # copy blocks (direct writes are whole aligned blocks, the last one padded)
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    target = tmp_path / "folder" / "copy.bin"
    # When it is copied, with direct I/O wherever the file system has it, or without
    with source.open("rb", buffering=0) as reader:
        copied, sha256 = _copy_hashing(reader, target, direct_from=direct_from)
    # Then the copy is the file, no padding left, and the hash is the file's
    assert copied == size
    assert target.read_bytes() == data
    assert sha256 == hashlib.sha256(data).hexdigest()


def test_an_upload_is_stored_under_its_content_version(tmp_path: Path):
    # Given a large upload (above the size from which the copy bypasses the page cache)
    data = os.urandom(local._DIRECT_FROM + 3)
    source = tmp_path / "big.pdf"
    source.write_bytes(data)
    store = local.LocalObjectStore(tmp_path / "store")
    # When it is put in the store
    info = store.put_upload("uploads/acme/case/doc/big.pdf", source)
    # Then its version is named by its content, and the object reads back whole
    assert info.version_id == hashlib.sha256(data).hexdigest()[:32]
    assert info.size == len(data)
    with store.local_copy("uploads/acme/case/doc/big.pdf", info.version_id) as path:
        assert path.read_bytes() == data
