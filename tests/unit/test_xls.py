"""Compound files told apart by their streams, and Excel 97-2003 workbooks read as XLSX are."""

from __future__ import annotations

import datetime
import io
import struct
from pathlib import Path

import olefile
import pytest

from docproc.errors import (
    EncryptedDocument,
    InvalidDocument,
    SegmentBudgetExceeded,
    UnsupportedDocument,
)
from docproc.extract import xls
from docproc.extract.compound import compound_file, storage_streams
from docproc.extract.sniff import OLE, XLS, sniff, sniff_ole
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    legacy_workbook,
    packaged_object,
    pdf_of_lines,
    with_legacy_sheet_objects,
    word_97_document,
)
from tests.fakes import RefusingBudget


def test_a_legacy_workbook_is_told_by_its_workbook_stream(tmp_path: Path):
    path = legacy_workbook(tmp_path / "book", {"Sheet": [["a"]]})
    assert sniff(path.read_bytes()[:8192]).media_type == OLE
    assert sniff_ole(path) == XLS


@pytest.mark.parametrize(
    ("stream", "error", "detected"),
    [
        ("EncryptedPackage", EncryptedDocument, None),
        ("Something", UnsupportedDocument, OLE),
    ],
)
def test_other_compound_files_are_named_or_refused_as_encrypted(
    tmp_path: Path, stream: str, error: type[Exception], detected: str | None
):
    # Given a compound file with the stream only that kind has (a DOCX or XLSX protected by
    # a password to open is one with an EncryptedPackage)
    compound = compound_file({stream: bytes(600)})
    # When its kind is read, Then it is refused for what it is
    with pytest.raises(error) as refused:
        sniff_ole(io.BytesIO(compound))
    if detected is not None:
        assert refused.value.detected_type == detected  # type: ignore[attr-defined]


def test_each_sheet_with_values_is_a_table_under_its_name(tmp_path: Path):
    # Given a workbook of invoices (a date, a number, a boolean), an empty sheet, and a hidden
    # sheet of one note
    path = legacy_workbook(
        tmp_path / "book.xls",
        {
            "Invoices": [
                ["Invoice", "Date", "Amount", "Paid"],
                ["INV-1", datetime.date(2024, 3, 1), 1200.0, True],
                ["INV-2", datetime.datetime(2024, 3, 2, 14, 30), 99.5, False],
            ],
            "Empty": [],
            "Notes": [[None, "Settlement floor is 40,000"]],
        },
        hidden=frozenset({"Notes"}),
    )
    # When its sheets are read, Then they read as an XLSX's do
    assert [(sheet.number, sheet.text()) for sheet in xls.sheet_tables(path)] == [
        (
            1,
            "Sheet: Invoices\n"
            "| Invoice | Date | Amount | Paid |\n"
            "| --- | --- | --- | --- |\n"
            "| INV-1 | 2024-03-01 | 1200 | TRUE |\n"
            "| INV-2 | 2024-03-02T14:30:00 | 99.5 | FALSE |",
        ),
        (3, "Sheet: Notes\n|  | Settlement floor is 40,000 |\n| --- | --- |"),
    ]


def test_the_segment_s_memory_is_reserved_before_the_workbook_is_read(tmp_path: Path):
    path = legacy_workbook(tmp_path / "book.xls", {"Data": [[f"row {n}"] for n in range(500)]})
    budget = RefusingBudget()
    with pytest.raises(SegmentBudgetExceeded, match="XLS workbook"):
        list(xls.sheet_tables(path, budget))
    assert [mb for mb, _ in budget.asked] == [path.stat().st_size / 2**20 * xls.MEMORY_FACTOR]


def test_objects_a_sheet_embeds_are_read_after_its_table(tmp_path: Path):
    # Given a legacy workbook whose first sheet embeds an exhibit's PDF packaged as an icon and
    # a Word 97-2003 letter, and whose second embeds a drawing of no kind docproc reads, each as
    # Excel embeds one (a storage named by an OBJ record among the sheet's records)
    book = legacy_workbook(
        tmp_path / "claims.xls", {"Claims": [["C-1", 500]], "Costs": [["Survey", 90]]}
    ).read_bytes()
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    letter = word_97_document("The insurer accepts claim C-1.\r")
    drawing = compound_file({"\x01CompObj": bytes(28), "Contents": b"a drawing"})
    book = with_legacy_sheet_objects(book, 1, [plan, letter])
    path = tmp_path / "with-objects.xls"
    path.write_bytes(with_legacy_sheet_objects(book, 2, [drawing]))
    # When its sheets are read
    # Then each object's file is read after its sheet's table, under the sheet's name and on
    # its number; the drawing is left out (red before: no object was read)
    assert [(sheet.number, sheet.text()) for sheet in xls.sheet_tables(path)] == [
        (1, "Sheet: Claims\n| C-1 | 500 |\n| --- | --- |"),
        (1, "Sheet: Claims\nExhibit A: the floor plan."),
        (1, "Sheet: Claims\nThe insurer accepts claim C-1."),
        (2, "Sheet: Costs\n| Survey | 90 |\n| --- | --- |"),
    ]


def test_a_workbook_whose_directory_loops_is_invalid_document(tmp_path: Path):
    # Given a workbook whose compound file's directory names an entry as its own sibling:
    # olefile opens it (sniff tells an XLS), xlrd's walk of the directory never ends
    book = legacy_workbook(tmp_path / "book.xls", {"Data": [["a", 1]]}).read_bytes()
    with olefile.OleFileIO(io.BytesIO(book)) as ole:
        data = bytearray(compound_file(storage_streams(ole, "")))
    at = data.find("Workbook\0".encode("utf-16-le").ljust(64, b"\0"), 512)
    struct.pack_into("<I", data, at + 68, (at - 512) // 128)  # its left sibling: itself
    path = tmp_path / "loop.xls"
    path.write_bytes(bytes(data))
    assert sniff_ole(path) == XLS
    # When it is read, Then it is InvalidDocument (red before: RecursionError, untyped)
    with pytest.raises(InvalidDocument):
        list(xls.sheet_tables(path))


def test_damaged_workbooks_give_text_or_a_typed_error(tmp_path: Path):
    # Given a small workbook, one with an object, and random damage to their bytes
    original = legacy_workbook(
        tmp_path / "book.xls", {"Data": [["Name", "When"], ["a", datetime.date(2024, 1, 2)]]}
    ).read_bytes()
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A."]))
    with_object = with_legacy_sheet_objects(original, 1, [plan])
    path = tmp_path / "damaged.xls"

    def read(data: bytes) -> None:
        path.write_bytes(data)
        if sniff_ole(path) == XLS:
            [sheet.text() for sheet in xls.sheet_tables(path)]

    # When its kind and its sheets are read
    counts = outcomes(
        read,
        damaged_copies([original, with_object], 300, seed=7),
        (InvalidDocument, UnsupportedDocument),
    )
    # Then each gave text or a typed refusal (anything else fails the test), both seen
    assert all(counts.values()), counts
