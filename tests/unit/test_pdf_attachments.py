"""Files attached to a PDF (a portfolio's documents, exhibits attached to a brief): found where
Acrobat puts them, read with a bound, and planned as an archive's files beside the pages."""

from __future__ import annotations

import binascii
import io
import zipfile
from pathlib import Path

import pymupdf
import pytest

from docproc.extract import pdf
from docproc.models import BytesSegment, PagesSegment
from docproc.pipeline.plan import PlanOptions
from tests.builders import planned
from tests.documents import pdf_with_attachments


@pytest.mark.parametrize("kids", [False, True], ids=["flat", "tree"])
def test_attached_files_are_found_in_the_name_tree_and_on_pages_each_once(kids: bool):
    # Given a brief with two files in its EmbeddedFiles name tree (flat, or under a kid as a
    # tree of many files is written, which PyMuPDF's embfile_* functions do not read), one
    # attached to its second page, and the first listed again in the tree under another name
    data = pdf_with_attachments(
        ["Brief.", "Exhibits."],
        attached=[("Exhibit A.docx", b"a"), ("Exhibit B.xlsx", b"b")],
        annotated=[(1, "Invoice.txt", b"c")],
        kids=kids,
    )
    document = pymupdf.open(stream=data)
    first = pdf.attached_files(document)[0]
    catalog = document.pdf_catalog()
    tree = "Names/EmbeddedFiles/Kids" if kids else "Names/EmbeddedFiles/Names"
    if kids:
        kid = int(document.xref_get_key(catalog, tree)[1].strip("[]").split()[0])
        _, entries = document.xref_get_key(kid, "Names")
        again = f"(zz) << /Type /Filespec /F (copy.docx) /EF << /F {first.xref} 0 R >> >>"
        document.xref_set_key(kid, "Names", entries[:-1] + f" {again}]")
    else:
        _, entries = document.xref_get_key(catalog, tree)
        again = f"(zz) << /Type /Filespec /F (copy.docx) /EF << /F {first.xref} 0 R >> >>"
        document.xref_set_key(catalog, tree, entries[:-1] + f" {again}]")
    # When its attached files are listed
    attached = pdf.attached_files(document)
    # Then the tree's come first, then the page's, each stream once under its first name
    assert [a.name for a in attached] == ["Exhibit A.docx", "Exhibit B.xlsx", "Invoice.txt"]
    assert [pdf.attached_bytes(document, a, 100) for a in attached] == [b"a", b"b", b"c"]


def test_an_attached_file_is_decoded_with_a_bound():
    # Given files attached as Flate (one inflating to 50 MB from ~50 KB: a bomb, as far as
    # a bound of 1 MB goes), unfiltered, and in a filter docproc does not decode
    data = pdf_with_attachments(
        ["Brief."],
        attached=[("big.txt", b"A" * (50 << 20)), ("plain.txt", b"p"), ("hex.txt", b"h")],
    )
    document = pymupdf.open(stream=data)
    big, plain, hexed = pdf.attached_files(document)
    document.update_stream(plain.xref, b"plain words", compress=False)
    document.update_stream(hexed.xref, binascii.hexlify(b"hex words") + b">", compress=False)
    document.xref_set_key(hexed.xref, "Filter", "/ASCIIHexDecode")
    # When each is read with a bound
    # Then the bomb is not inflated past the bound (None), nor an unfiltered file over it,
    # nor one in another filter (MuPDF would decode it whole); the rest is read
    assert pdf.attached_bytes(document, big, 1 << 20) is None
    assert pdf.attached_bytes(document, big, 60 << 20) == b"A" * (50 << 20)
    assert pdf.attached_bytes(document, plain, 100) == b"plain words"
    assert pdf.attached_bytes(document, plain, 5) is None
    assert pdf.attached_bytes(document, hexed, 100) is None


def test_an_attached_file_whose_stream_is_damaged_is_left_out(tmp_path: Path):
    # Given a brief with two files attached, the first's Flate stream not Flate
    data = pdf_with_attachments(["Brief."], attached=[("a.txt", b"alpha"), ("b.txt", b"beta")])
    document = pymupdf.open(stream=data)
    damaged, _ = pdf.attached_files(document)
    document.update_stream(damaged.xref, b"not deflated", compress=False)
    document.xref_set_key(damaged.xref, "Filter", "/FlateDecode")
    # When they are repacked into a ZIP, Then the other is written, the damaged one left out
    with (tmp_path / "attached.zip").open("w+b") as target:
        attached = pdf.attached_files(document)
        repacked = pdf.repack_attached(document, attached, target, 1 << 20)
        target.seek(0)
        with zipfile.ZipFile(target) as zipped:
            assert zipped.namelist() == ["b.txt"] and zipped.read("b.txt") == b"beta"
    assert repacked.files == 1


def test_a_pdf_s_attached_files_are_planned_as_an_archive_s_after_its_pages(tmp_path: Path):
    # Given a brief of 25 pages with two files attached, planned in segments of 10 pages
    data = pdf_with_attachments(
        [f"Page {n}." for n in range(25)],
        attached=[("Exhibit A.txt", b"Lease signed."), ("Exhibit A.txt", b"Second copy.")],
        annotated=[(3, "Invoice.txt", b"Invoice 4471.")],
    )
    options = PlanOptions(segment_pages=10)
    key = "uploads/acme/case/brief/brief.pdf"
    plan = planned(key, data, tmp_path / "ledger.sqlite3", options)
    # Then its pages come first, then a byte range of the ZIP of its attached files (in the
    # document's work folder), numbered on from them
    pages = [s for s in plan.segments if isinstance(s, PagesSegment)]
    files = [s for s in plan.segments if isinstance(s, BytesSegment)]
    assert [(s.page_start, s.page_end) for s in pages] == [(1, 10), (11, 20), (21, 25)]
    assert [s.index for s in plan.segments] == list(range(4)) and len(files) == 1
    assert files[0].input_key.endswith("/segments/archive.zip")
    with zipfile.ZipFile(io.BytesIO(plan.store.objects[files[0].input_key])) as zipped:
        assert zipped.namelist() == ["Exhibit A.txt", "Exhibit A (2).txt", "Invoice.txt"]


def test_a_pdf_without_attached_files_plans_its_pages_only(tmp_path: Path):
    plan = planned("uploads/a/c/d/memo.pdf", pdf_with_attachments(["Memo."]), tmp_path / "l.db")
    assert [type(s) for s in plan.segments] == [PagesSegment]
    assert not [k for k in plan.store.objects if k.endswith("archive.zip")]


def test_a_file_named_in_its_specification_by_uf_alone_is_found():
    # Given a file whose specification gives its stream under UF only (PDF 2.0 allows it)
    document = pymupdf.open(stream=pdf_with_attachments(["Brief."], [("a.txt", b"alpha")]))
    tree = "Names/EmbeddedFiles/Names"
    _, entries = document.xref_get_key(document.pdf_catalog(), tree)
    document.xref_set_key(document.pdf_catalog(), tree, entries.replace("/EF<</F ", "/EF<</UF "))
    # When its attached files are listed, Then it is among them
    (attached,) = pdf.attached_files(document)
    assert pdf.attached_bytes(document, attached, 100) == b"alpha"
