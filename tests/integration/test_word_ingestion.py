"""Word documents on the laptop: Word 97-2003 documents read by range, their text found by
search, their pictures never read; DOCX as a reader sees it (changes tracked, footnotes); both
within the memory their budgets assume."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest

from docproc.extract import docx, included
from docproc.extract.doc import MEMORY_FACTOR, doc_text
from docproc.extract.packages import xml_megabytes
from docproc.local.runner import ingest
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from tests.documents import (
    ImportedPart,
    docx_with_photographs,
    embedded_object,
    flat_package,
    ole_object_run,
    packaged_object,
    pdf_of_lines,
    word_97_document,
    word_package,
)
from tests.fakes import ReadsCounted
from tests.memory import peak_growth_mb


def _ingested_and_found(env, path: Path, query: str) -> str:
    """The text of the chunk a search for ``query`` finds first, once the laptop's runner has
    ingested ``path`` (named by its stem)."""
    report = ingest(env, path, document_id=path.stem)
    assert report.status == "complete"
    hit = env.vectors.search(env.embedder.embed([query])[0], "local")[0]
    text: str = hit.payload["text"]
    return text


def test_a_word_document_is_found_by_what_it_says_its_pictures_unread(env, tmp_path: Path):
    # Given a Word 97-2003 document of 200 clauses, a table and a footnote, with 30 MB of
    # pictures, named without its extension
    clauses = "".join(f"Clause {n}: the tenant keeps the premises in repair.\r" for n in range(200))
    table = "Term\x07Value\x07\x1dDeposit\x0712,000\x07\x1d\r"
    data = word_97_document(
        clauses + table, {"footnotes": "\x02 Payable on signing.\r"}, pictures=30 << 20
    )
    path = tmp_path / "lease"
    path.write_bytes(data)
    key = "uploads/local/default/lease/lease"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    # When its one segment runs, reading by range
    reads = ReadsCounted(env.store)
    result = process_segment(
        plan.first_task, dataclasses.replace(env.segment_deps(env.vectors), store=reads)
    )
    # Then it read the file's directory and tables and the text's streams (each read with a
    # MiB after it: ~3.5 MiB here), not the 30 MB of pictures, and made no copy
    assert result.chunks > 1 and reads.copies == [] and reads.bytes_read < 5 << 20
    # And every clause, the table's row and the footnote are in its chunks, from "doc"
    keys = [k for k in env.store.list_keys("work/local/lease/") if k.endswith(".chunks.jsonl")]
    chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    text = "\n".join(chunk["text"] for chunk in chunks)
    assert all(f"Clause {n}: the tenant" in text for n in range(200))
    assert "| Term | Value |\n| --- | --- |\n| Deposit | 12,000 |" in text
    assert "Footnotes:\nPayable on signing." in text
    assert {chunk["extraction"] for chunk in chunks} == {"doc"}


def test_a_word_document_is_ingested_by_the_command_s_runner(env, tmp_path: Path):
    path = tmp_path / "memo.doc"
    path.write_bytes(word_97_document("The landlord insures the building.\r"))
    report = ingest(env, path, document_id="memo")
    assert report.status == "complete" and report.chunks_total == 1
    hit = env.vectors.search(env.embedder.embed(["landlord insures"])[0], "local")[0]
    assert hit.payload["text"] == "The landlord insures the building."


def test_a_word_document_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given a document of 6 MB of streams, its text with a character beyond Latin-1
    # (the most a character costs as str: 2 bytes)
    clause = "The tenant keeps the premises in repair, Zoë\u2019s clause {n}.\r"
    path = tmp_path / "long.doc"
    path.write_bytes(word_97_document("".join(clause.format(n=n) for n in range(70_000))))
    streams_mb = path.stat().st_size / 2**20
    # When it is read, Then the process grew by less than the budget's check assumes
    reset_peak_rss()
    before = current_rss_mb()
    text = doc_text(path)
    assert peak_rss_mb() - before < streams_mb * MEMORY_FACTOR
    assert text.count("Zoë\u2019s clause") == 70_000


_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _paragraph(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def test_a_docx_redline_is_found_by_its_new_terms_and_its_footnotes(env, tmp_path: Path):
    # Given a redlined brief: a term inserted with changes tracked, a deleted one, a
    # footnote citing a case, and the case number in its header
    inserted = '<w:ins w:id="1" w:author="Ann"><w:r><w:t>fourteen days</w:t></w:r></w:ins>'
    deleted = '<w:del w:id="2" w:author="Ann"><w:r><w:delText>thirty days</w:delText></w:r></w:del>'
    mark = '<w:r><w:footnoteReference w:id="1"/></w:r>'
    body = (
        f'<w:p><w:r><w:t xml:space="preserve">The deposit is returned within </w:t></w:r>'
        f"{inserted}{deleted}<w:r><w:t>.</w:t></w:r>{mark}</w:p>"
        + _paragraph("The landlord keeps the premises insured.")
    )
    footnote = (
        '<w:footnote w:id="1">' + _paragraph("Smith v. Jones, 123 F.3d 456.") + "</w:footnote>"
    )
    path = tmp_path / "brief.docx"
    path.write_bytes(
        word_package(body, footnotes=footnote, headers=[_paragraph("Case 24-cv-0117")])
    )
    # When the laptop's runner ingests it
    text = _ingested_and_found(env, path, "deposit returned fourteen days")
    # Then its one chunk reads as the brief with the changes accepted, its footnote and
    # header after the body under their labels (red before: the inserted term, the footnote
    # and the header were not in it)
    assert text == (
        "The deposit is returned within fourteen days.\n\n"
        "The landlord keeps the premises insured.\n\n"
        "Footnotes:\nSmith v. Jones, 123 F.3d 456.\n\n"
        "Headers and footers:\nCase 24-cv-0117"
    )


@pytest.mark.parametrize("form", ["package", "flat"])
def test_a_docx_is_read_within_the_memory_its_budget_assumes(tmp_path: Path, form: str):
    # Given a DOCX of 8 MB of XML: 40,000 paragraphs in runs of changes tracked, with
    # footnotes, and a character beyond Latin-1 in each; as a package, or saved flat (Word's
    # "Word XML Document", made into a package as it is read)
    clause = "The tenant keeps the premises in repair, Zoë\u2019s clause {n}."
    body = "".join(
        f'<w:p><w:ins w:id="{n}" w:author="A"><w:r><w:t>{clause.format(n=n)}</w:t></w:r></w:ins>'
        f'<w:r><w:footnoteReference w:id="{n}"/></w:r></w:p>'
        for n in range(40_000)
    )
    notes = "".join(
        f'<w:footnote w:id="{n}">{_paragraph(f"Note {n}.")}</w:footnote>' for n in range(40_000)
    )
    package_bytes = word_package(body, footnotes=notes)
    with zipfile.ZipFile(io.BytesIO(package_bytes)) as package:
        xml_mb = xml_megabytes(package)
    path = tmp_path / "long.docx"
    path.write_bytes(package_bytes if form == "package" else flat_package(package_bytes))
    del package_bytes, body, notes
    # When it is read, Then the process grew by less than the budget's check assumes
    text, grew = peak_growth_mb(lambda: docx.docx_text(path))
    assert grew < xml_mb * docx.XML_MEMORY_FACTOR
    assert text.count("Zoë\u2019s clause") == 40_000 and text.endswith("Note 39999.")


def test_a_word_xml_document_is_found_by_what_it_says_its_photographs_never_held(
    env, tmp_path: Path
):
    # Given a DOCX of 4 photographs of 6 MB, each captioned, saved flat by Word ("Word XML
    # Document": one XML file, the photographs in it as base64) and named .xml
    package = docx_with_photographs(tmp_path / "exhibits.docx", 4, 6 * 2**20)
    path = tmp_path / "exhibits.xml"
    path.write_bytes(flat_package(package.read_bytes()))
    # When it is read, Then its captions are, and the process grew by a fraction of the file:
    # the photographs were never decoded (red before: InvalidDocument, not a ZIP)
    text, grew = peak_growth_mb(lambda: docx.docx_text(path))
    assert all(f"Photograph {n}: the north wall on day {n}." in text for n in range(4))
    assert grew < path.stat().st_size / 2**20 / 4, grew
    # And on the laptop it is sniffed as a DOCX and found by what it says (red before: plain
    # text, its markup and base64 chunked)
    found = _ingested_and_found(env, path, "the north wall on day 2")
    assert "Photograph 2: the north wall on day 2." in found


def test_a_docx_assembled_from_imported_clauses_is_found_by_what_they_say(env, tmp_path: Path):
    # Given an agreement assembled by a document-assembly tool and never saved by Word: its
    # body imports a clause written as HTML and a schedule that is itself a DOCX
    schedule = word_package(_paragraph("Schedule 1: the premises are Unit 4, Harbour Road."))
    imported = [
        ImportedPart(
            "clause.htm", "text/html", b"<p>The tenant indemnifies the landlord.</p>", "rIdC"
        ),
        ImportedPart("schedule.docx", _DOCUMENT_MAIN, schedule, "rIdS"),
    ]
    body = (
        _paragraph("Agreement.")
        + '<w:altChunk r:id="rIdC"/><w:altChunk r:id="rIdS"/>'
        + _paragraph("Signed.")
    )
    path = tmp_path / "agreement.docx"
    path.write_bytes(word_package(body, imported=imported))
    # When the laptop's runner ingests it
    text = _ingested_and_found(env, path, "tenant indemnifies")
    # Then the imported clause and schedule are in its chunk, in their places (red before:
    # the DOCX was refused, InvalidDocument)
    assert text == (
        "Agreement.\n\nThe tenant indemnifies the landlord.\n\n"
        "Schedule 1: the premises are Unit 4, Harbour Road.\n\nSigned."
    )


def test_an_exhibit_a_docx_embeds_as_an_icon_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a brief that embeds its exhibit, a PDF, as Word does a file shown as an icon
    # (Packager's OLE object)
    exhibit = pdf_of_lines(["Exhibit 7: the survey finds damp in the north wall."])
    embedded = embedded_object(
        "embeddings/oleObject1.bin", packaged_object("survey.pdf", exhibit), "rIdE1"
    )
    icon = ole_object_run("rIdE1", "Package", icon=True)
    path = tmp_path / "brief.docx"
    body = f"<w:p><w:r><w:t>The survey is attached.</w:t></w:r>{icon}</w:p>"
    path.write_bytes(word_package(body, imported=[embedded]))
    # When the laptop's runner ingests it, Then the exhibit's text is found (red before: the
    # exhibit was not read)
    found = _ingested_and_found(env, path, "damp in the north wall")
    assert "Exhibit 7: the survey finds damp in the north wall." in found


def test_an_exhibit_a_word_97_document_embeds_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a Word 97-2003 brief that embeds its exhibit, a PDF shown as an icon (Packager's
    # object in the document's ObjectPool, its EMBED field its anchor)
    exhibit = pdf_of_lines(["Exhibit 9: the survey finds rot in the south beam."])
    field = "\x13 EMBED Package \x14\x01\x15"
    brief = word_97_document(
        f"The survey is attached.{field}\r", objects=[packaged_object("survey.pdf", exhibit)]
    )
    path = tmp_path / "brief.doc"
    path.write_bytes(brief)
    # When the laptop's runner ingests it, Then the exhibit's text is found, after the
    # paragraph (red before: the exhibit was not read)
    found = _ingested_and_found(env, path, "rot in the south beam")
    assert "The survey is attached.\n\nExhibit 9: the survey finds rot in the south beam." in found


def test_a_web_page_word_saved_whole_is_read_as_a_page(env, tmp_path: Path):
    # Given a memo Word saved as a single-file web page (MHTML): a MIME document, without a
    # sender, of its HTML in quoted-printable
    path = tmp_path / "memo.mht"
    path.write_bytes(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart"\r\n'
        b"\r\n------=_NextPart\r\nContent-Location: file:///C:/memo.htm\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b'Content-Type: text/html; charset="us-ascii"\r\n\r\n'
        b"<html><body><p class=3DMsoNormal>The hearing is moved to 3 March.</p></body></html>"
        b"\r\n------=_NextPart--\r\n"
    )
    # When the laptop's runner ingests it
    text = _ingested_and_found(env, path, "hearing moved")
    # Then its chunk is the page's text (red before: read as plain text, its MIME header,
    # markup and quoted-printable in the chunk)
    assert text == "The hearing is moved to 3 March."


def test_a_docx_s_imported_html_is_read_within_the_memory_its_budget_assumes():
    # Given a DOCX importing 13 MB of HTML (the kind that takes the most to read): 200,000
    # clauses with a character beyond Latin-1 in each
    clause = "<p>Clause {n}: the tenant keeps the premises in repair, Zoë\u2019s.</p>"
    html = "".join(clause.format(n=n) for n in range(200_000)).encode()
    part = ImportedPart("clauses.htm", "text/html", html)
    package = word_package(
        _paragraph("Lease.") + '<w:altChunk r:id="rIdImport1"/>', imported=[part]
    )
    # When it is read, Then the process grew by less than the budget's check assumes
    text, grew = peak_growth_mb(lambda: docx.docx_text(io.BytesIO(package)))
    assert grew < len(html) / 2**20 * included.IMPORTED_MEMORY_FACTOR
    assert text.count("Zoë\u2019s.") == 200_000
