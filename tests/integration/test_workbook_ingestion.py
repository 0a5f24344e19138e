"""Workbooks on the laptop: every sheet's rows found, in chunks headed by the sheet's name and
header row, each on its sheet's number."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from docproc.errors import EncryptedDocument
from docproc.extract.compound import compound_file
from docproc.local.runner import ingest
from tests.documents import (
    legacy_workbook,
    packaged_object,
    pdf_of_lines,
    with_legacy_sheet_objects,
    with_sheet_objects,
    workbook,
)


def test_a_workbook_s_rows_are_chunked_under_their_sheet_and_header(env, tmp_path: Path):
    # Given a workbook of 600 invoices, and a hidden sheet with one note
    invoices = [
        [f"INV-{4000 + n}", datetime.datetime(2024, 1, 1) + datetime.timedelta(days=n), 1200 + n]
        for n in range(600)
    ]
    path = workbook(
        tmp_path / "accounts.xlsx",
        {
            "Invoices": [["Invoice", "Date", "Amount"], *invoices],
            "Notes": [["Settlement floor is 40,000"]],
        },
        hidden={"Notes"},
    )
    # When it is ingested
    report = ingest(env, path, document_id="accounts")
    # Then it is one segment of several chunks, extracted by openpyxl
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/accounts/") if k.endswith(".jsonl")]
    chunks = [json.loads(line) for key in keys for line in env.store.get_bytes(key).splitlines()]
    assert len(chunks) > 3 and {c["extraction"] for c in chunks} == {"openpyxl"}
    # And every chunk of the invoices is on sheet 1 and starts with its name and header row
    # (so a chunk alone says what its columns are), every invoice in exactly one of them
    on_invoices = [c for c in chunks if c["page_start"] == 1]
    assert all(
        c["text"].startswith("Sheet: Invoices\n| Invoice | Date | Amount |\n| --- | --- | --- |")
        for c in on_invoices
    )
    rows = [line for c in on_invoices for line in c["text"].splitlines()[3:]]
    day = datetime.date(2024, 1, 1)
    assert rows == [
        f"| INV-{4000 + n} | {day + datetime.timedelta(days=n)} | {1200 + n} |" for n in range(600)
    ]
    # And the hidden sheet's note is a chunk on sheet 2, found by a search
    hit = env.vectors.search(env.embedder.embed(["settlement floor"])[0], "local")[0]
    assert hit.payload["text"] == "Sheet: Notes\n| Settlement floor is 40,000 |\n| --- |"
    assert hit.payload["page_start"] == 2


def test_a_legacy_workbook_is_read_as_a_workbook(env, tmp_path: Path):
    # Given an Excel 97-2003 workbook named without its extension
    path = legacy_workbook(
        tmp_path / "arrears",
        {"Arrears": [["Unit", "Owed", "Since"], [4, 350, datetime.date(2023, 11, 1)]]},
    )
    # When it is ingested, Then its sheet is a chunk under its name and header, by xlrd
    report = ingest(env, path, document_id="arrears")
    assert report.status == "complete"
    hit = env.vectors.search(env.embedder.embed(["arrears owed"])[0], "local")[0]
    assert hit.payload["text"] == (
        "Sheet: Arrears\n| Unit | Owed | Since |\n| --- | --- | --- |\n| 4 | 350 | 2023-11-01 |"
    )
    assert hit.payload["extraction"] == "xlrd" and hit.payload["page_start"] == 1


def test_an_office_file_encrypted_with_a_password_is_refused_as_encrypted(env, tmp_path: Path):
    # Given what Office saves for a workbook protected by a password to open: a compound file
    # holding the encrypted package
    path = tmp_path / "protected.xlsx"
    path.write_bytes(compound_file({"EncryptionInfo": bytes(200), "EncryptedPackage": bytes(600)}))
    # When it is ingested, Then it is refused as encrypted (it was "unsupported")
    with pytest.raises(EncryptedDocument):
        ingest(env, path, document_id="protected")


@pytest.mark.parametrize(
    ("suffix", "extraction"), [("xlsx", "openpyxl"), ("xls", "xlrd")], ids=["xlsx", "xls"]
)
def test_an_exhibit_a_sheet_embeds_is_found_on_its_sheet(
    env, tmp_path: Path, suffix: str, extraction: str
):
    # Given a claims register (an XLSX, or an Excel 97-2003 workbook) whose second sheet embeds
    # the survey it cites, a PDF packaged as an icon, as Excel embeds one (a part the sheet's
    # relationships name; a storage an OBJ record of the sheet names)
    sheets = {"Claims": [["C-1", 500]], "Evidence": [["C-1", "Exhibit 4"]]}
    survey = packaged_object(
        "survey.pdf", pdf_of_lines(["Exhibit 4: the survey finds subsidence under the wall."])
    )
    path = tmp_path / f"register.{suffix}"
    if suffix == "xlsx":
        book = workbook(path, sheets).read_bytes()
        path.write_bytes(with_sheet_objects(book, 2, [("oleObject1.bin", survey)]))
    else:
        book = legacy_workbook(path, sheets).read_bytes()
        path.write_bytes(with_legacy_sheet_objects(book, 2, [survey]))
    # When it is ingested
    report = ingest(env, path, document_id="register")
    # Then a search finds the exhibit's text, in a chunk on sheet 2 headed by its name (red
    # before: the object was not read)
    assert report.status == "complete"
    query = "subsidence under the wall"
    dense, sparse = env.embedder.embed([query])[0], env.sparse.encode_query(query)
    hit = env.vectors.search(dense, "local", sparse=sparse)[0]
    assert hit.payload["text"] == (
        "Sheet: Evidence\nExhibit 4: the survey finds subsidence under the wall."
    )
    assert hit.payload["page_start"] == hit.payload["page_end"] == 2
    assert hit.payload["extraction"] == extraction
