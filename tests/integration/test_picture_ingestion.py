"""Pictures on the laptop: a multi-page TIFF segmented and read by OCR page by page, a photo
found by what it shows, and a large TIFF read a frame at a time."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.generators import scan_marker
from docproc.errors import InvalidDocument
from docproc.local.runner import LocalEnvironment, ingest
from docproc.models import SegmentTask
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from tests.documents import page_picture, scanned_tiff, white_png
from tests.fakes import InMemoryObjectStore
from tests.integration.test_hostile_input import FILE_MEMORY_BOUND_MB


def _chunks(env: LocalEnvironment, document_id: str) -> list[dict]:
    keys = [k for k in env.store.list_keys(f"work/local/{document_id}/") if k.endswith(".jsonl")]
    return [json.loads(line) for key in keys for line in env.store.get_bytes(key).splitlines()]


def test_a_multi_page_tiff_is_segmented_and_each_page_read_by_ocr(env, tmp_path: Path):
    # Given a 25-page black-and-white TIFF, as a scanner or a production delivers one
    pages = 25
    path = scanned_tiff(tmp_path / "volume.tif", [[scan_marker(n)] for n in range(1, pages + 1)])
    # When it is ingested (OCR_SEGMENT_PAGES: 10)
    report = ingest(env, path, document_id="volume")
    # Then it is three segments of scans, every page read by OCR
    assert report.status == "complete" and report.segments_total == 3
    assert report.pages == pages and report.pages_ocr == pages
    # And each page's text is in a chunk of that page, marked as OCR'd
    found: dict[int, str] = {}
    for chunk in _chunks(env, "volume"):
        assert chunk["extraction"] == "ocr"
        for number in range(chunk["page_start"], chunk["page_end"] + 1):
            found[number] = found.get(number, "") + " ".join(chunk["text"].split())
    assert [n for n in range(1, pages + 1) if scan_marker(n) not in found.get(n, "")] == []
    # And it is announced as what it is
    summary = f"work/local/volume/{report.version}/document.json"
    assert json.loads(env.store.get_bytes(summary))["media_type"] == "image/tiff"


def test_a_photo_of_a_page_is_found_by_what_it_shows(env, tmp_path: Path):
    # Given a phone's photo of a receipt, saved as a JPEG named without an extension
    path = tmp_path / "IMG_2024"
    page_picture(["Receipt 55120 from Harbour Storage"], mode="RGB", dpi=200).save(path, "JPEG")
    # When it is ingested, Then a search for what it shows finds it
    report = ingest(env, path, document_id="receipt")
    assert report.status == "complete" and report.pages_ocr == 1
    hit = env.vectors.search(env.embedder.embed(["Harbour Storage receipt"])[0], "local")[0]
    assert hit.payload["document_id"] == "receipt" and "55120" in hit.payload["text"]


def test_a_phones_heic_photo_of_a_page_is_found_by_what_it_shows(env, tmp_path: Path):
    # Given a phone's photo of a notice saved as HEIC (as an iPhone's camera saves them)
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_4031.HEIC"
    notice = page_picture(["Notice 77310: rent review due in June"], mode="RGB", dpi=200)
    notice.save(path, "HEIF", quality=90)
    # When it is ingested, Then it is a picture read by OCR, found by what it shows (red
    # before: "content is video/mp4", the ISO base media box a HEIC shares with a video)
    report = ingest(env, path, document_id="notice")
    assert report.status == "complete" and report.pages_ocr == 1
    hit = env.vectors.search(env.embedder.embed(["rent review notice"])[0], "local")[0]
    assert hit.payload["document_id"] == "notice" and "77310" in hit.payload["text"]
    summary = f"work/local/notice/{report.version}/document.json"
    assert json.loads(env.store.get_bytes(summary))["media_type"] == "image/heic"


def test_where_the_upload_is_not_on_disk_each_segment_reads_a_tiff_of_its_own_pages(
    env, tmp_path: Path
):
    # Given a 25-page TIFF in a store like S3 (a segment's file would be a download of all
    # of it)
    pages = 25
    path = scanned_tiff(tmp_path / "volume.tif", [[scan_marker(n)] for n in range(1, pages + 1)])
    key = "uploads/acme/case/volume/volume.tif"
    store = InMemoryObjectStore({key: path.read_bytes()})
    # When it is planned and each segment runs
    plan = plan_document(key, None, store, env.ledger, env.plan_options())
    manifest = json.loads(store.get_bytes(plan.document.manifest_key))
    tasks = [SegmentTask.model_validate(item) for item in manifest]
    deps = dataclasses.replace(env.segment_deps(env.vectors), store=store)
    for task in tasks:
        process_segment(task, deps)
    # Then each segment's input is a TIFF of its own pages, not the upload, and each page's
    # text is numbered as in the upload
    assert [(t.segment.page_start, t.segment.page_end) for t in tasks] == [
        (1, 10),
        (11, 20),
        (21, 25),
    ]
    assert all(t.segment.input_key.endswith(".tif") and t.segment.input_key != key for t in tasks)
    found: dict[int, str] = {}
    for chunk_key in [k for k in store.objects if k.endswith(".chunks.jsonl")]:
        for line in store.get_bytes(chunk_key).splitlines():
            chunk = json.loads(line)
            for number in range(chunk["page_start"], chunk["page_end"] + 1):
                found[number] = found.get(number, "") + " ".join(chunk["text"].split())
    assert [n for n in range(1, pages + 1) if scan_marker(n) not in found.get(n, "")] == []


def test_a_large_tiff_is_planned_and_read_a_frame_at_a_time(env, tmp_path: Path):
    # Given a 200 MB TIFF: 12 pages of 16 MB of noise each (LZW, which noise does not
    # shrink), then a page of text
    rng = random.Random(3)
    noise = [Image.frombytes("L", (4096, 4096), rng.randbytes(4096 * 4096)) for _ in range(12)]
    last = page_picture(["The last page of the volume"], mode="L", dpi=200)
    path = tmp_path / "large.tif"
    noise[0].save(path, save_all=True, append_images=[*noise[1:], last], compression="tiff_lzw")
    del noise
    assert path.stat().st_size > 200 * 10**6
    key = "uploads/local/default/large/large.tif"
    upload = env.store.put_upload(key, path)
    # When it is planned a page to a segment, and its last segment runs
    reset_peak_rss()
    before = current_rss_mb()
    options = dataclasses.replace(env.plan_options(), ocr_segment_pages=1)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, options)
    manifest = json.loads(env.store.get_bytes(plan.document.manifest_key))
    tasks = [SegmentTask.model_validate(item) for item in manifest]
    assert len(tasks) == 13
    result = process_segment(tasks[-1], env.segment_deps(env.vectors))
    # Then neither held the file (MuPDF reads a picture's whole file into memory first: a
    # 133 MB TIFF took its process to 193 MB), and the last page's text was read
    assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
    assert result.chunks == 1
    (chunk,) = _chunks(env, "large")
    assert " ".join(chunk["text"].split()) == "The last page of the volume"
    assert (chunk["page_start"], chunk["page_end"]) == (13, 13)


def test_a_picture_bomb_is_refused_typed_without_being_decoded(env, tmp_path: Path):
    # Given a 1 MB PNG of 30,000 x 30,000 pixels (MuPDF took 1.8 GB to draw it small)
    path = tmp_path / "bomb.png"
    path.write_bytes(white_png(30_000, 30_000))
    # When it is ingested, Then it is refused, typed, within a file's memory
    reset_peak_rss()
    before = current_rss_mb()
    with pytest.raises(InvalidDocument, match="megapixels"):
        ingest(env, path, document_id="bomb")
    assert peak_rss_mb() - before < FILE_MEMORY_BOUND_MB
