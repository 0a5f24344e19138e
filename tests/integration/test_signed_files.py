"""A signed file (lease.pdf.p7m, as CAdES signatures wrap a contract) on the laptop: read as
the file it wraps, found by what that says."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.generators import page_marker, text_pdf
from docproc.local.runner import LocalEnvironment, ingest
from tests.documents import smime_streamed


def test_a_signed_pdf_is_ingested_as_the_pdf_it_wraps(env: LocalEnvironment, tmp_path: Path):
    # Given a 12-page PDF inside a signature, streamed out in pieces
    pdf = text_pdf(tmp_path / "lease.pdf", pages=12)
    path = tmp_path / "lease.pdf.p7m"
    path.write_bytes(smime_streamed(pdf.read_bytes()))
    # When it is ingested
    report = ingest(env, path, document_id="lease")
    # Then one segment read it whole, every page's text in its chunks, none of the signature's
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/lease/") if k.endswith(".chunks.jsonl")]
    chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    text = " ".join(" ".join(chunk["text"] for chunk in chunks).split())
    assert all(page_marker(number) in text for number in range(1, 13))
    assert {chunk["extraction"] for chunk in chunks} == {"p7m"}
