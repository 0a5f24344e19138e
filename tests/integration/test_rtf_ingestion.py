"""RTF on the laptop: the objects a document embeds found by what they say, read within the
memory its budget assumes."""

from __future__ import annotations

from pathlib import Path

from benchmarks.generators import image_pdf
from docproc.extract.rtf import RTF_MEMORY_FACTOR, rtf_text
from docproc.local.runner import ingest
from tests.documents import legacy_workbook, packager_data, rtf_object
from tests.memory import peak_growth_mb


def test_a_workbook_an_rtf_embeds_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a lease saved as RTF, its schedule of rents pasted from Excel as an object
    rents = legacy_workbook(tmp_path / "rents.xls", {"Schedule": [["Unit 7", "Kiosk", 950]]})
    schedule = rtf_object("Excel.Sheet.8", rents.read_bytes())
    lease = tmp_path / "lease.rtf"
    lease.write_text(r"{\rtf1\ansi\pard Clause 3: rent as scheduled.\par " + schedule + "}")
    # When it is ingested
    report = ingest(env, lease, document_id="lease")
    # Then a search finds the schedule's row in a chunk of the lease, read by striprtf's path
    assert report.status == "complete"
    query = "Unit 7 Kiosk"
    dense, sparse = env.embedder.embed([query])[0], env.sparse.encode_query(query)
    hit = env.vectors.search(dense, "local", sparse=sparse)[0]
    assert hit.payload["document_id"] == "lease" and hit.payload["extraction"] == "striprtf"
    assert "| Unit 7 | Kiosk | 950 |" in hit.payload["text"]


def test_an_rtf_with_an_object_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given an RTF whose object is a 20 MB PDF of scans packaged as an icon (the worst case:
    # its hexadecimal, the object decoded, the file it wraps, then read)
    scans = image_pdf(tmp_path / "scans.pdf", 20_000_000, jpeg=True).read_bytes()
    exhibit = rtf_object("Package", packager_data("scans.pdf", scans))
    data = (r"{\rtf1\ansi\pard Exhibits.\par " + exhibit + "}").encode()
    del scans, exhibit
    # When it is read, Then the process grew by less than the budget's check assumes
    text, grew = peak_growth_mb(lambda: rtf_text(data))
    assert grew < len(data) / 2**20 * RTF_MEMORY_FACTOR
    assert text.startswith("Exhibits.\n\n") and len(text) > 1000
