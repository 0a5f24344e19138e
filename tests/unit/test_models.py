from __future__ import annotations

import uuid

import pytest

from docproc.errors import InvalidObjectKey
from docproc.models import DocumentKey, point_id


def test_upload_key_yields_ids():
    ids = DocumentKey.from_object_key("uploads/acme/case-7/doc.1/Contract Final (v2).pdf")
    assert (ids.tenant_id, ids.case_id, ids.document_id) == ("acme", "case-7", "doc.1")
    assert ids.filename == "Contract Final (v2).pdf"
    assert ids.object_key() == "uploads/acme/case-7/doc.1/Contract Final (v2).pdf"


@pytest.mark.parametrize(
    "key",
    [
        "incoming/acme/case/doc/file.pdf",  # outside uploads/
        "uploads/acme/case/doc",  # no filename
        "uploads/acme/case/doc/",  # empty filename
        "uploads/acme/case/doc/sub/file.pdf",  # too deep
        "uploads/../case/doc/file.pdf",  # traversal
        "uploads/acme/../doc/file.pdf",
        "uploads/acme/case/../file.pdf",
        "uploads/ac me/case/doc/file.pdf",  # bad character
        "uploads/acme/case/" + "d" * 129 + "/file.pdf",  # too long
        "uploads//case/doc/file.pdf",  # empty id
        "uploads/acme/case/doc/..",
    ],
)
def test_bad_keys_are_rejected_with_a_typed_error(key: str):
    with pytest.raises(InvalidObjectKey):
        DocumentKey.from_object_key(key)


def test_point_ids_are_deterministic_uuids():
    first = point_id("acme", "doc", "v1", 3, 17)
    assert first == point_id("acme", "doc", "v1", 3, 17)
    assert uuid.UUID(first).version == 5
    # Pinned: changing the namespace or the name format would orphan every stored point.
    assert first == "93ce9ee2-6bfc-5b73-9942-fe6cd64b099f"


@pytest.mark.parametrize(
    "other",
    [
        ("other", "doc", "v1", 3, 17),
        ("acme", "doc2", "v1", 3, 17),
        ("acme", "doc", "v2", 3, 17),
        ("acme", "doc", "v1", 4, 17),
        ("acme", "doc", "v1", 3, 18),
    ],
)
def test_point_ids_differ_when_any_part_differs(other):
    assert point_id(*other) != point_id("acme", "doc", "v1", 3, 17)


def test_execution_names_are_readable_valid_and_unique():
    from docproc.pipeline.start import execution_name

    ids = DocumentKey.from_object_key("uploads/acme/case/doc-1/a.pdf")
    assert execution_name(ids, "3HL4kqtJ.lcp+X") == "acme-doc-1-3HL4kqtJ-lcp-X"
    long_ids = DocumentKey.from_object_key("uploads/acme/case/" + "d" * 120 + "/a.pdf")
    first, second = execution_name(long_ids, "v1"), execution_name(long_ids, "v2")
    assert len(first) == 80 and first != second
