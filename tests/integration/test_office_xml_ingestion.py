"""Office's one-file XML documents of the 2003 era on the laptop: a Word 2003 XML document and
an Excel 2003 XML workbook (named .xls, as export tools name them) found by what they say, each
read within the memory its budget assumes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from docproc.extract import spreadsheetml, wordml
from docproc.local.runner import ingest
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from tests.documents import excel_2003_xml, word_2003_xml
from tests.fakes import ReadsCounted
from tests.memory import peak_growth_mb


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _found(env, path: Path, query: str) -> dict:
    report = ingest(env, path, document_id=path.stem)
    assert report.status == "complete"
    payload: dict = env.vectors.search(env.embedder.embed([query])[0], "local")[0].payload
    return payload


def test_a_word_2003_document_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a lease saved as Word 2003 XML, with a footnote and a photograph in it
    body = (
        _p("The landlord insures the building against fire.")
        + "<w:p><w:r><w:t>Rent is due monthly.</w:t></w:r><w:r><w:footnote>"
        + _p("Smith v. Jones, 123 F.3d 456.")
        + "</w:footnote></w:r></w:p>"
    )
    path = tmp_path / "lease.xml"
    path.write_bytes(word_2003_xml(body, pictures=200_000))
    # When the laptop's runner ingests it, Then its text is found, read as a Word document's
    # (red before: plain text, its markup and the photograph's base64 chunked)
    hit = _found(env, path, "landlord insures the building")
    assert hit["text"] == (
        "The landlord insures the building against fire.\n\nRent is due monthly.\n\n"
        "Footnotes:\nSmith v. Jones, 123 F.3d 456."
    )
    assert hit["extraction"] == "wordml"


def test_an_excel_2003_workbook_named_xls_is_found_on_its_sheet(env, tmp_path: Path):
    # Given an export named .xls that is Excel 2003 XML: two sheets of rents
    path = tmp_path / "rents.xls"
    path.write_bytes(
        excel_2003_xml(
            {
                "2023": [["Unit", "Rent"], ["4", 1100]],
                "2024": [["Unit", "Rent"], ["4", 1250], ["Penthouse", 9800]],
            }
        )
    )
    # When the laptop's runner ingests it, Then the penthouse's row is found on sheet 2
    hit = _found(env, path, "Penthouse rent")
    assert (
        hit["text"]
        == "Sheet: 2024\n| Unit | Rent |\n| --- | --- |\n| 4 | 1250 |\n| Penthouse | 9800 |"
    )
    assert (hit["page_start"], hit["extraction"]) == (2, "spreadsheetml")


def test_a_word_2003_document_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given 15 MB of Word 2003 XML dense with text, a character beyond Latin-1 in each clause
    # (each character then two bytes in memory), and 12 MB of photographs
    clause = "Zoë\u2019s clause: the tenant keeps the premises in repair and good order. " * 10
    body = "".join(_p(f"{n} {clause}") for n in range(20_000))
    path = tmp_path / "dense.xml"
    path.write_bytes(word_2003_xml(body, pictures=9_000_000))
    del body
    size_mb = path.stat().st_size / 2**20
    # When it is read, Then the process grew by less than the budget assumes
    text, grew = peak_growth_mb(lambda: wordml.wordml_text(path))
    assert text.count("Zoë\u2019s clause") == 200_000
    assert grew < size_mb * wordml.MEMORY_FACTOR, (grew, size_mb)


def test_an_excel_2003_workbook_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given 40 MB of Excel 2003 XML: two sheets of 20,000 rows of long cells of text beyond
    # Latin-1
    rows = [[f"Unit {n}", "Zoë\u2019s tenancy of the premises " * 20] for n in range(20_000)]
    path = tmp_path / "rents.xls"
    path.write_bytes(excel_2003_xml({"A": rows, "B": rows}))
    del rows
    size_mb = path.stat().st_size / 2**20

    # When each sheet is read whole, Then the process grew by less than the budget assumes
    def read() -> int:
        return sum(len(sheet.text()) for sheet in spreadsheetml.sheet_tables(path))

    _, grew = peak_growth_mb(read)
    assert grew < size_mb * spreadsheetml.MEMORY_FACTOR, (grew, size_mb)


@pytest.mark.parametrize("kind", ["word", "excel"])
def test_one_is_read_in_place_start_to_end_in_few_requests(env, tmp_path: Path, kind: str):
    # Given a Word 2003 XML document of 24 MB (a photograph of 18 MB) and an Excel 2003 XML
    # workbook of about as much, uploaded
    if kind == "word":
        data = word_2003_xml(_p("The landlord insures the building."), pictures=18 << 20)
    else:
        rows = [
            [f"Unit {n}", "The tenant keeps the premises in repair. " * 5] for n in range(80_000)
        ]
        data = excel_2003_xml({"Units": rows})
    path = tmp_path / "export"
    path.write_bytes(data)
    key = "uploads/local/default/export/export"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    # When its one segment runs
    reads = ReadsCounted(env.store)
    result = process_segment(
        plan.first_task, dataclasses.replace(env.segment_deps(env.vectors), store=reads)
    )
    # Then it read the upload once through, by range, 8 MiB a request (red at 1 MiB: 24),
    # and made no copy
    assert result.chunks >= 1 and reads.copies == []
    assert reads.bytes_read <= len(data) + (8 << 20)
    assert reads.reads <= len(data) // (8 << 20) + 2, reads.reads
