"""Workbooks: every sheet with values, as the sheet shows them, a Markdown row a line."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract.compound import compound_file
from docproc.extract.sniff import XLSX, sniff, sniff_zip
from docproc.extract.xlsx import sheet_tables
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    docx_file,
    legacy_workbook,
    packaged_object,
    pdf_of_lines,
    with_member_marked,
    with_sheet_objects,
    workbook,
)
from tests.fakes import RefusingBudget


def _texts(source: Path | io.BytesIO) -> list[tuple[int, str]]:
    return [(sheet.number, sheet.text()) for sheet in sheet_tables(source)]


def test_a_workbook_is_sniffed_by_its_members(tmp_path: Path):
    path = workbook(tmp_path / "book", {"Sheet": [["a"]]})
    assert sniff(path.read_bytes()[:8192]).media_type == "application/zip"
    assert sniff_zip(path) == XLSX


def test_each_sheet_with_values_is_a_table_under_its_name_hidden_ones_too(tmp_path: Path):
    # Given a workbook: a sheet of invoices, an empty sheet, and a hidden sheet of one note
    path = workbook(
        tmp_path / "book.xlsx",
        {
            "Invoices": [
                ["Invoice", "Date", "Amount", "Paid", "Note"],
                ["INV-1", datetime.datetime(2024, 3, 1), 1200.0, True, "part A|B"],
                ["INV-2", datetime.datetime(2024, 3, 2, 14, 30), 99.5, False, None],
            ],
            "Empty": [],
            "Notes": [[None, "Settlement floor is 40,000"]],
        },
        hidden={"Notes"},
    )
    # When its sheets are read
    # Then each sheet with values is its name over a Markdown table, numbered in the workbook
    assert _texts(path) == [
        (
            1,
            "Sheet: Invoices\n"
            "| Invoice | Date | Amount | Paid | Note |\n"
            "| --- | --- | --- | --- | --- |\n"
            "| INV-1 | 2024-03-01 | 1200 | TRUE | part A\\|B |\n"
            "| INV-2 | 2024-03-02T14:30:00 | 99.5 | FALSE |",
        ),
        (3, "Sheet: Notes\n|  | Settlement floor is 40,000 |\n| --- | --- |"),
    ]


def test_rows_are_read_as_the_sheet_has_them_whatever_its_dimension_says(tmp_path: Path):
    # Given a sheet of 3 columns and 3 rows whose XML states its dimension as A1:A1 (as some
    # writers leave it; openpyxl's read-only mode would read one cell)
    path = workbook(tmp_path / "book.xlsx", {"Data": [["a", "b", "c"], [1, 2, 3], [4, 5, 6]]})
    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:C3"/>', b'<dimension ref="A1:A1"/>')
                assert b'"A1:A1"' in data
            target.writestr(item, data)
    # When it is read, Then every row and column is there
    ((_, text),) = _texts(patched)
    assert text.splitlines()[-2:] == ["| 1 | 2 | 3 |", "| 4 | 5 | 6 |"]


def test_the_segment_s_memory_is_reserved_for_the_workbook_s_xml(tmp_path: Path):
    path = workbook(tmp_path / "book.xlsx", {"Data": [[f"row {n}"] for n in range(2000)]})
    with zipfile.ZipFile(path) as package:
        xml_mb = sum(i.file_size for i in package.infolist() if i.filename.endswith(".xml"))
    budget = RefusingBudget()
    with pytest.raises(SegmentBudgetExceeded, match="MB of XML"):
        list(sheet_tables(path, budget))
    ((megabytes, _),) = budget.asked
    assert megabytes >= xml_mb / 2**20


@pytest.mark.parametrize("mark", ["compression", "encryption"])
def test_a_sheet_zipfile_cannot_decompress_is_a_typed_error(tmp_path: Path, mark: str):
    path = workbook(tmp_path / "book.xlsx", {"Data": [["a"], ["b"]]})
    damaged = with_member_marked(path.read_bytes(), "xl/worksheets/sheet1.xml", mark)
    with pytest.raises(InvalidDocument):
        _texts(io.BytesIO(damaged))


def test_objects_a_sheet_embeds_are_read_after_its_table(tmp_path: Path):
    # Given a workbook whose first sheet embeds an exhibit's PDF packaged as an icon (an OLE
    # object) and a DOCX (an Office package), and whose second embeds a legacy workbook, and
    # an equation (a kind docproc does not read)
    book = workbook(
        tmp_path / "claims.xlsx",
        {
            "Claims": [["Claim", "Amount"], ["C-1", 500]],
            "Costs": [["Item", "Cost"], ["Survey", 90]],
        },
    ).read_bytes()
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    letter = docx_file(tmp_path / "letter.docx", ["The insurer accepts claim C-1."]).read_bytes()
    costs = legacy_workbook(tmp_path / "c.xls", {"Invoice": [["Survey fee", 90]]}).read_bytes()
    equation = compound_file({"Equation Native": b"\x1c\x00MTEF", "\x01CompObj": bytes(28)})
    book = with_sheet_objects(book, 1, [("oleObject1.bin", plan), ("letter.docx", letter)])
    book = with_sheet_objects(book, 2, [("oleObject2.bin", costs), ("oleObject3.bin", equation)])
    # When its sheets are read
    # Then each object's file is read after its sheet's table, on that sheet, under its name
    # (red before: no object was read)
    assert _texts(io.BytesIO(book)) == [
        (1, "Sheet: Claims\n| Claim | Amount |\n| --- | --- |\n| C-1 | 500 |"),
        (1, "Sheet: Claims\nExhibit A: the floor plan."),
        (1, "Sheet: Claims\nThe insurer accepts claim C-1."),
        (2, "Sheet: Costs\n| Item | Cost |\n| --- | --- |\n| Survey | 90 |"),
        (2, "Sheet: Costs\nSheet: Invoice\n| Survey fee | 90 |\n| --- | --- |"),
    ]


def test_damaged_workbooks_give_text_or_a_typed_error(tmp_path: Path):
    # Given a small workbook, one embedding an object, and random damage to their bytes
    path = workbook(tmp_path / "book.xlsx", {"Data": [["Name", "Value"], ["a", 1], ["b", 2]]})
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A."]))
    with_object = with_sheet_objects(path.read_bytes(), 1, [("oleObject1.bin", plan)])
    copies = damaged_copies([path.read_bytes(), with_object], 300, seed=5)
    # When each is read
    counts = outcomes(lambda data: _texts(io.BytesIO(data)), copies, (InvalidDocument,))
    # Then each gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts
