"""The laptop store's copy of an upload: every byte, its SHA-256, direct I/O or not."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from docproc.errors import UploadChanged
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
        copied, sha256, _ = _copy_hashing(reader, target, direct_from=direct_from)
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


def _folders(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_dir()}


def test_a_new_document_s_upload_makes_one_folder_for_its_versions(tmp_path: Path):
    # Given a store that holds one document's upload
    store = local.LocalObjectStore(tmp_path / "store")
    (tmp_path / "a.pdf").write_bytes(b"first")
    store.put_upload("uploads/acme/case/one/a.pdf", tmp_path / "a.pdf")
    before = _folders(tmp_path / "store")
    # When another document of the same case is uploaded, then a new version of it
    (tmp_path / "b.pdf").write_bytes(b"second")
    first = store.put_upload("uploads/acme/case/two/b.pdf", tmp_path / "b.pdf").version_id
    (tmp_path / "b.pdf").write_bytes(b"second, changed")
    second = store.put_upload("uploads/acme/case/two/b.pdf", tmp_path / "b.pdf").version_id
    # Then the new document made two folders, its own and one for its versions (the earlier
    # layout made one per level of the key), and each version reads back
    assert _folders(tmp_path / "store") - before == {
        "uploads/acme/case/two",
        ".versions/uploads/acme/case/two",
    }
    assert first is not None and second is not None and first != second
    assert store.get_bytes("uploads/acme/case/two/b.pdf") == b"second, changed"
    for version, data in ((first, b"second"), (second, b"second, changed")):
        with store.local_copy("uploads/acme/case/two/b.pdf", version) as path:
            assert path.read_bytes() == data
            assert path.name.endswith("b.pdf")  # its extension kept, for whatever reads it


def test_a_version_stored_in_the_earlier_layout_is_still_read_and_purged(tmp_path: Path):
    # Given a store written before versions lay together: .versions/VERSION/KEY
    root = tmp_path / "store"
    key, version = "uploads/acme/case/old/a.pdf", "0123456789abcdef0123456789abcdef"
    earlier = root / ".versions" / version / key
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"stored before")
    (root / key).parent.mkdir(parents=True)
    os.link(earlier, root / key)
    store = local.LocalObjectStore(root)
    # When that version is read
    with store.local_copy(key, version) as path:
        # Then it is found where it was put
        assert path.read_bytes() == b"stored before"
    assert store.head(key, version).size == len(b"stored before")
    # And when a newer version is put in, then the document's uploads are purged
    (tmp_path / "a.pdf").write_bytes(b"stored after")
    store.put_upload(key, tmp_path / "a.pdf")
    assert store.purge_uploads("uploads/acme/case/old/") == 3  # the current one, two versions
    # Then no copy of either version is left, in either layout
    assert [path for path in root.rglob("*") if path.is_file()] == []


def _large_upload(tmp_path: Path) -> tuple[local.LocalObjectStore, Path, str, bytes]:
    """A store, and an upload large enough to be copied past the page cache, put in it."""
    if not local._create(tmp_path / "probe", direct=True)[1]:
        pytest.skip("this file system has no direct I/O: every copy is in the page cache")
    data = os.urandom(local._DIRECT_FROM + 5)
    source = tmp_path / "big.pdf"
    source.write_bytes(data)
    store = local.LocalObjectStore(tmp_path / "store")
    version = store.put_upload("uploads/acme/case/doc/big.pdf", source).version_id
    assert version is not None
    return store, source, version, data


def test_a_large_upload_is_read_from_the_file_it_was_copied_from_while_that_is_unchanged(
    tmp_path: Path,
):
    # Given a large upload, copied in with direct I/O (its copy is not in the page cache)
    store, source, version, _ = _large_upload(tmp_path)
    # When its stored version is asked for, the file it came from unchanged
    with store.local_copy("uploads/acme/case/doc/big.pdf", version) as path:
        # Then that file is read (its pages are in the page cache, from the copy)
        assert path == source.absolute()
    # And a small upload, copied through the page cache, is read from its copy
    small = tmp_path / "small.txt"
    small.write_bytes(b"clause")
    small_version = store.put_upload("uploads/acme/case/doc2/small.txt", small).version_id
    with store.local_copy("uploads/acme/case/doc2/small.txt", small_version) as path:
        assert path.is_relative_to(store.root)


def test_once_the_file_it_was_copied_from_changes_the_stored_copy_is_read(tmp_path: Path):
    # Given a large upload, and then its file rewritten, of the same size
    store, source, version, data = _large_upload(tmp_path)
    with source.open("r+b") as writer:
        writer.write(b"X")
    # When its stored version is read
    with store.local_copy("uploads/acme/case/doc/big.pdf", version) as path:
        # Then it is the copy, with the bytes as they were when put in the store
        assert path.is_relative_to(store.root)
        assert path.read_bytes() == data


def test_a_file_changed_while_read_in_its_copy_s_place_fails_the_read_and_the_next_reads_the_copy(
    tmp_path: Path,
):
    # Given a large upload, read from the file it was copied from
    store, source, version, data = _large_upload(tmp_path)
    key = "uploads/acme/case/doc/big.pdf"
    with pytest.raises(UploadChanged), store.local_copy(key, version) as path:
        assert path == source.absolute()
        # When the file is written to while it is read
        source.write_bytes(b"a new version")
    # Then the read fails (what it read may not be the stored version), typed, and the next
    # read is of the stored copy
    with store.local_copy(key, version) as path:
        assert path.read_bytes() == data


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The staging files the store's copies were made to, in order (a spy on the copy)."""
    made: list[Path] = []
    real = local._copy_upload

    def recorded(source: Path, staging: Path) -> local._Copy:
        made.append(staging)
        return real(source, staging)

    monkeypatch.setattr(local, "_copy_upload", recorded)
    return made


def _begin(source: Path, root: Path) -> None:
    """begin_upload_copy, waited for: what each test looks at is after the copy."""
    local.begin_upload_copy(source, root)
    local._early_copies[-1].copy.result()


def test_a_copy_begun_early_is_what_the_store_keeps_of_an_unchanged_file(
    tmp_path: Path, copies: list[Path]
):
    # Given a copy of a file begun before the store was opened
    data = os.urandom(3 * _COPY_BLOCK + 1)
    source = tmp_path / "big.pdf"
    source.write_bytes(data)
    root = tmp_path / "home" / "objects"
    _begin(source, root)
    # When the store puts that file, unchanged
    info = local.LocalObjectStore(root).put_upload("uploads/acme/case/doc/big.pdf", source)
    # Then it is copied once, early, and that copy is the stored version, nothing left over
    assert len(copies) == 1
    assert copies[0].name.endswith("-early")
    assert info.version_id == hashlib.sha256(data).hexdigest()[:32]
    with local.LocalObjectStore(root).local_copy(
        "uploads/acme/case/doc/big.pdf", info.version_id
    ) as path:
        assert path.read_bytes() == data
    assert not [path.name for path in (root / ".versions").iterdir() if "incoming" in path.name]


@pytest.mark.parametrize("change", ["rewritten", "another store"])
def test_a_copy_begun_early_is_not_used_for_a_file_changed_since_or_another_store(
    tmp_path: Path, copies: list[Path], change: str
):
    # Given a copy of a file begun early
    source = tmp_path / "big.pdf"
    source.write_bytes(b"first" * 1000)
    root = tmp_path / "home" / "objects"
    _begin(source, root)
    # When the file is rewritten before the store puts it, or another store puts it
    if change == "rewritten":
        source.write_bytes(b"second" * 1000)
    else:
        root = tmp_path / "elsewhere" / "objects"
    info = local.LocalObjectStore(root).put_upload("uploads/acme/case/doc/big.pdf", source)
    # Then the store copies the file as it is now, and the early copy is gone
    assert len(copies) == 2
    assert info.version_id == hashlib.sha256(source.read_bytes()).hexdigest()[:32]
    leftovers = list((tmp_path / "home" / "objects" / ".versions").glob(".incoming*"))
    assert leftovers == []


def test_a_copy_begun_early_that_nothing_takes_is_removed_at_exit(tmp_path: Path):
    # Given a copy begun early, and a command that ends before it stores the file
    source = tmp_path / "big.pdf"
    source.write_bytes(b"clause" * 1000)
    root = tmp_path / "home" / "objects"
    _begin(source, root)
    assert list((root / ".versions").glob(".incoming*"))
    # When the interpreter exits (the handler begin_upload_copy registered)
    local._discard_early_copies()
    # Then no staging file is left
    assert list((root / ".versions").glob(".incoming*")) == []
