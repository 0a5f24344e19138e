"""E-mail on the laptop: a message and its attachments found by what they say, read within the
memory its segment has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.generators import image_pdf, page_marker, text_pdf
from docproc.config import LocalSettings
from docproc.extract.mail import MESSAGE_MEMORY_FACTOR
from docproc.local.runner import LocalEnvironment, ingest
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from tests.documents import docx_file, email_message, pdf_of_lines


@pytest.fixture
def env(tmp_path: Path):
    environment = LocalEnvironment(LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1))
    yield environment
    environment.close()


def test_an_email_and_its_attachments_are_found_by_what_they_say(env, tmp_path: Path):
    # Given a message with a 40-page PDF and a DOCX attached, saved as .eml
    pdf = text_pdf(tmp_path / "record.pdf", pages=40)
    draft = docx_file(tmp_path / "draft.docx", ["Clause 9: the landlord insures the building."])
    message = email_message(
        "Record of the hearing",
        "The record and our draft are attached.",
        attachments=[
            ("record.pdf", "application/pdf", pdf.read_bytes()),
            ("draft.docx", "application/vnd.openxmlformats", draft.read_bytes()),
        ],
    )
    path = tmp_path / "hearing.eml"
    path.write_bytes(message.as_bytes())
    # When it is ingested
    report = ingest(env, path, document_id="hearing")
    # Then it is one message, read whole: its body, every page of the PDF and the DOCX are in
    # its chunks, and none holds the attachments' base64
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/hearing/") if k.endswith(".chunks.jsonl")]
    chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    text = " ".join(" ".join(chunk["text"] for chunk in chunks).split())
    assert "Subject: Record of the hearing The record and our draft are attached." in text
    assert all(f"{page_marker(number)} " in text for number in range(1, 41))
    assert "Clause 9: the landlord insures the building." in text
    assert "JVBERi" not in text and "UEsDB" not in text
    # And a search finds the DOCX's clause, in a chunk extracted from an e-mail
    hit = env.vectors.search(env.embedder.embed(["landlord insures building"])[0], "local")[0]
    assert "Clause 9" in hit.payload["text"] and hit.payload["extraction"] == "email"


def _peak_growth_mb(env: LocalEnvironment, path: Path) -> float:
    """What ingesting ``path`` adds to the process's peak, once a small message with a PDF
    has been ingested (the store open, the readers loaded: what every file adds alike)."""
    warm = email_message(
        "Warm", "Up.", attachments=[("a.pdf", "application/pdf", pdf_of_lines(["x"]))]
    )
    (path.parent / "warm.eml").write_bytes(warm.as_bytes())
    ingest(env, path.parent / "warm.eml", document_id="warm")
    reset_peak_rss()
    before = current_rss_mb()
    report = ingest(env, path, document_id=path.stem)
    assert report.status == "complete"
    return peak_rss_mb() - before


def test_a_message_is_read_within_the_memory_its_budget_assumes(env, tmp_path: Path):
    # Given a 40 MB message that is one 30 MB PDF of scans, base64-encoded (the worst case:
    # the parsed message, then the attachment decoded and read)
    scans = image_pdf(tmp_path / "scans.pdf", 30_000_000, jpeg=True)
    message = email_message(
        "Scans", "Attached.", attachments=[("scans.pdf", "application/pdf", scans.read_bytes())]
    )
    path = tmp_path / "scans.eml"
    path.write_bytes(message.as_bytes())
    # When it is ingested, then the process grew by less than the budget's check assumes
    # (parsed from bytes, it was 7x the message)
    size_mb = path.stat().st_size / 2**20
    assert _peak_growth_mb(env, path) < size_mb * MESSAGE_MEMORY_FACTOR
