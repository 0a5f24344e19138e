"""The state machine in moto's engine, the real handlers, a real and a generated PDF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models

from benchmarks.generators import scan_marker, scanned_record_pdf
from tests.documents import docx_file, page_picture, pdf_with_attachments, scanned_tiff
from tests.e2e.harness import DeployedStack


def _ingest(stack: DeployedStack, key: str, path: Path) -> dict:
    events = stack.upload(key, path.read_bytes())
    assert len(events) == 1, "the upload rule matches exactly one Object Created event"
    return stack.run(events[0])


@pytest.mark.built_artifacts
def test_real_pdf_is_ingested_end_to_end(stack: DeployedStack, qdrant: QdrantClient, corpus):
    # Given a PDF 2.0 file from the corpus uploaded under uploads/
    key = "uploads/acme/case-1/doc-1/Simple-PDF-2.0-file.pdf"
    # When the upload rule starts the state machine
    execution = _ingest(stack, key, corpus / "pdf20" / "Simple-PDF-2.0-file.pdf")
    # Then it succeeds through the single-segment fast path
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    functions = [name for name, _ in stack.invocations]
    assert functions == [
        "StartFunction",
        "PlanFunction",
        "ProcessSegmentFunction",
        "FinalizeFunction",
    ]
    keys = stack.object_keys("work/acme/doc-1/")
    assert any(k.endswith("segments/00000.chunks.jsonl") for k in keys)
    assert any(k.endswith("document.json") for k in keys)
    # And the main app hears about it
    published = stack.published()
    assert [event["detail-type"] for event in published] == ["Document Ingested"]
    detail = published[0]["detail"]
    assert detail["document_id"] == "doc-1" and detail["tenant_id"] == "acme"
    assert detail["segments_total"] == 1 and detail["chunks_total"] >= 1
    # And the points carry tenant, document and page provenance
    points, _ = qdrant.scroll(detail["collection"], limit=100, with_payload=True)
    assert points and all(p.payload["tenant_id"] == "acme" for p in points)
    assert all(p.payload["page_start"] == 1 for p in points)


@pytest.mark.built_artifacts
def test_a_pdf_s_attached_files_are_read_beside_its_pages(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a brief carrying a DOCX in its list of attachments and a note attached to a page
    exhibit = docx_file(tmp_path / "a.docx", ["The tenant assigned the lease to Bayside LLC."])
    brief = pdf_with_attachments(
        ["The motion is granted in part."],
        attached=[("Exhibit A.docx", exhibit.read_bytes())],
        annotated=[(0, "Note.txt", b"Call opposing counsel.")],
    )
    (event,) = stack.upload("uploads/acme/case-1/brief-1/brief.pdf", brief)
    # When it is ingested (Plan writes the attached files to a ZIP on S3, a segment reads it
    # by range)
    execution = stack.run(event)
    # Then a segment read its page and another its attached files, each under its name
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p["segment"] for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert sorted(s["kind"] for s in segments) == ["bytes", "pages"]
    points, _ = qdrant.scroll(stack.published()[0]["detail"]["collection"], with_payload=True)
    by_path = {p.payload.get("path"): p.payload["text"] for p in points}
    assert "The tenant assigned the lease to Bayside LLC." in by_path["Exhibit A.docx"]
    assert "Call opposing counsel." in by_path["Note.txt"]
    assert by_path[None] == "The motion is granted in part."


@pytest.mark.built_artifacts
def test_generated_300_page_pdf_fans_out_over_six_segments(
    stack: DeployedStack, qdrant: QdrantClient, generated
):
    # Given a 300-page PDF and SEGMENT_PAGES=50
    key = "uploads/acme/case-2/big-1/record.pdf"
    # When it is ingested
    execution = _ingest(stack, key, generated["pdf_300"])
    # Then the distributed Map ran one ProcessSegment per 50 pages
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segment_calls = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert sorted(p["segment"]["index"] for p in segment_calls) == list(range(6))
    keys = stack.object_keys("work/acme/big-1/")
    assert len([k for k in keys if k.endswith(".chunks.jsonl")]) == 6
    assert len([k for k in keys if k.endswith(".pdf")]) == 6
    # And the ledger has a done row per segment and a complete document row
    items = stack.ledger_items()
    segments = [i for i in items if i["sk"].startswith("SEG#")]
    assert len(segments) == 6 and {i["status"] for i in segments} == {"done"}
    document = next(i for i in items if i["sk"] == "DOCUMENT")
    assert document["status"] == "complete"
    # And every page's marker is in Qdrant with the right page number
    summary = json.loads(
        stack.s3.get_object(
            Bucket="docproc-e2e-documents", Key=next(k for k in keys if k.endswith("document.json"))
        )["Body"].read()
    )
    assert summary["pages"] == 300 and summary["segments_total"] == 6
    count = qdrant.count(
        summary["collection"],
        count_filter=models.Filter(
            must=[models.FieldCondition(key="document_id", match=models.MatchValue(value="big-1"))]
        ),
    ).count
    assert count == summary["chunks_total"]
    points, _ = qdrant.scroll(summary["collection"], limit=10_000, with_payload=True)
    for point in points:
        text = point.payload["text"]
        marker_pages = [
            int(part.split(" ")[0]) for part in text.split("Marker phrase for page number ")[1:]
        ]
        assert all(
            point.payload["page_start"] <= page <= point.payload["page_end"]
            for page in marker_pages
        )
    assert [e["detail-type"] for e in stack.published()] == ["Document Ingested"]


@pytest.mark.built_artifacts
def test_reupload_of_identical_content_is_a_no_op(stack: DeployedStack, generated):
    # Given an ingested document
    key = "uploads/acme/case-5/same-1/a.pdf"
    (first,) = stack.upload(key, generated["pdf_3"].read_bytes())
    assert stack.run(first)["status"] == "SUCCEEDED"
    (ingested,) = stack.published()
    assert ingested["detail"]["estimated_cost_usd"] == 0.0  # the offline embedder is free
    assert ingested["detail"]["embedding_model"] == "hashing-v2"
    stack.invocations.clear()
    # When the same bytes are uploaded again (a new S3 version with the same ETag)
    (second,) = stack.upload(key, generated["pdf_3"].read_bytes())
    assert second["detail"]["object"]["version-id"] != first["detail"]["object"]["version-id"]
    execution = stack.run(second)
    # Then nothing is redone and nothing is republished
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["status"] == "already_ingested"
    assert [name for name, _ in stack.invocations] == ["StartFunction", "PlanFunction"]
    assert stack.published() == []


@pytest.mark.built_artifacts
def test_a_scanned_pdf_is_read_by_ocr_in_several_segments(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a 120-page scan (images only, no text layer) and OCR on its defaults
    pages = 120
    path = scanned_record_pdf(tmp_path / "scan.pdf", pages)
    key = "uploads/acme/case-9/scan-1/scan.pdf"
    # When it is uploaded
    execution = _ingest(stack, key, path)
    # Then Plan cut it into segments of at most OCR_SEGMENT_PAGES (10) scanned pages
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segment_calls = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert len(segment_calls) == pages // 10
    assert all(p["segment"]["page_end"] - p["segment"]["page_start"] < 10 for p in segment_calls)
    # And the main app hears that every page was read by OCR
    (ingested,) = stack.published()
    assert ingested["detail"]["pages"] == pages and ingested["detail"]["pages_ocr"] == pages
    # And each page's text is in Qdrant on its own page, marked as OCR'd
    points, _ = qdrant.scroll(ingested["detail"]["collection"], limit=10_000, with_payload=True)
    found = {}
    for point in points:
        assert point.payload["extraction"] == "ocr"
        for number in range(point.payload["page_start"], point.payload["page_end"] + 1):
            found[number] = found.get(number, "") + point.payload["text"]
    missing = [n for n in range(1, pages + 1) if scan_marker(n) not in " ".join(found[n].split())]
    assert not missing, missing


@pytest.mark.built_artifacts
def test_a_multi_page_tiff_is_read_by_ocr_a_segment_s_frames_each(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a 25-page black-and-white TIFF (CCITT group 4), as a production delivers one
    pages = 25
    path = scanned_tiff(tmp_path / "volume.tif", [[scan_marker(n)] for n in range(1, pages + 1)])
    # When it is uploaded (Pillow and libtiff in the built image)
    execution = _ingest(stack, "uploads/acme/case-9/tiff-1/volume.tif", path)
    # Then Plan cut it into segments of OCR_SEGMENT_PAGES (10), each with a TIFF of its own
    # frames, and every page was read by OCR
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p["segment"] for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    # (the Map runs them at once: in any order)
    ranges = sorted((s["page_start"], s["page_end"]) for s in segments)
    assert ranges == [(1, 10), (11, 20), (21, 25)]
    assert all(s["input_key"].endswith(".tif") for s in segments)
    (ingested,) = stack.published()
    assert ingested["detail"]["media_type"] == "image/tiff"
    assert ingested["detail"]["pages"] == pages and ingested["detail"]["pages_ocr"] == pages
    # And each page's text is in Qdrant on its own page
    points, _ = qdrant.scroll(ingested["detail"]["collection"], limit=10_000, with_payload=True)
    found: dict[int, str] = {}
    for point in points:
        if point.payload["document_id"] != "tiff-1":
            continue
        for number in range(point.payload["page_start"], point.payload["page_end"] + 1):
            found[number] = found.get(number, "") + " ".join(point.payload["text"].split())
    assert [n for n in range(1, pages + 1) if scan_marker(n) not in found.get(n, "")] == []


@pytest.mark.built_artifacts
def test_a_phones_heic_photo_is_read_by_ocr(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a phone's photo of a notice, saved as HEIC
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_4031.HEIC"
    page_picture(["Notice 77310: rent review due in June"], mode="RGB", dpi=200).save(
        path, "HEIF", quality=90
    )
    # When it is uploaded (pillow-heif's libheif and HEVC decoder in the built image)
    execution = _ingest(stack, "uploads/acme/case-9/photo-1/IMG_4031.HEIC", path)
    # Then it was one segment of one page, read by OCR, its text in Qdrant
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (ingested,) = stack.published()
    assert ingested["detail"]["media_type"] == "image/heic"
    assert ingested["detail"]["pages_ocr"] == 1
    points, _ = qdrant.scroll(ingested["detail"]["collection"], limit=100, with_payload=True)
    texts = [p.payload["text"] for p in points if p.payload["document_id"] == "photo-1"]
    assert any("77310" in text for text in texts), texts
