from __future__ import annotations

import uuid

import pytest

from docproc.errors import InvalidObjectKey
from docproc.ledger.records import utc_now
from docproc.models import DocumentKey, DocumentRecord, ReindexSegment, point_id


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


def test_a_row_from_before_completed_totals_were_kept_does_not_guess_them():
    # Given a row written before the completed version's totals were kept, whose newer
    # upload has since started (its totals are the newer version's)
    row = DocumentRecord(
        tenant_id="acme",
        case_id="c1",
        document_id="d1",
        version="v2",
        status="processing",
        segments_total=5,
        completed_version="v1",
        started_at=utc_now(),
        updated_at=utc_now(),
    )
    # Then the searchable version's totals are unknown, not the newer version's
    assert row.completed_totals is None
    # And a complete row's are its own
    complete = row.model_copy(update={"version": "v1", "status": "complete", "tokens_total": 7})
    assert complete.completed_totals == (5, 7)


def test_a_reindex_manifest_item_from_an_earlier_plan_still_parses():
    # Given an item of a manifest written before the chunks were read from the collection in
    # use (it names the segment's chunk file)
    earlier = {
        "tenant_id": "acme",
        "document_id": "lease-1",
        "version": "v1",
        "segment": 2,
        "chunks_key": "work/acme/lease-1/v1/segments/00002.chunks.jsonl",
    }
    # When a redrive after an upgrade reads it
    item = ReindexSegment.model_validate(earlier)
    # Then it is the same segment, and what is written of it no longer names the file
    assert (item.document_id, item.segment) == ("lease-1", 2)
    assert "chunks_key" not in item.model_dump_json()
