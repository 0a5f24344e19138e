"""Workbooks: every sheet with values, as the sheet shows them, a Markdown row a line."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract.sniff import XLSX, sniff, sniff_zip
from docproc.extract.xlsx import sheet_tables
from tests.damage import damaged_copies, outcomes
from tests.documents import with_member_marked, workbook
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


def test_damaged_workbooks_give_text_or_a_typed_error(tmp_path: Path):
    # Given a small workbook, and random damage to its bytes
    path = workbook(tmp_path / "book.xlsx", {"Data": [["Name", "Value"], ["a", 1], ["b", 2]]})
    copies = damaged_copies([path.read_bytes()], 300, seed=5)
    # When each is read
    counts = outcomes(lambda data: _texts(io.BytesIO(data)), copies, (InvalidDocument,))
    # Then each gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts
