"""DOCX text as a reader of the document sees it: what python-docx's paragraphs leave out
(changes tracked, content controls, fields, text boxes) and the stories beside the body."""

from __future__ import annotations

import io
import zipfile

import pytest

from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract.docx import docx_text
from docproc.extract.mail import MAX_NESTING
from tests.documents import (
    ImportedPart,
    chart_part,
    chart_run,
    diagram_data,
    diagram_run,
    embedded_object,
    ole_object_run,
    with_part_replaced,
    word_package,
)


def _text(body: str, **parts: object) -> str:
    return docx_text(io.BytesIO(word_package(body, **parts)))  # type: ignore[arg-type]


def _p(*runs: str) -> str:
    """A paragraph of runs: plain text, or XML as it is where it starts with '<'."""
    return "<w:p>" + "".join(r if r.startswith("<") else _run(r) for r in runs) + "</w:p>"


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _row(*cells: str, properties: str = "") -> str:
    row = "".join(c if c.startswith("<w:tc>") else f"<w:tc>{_p(c)}</w:tc>" for c in cells)
    return f"<w:tr>{properties}{row}</w:tr>"


def _table(*rows: str) -> str:
    return f"<w:tbl><w:tblPr/><w:tblGrid/>{''.join(rows)}</w:tbl>"


def test_a_redline_reads_with_its_changes_accepted():
    # Given a lease with changes tracked: a term inserted and one deleted in a paragraph, a
    # clause moved, a paragraph inserted whole, and a table row deleted
    inserted = '<w:ins w:id="1" w:author="Ann">' + _run("two thousand") + "</w:ins>"
    deleted = (
        '<w:del w:id="2" w:author="Ann"><w:r><w:delText>one thousand</w:delText></w:r></w:del>'
    )
    moved_from = '<w:moveFrom w:id="3" w:author="Ann">' + _run("Pets allowed.") + "</w:moveFrom>"
    moved_to = '<w:moveTo w:id="4" w:author="Ann">' + _run("Pets allowed.") + "</w:moveTo>"
    row_deleted = '<w:trPr><w:del w:id="5" w:author="Ann"/></w:trPr>'
    body = (
        _p("The rent is ", inserted, deleted, " dollars a month.")
        + _p("Clause 4. ", moved_from)
        + _p("Clause 9. ", moved_to)
        + '<w:ins w:id="6" w:author="Ann">'
        + _p("The deposit is returned in 30 days.")
        + "</w:ins>"
        + _table(
            _row("Term", "Value"), _row("Cap", "5%", properties=row_deleted), _row("Rent", "2,000")
        )
    )
    # When it is read
    # Then it reads as the lease would with the changes accepted (red before: the inserted
    # terms, the moved clause and the inserted paragraph were missing, python-docx's
    # paragraphs leave out what w:ins, w:moveTo hold; the deleted row was read)
    assert _text(body) == (
        "The rent is two thousand dollars a month.\n\nClause 4.\n\nClause 9. Pets allowed.\n\n"
        "The deposit is returned in 30 days.\n\n"
        "| Term | Value |\n| --- | --- |\n| Rent | 2,000 |"
    )


def test_content_controls_fields_and_smart_tags_show_their_text():
    # Given a template filled in: a content control holding a paragraph, one within a
    # paragraph (its placeholder's name in its properties), a simple field, a complex field
    # (its code, then its result), a smart tag, custom XML and a hyperlink
    control = (
        '<w:sdt><w:sdtPr><w:alias w:val="Tenant"/><w:text/></w:sdtPr><w:sdtContent>'
        + _run("ACME Holdings LLC")
        + "</w:sdtContent></w:sdt>"
    )
    block_control = (
        "<w:sdt><w:sdtPr/><w:sdtContent>"
        + _p("Governing law: Delaware.")
        + "</w:sdtContent></w:sdt>"
    )
    complex_field = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> DATE \\@ "d MMMM yyyy" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + _run("1 March 2024")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    body = (
        _p("Tenant: ", control)
        + block_control
        + _p(
            "Case ",
            '<w:fldSimple w:instr=" DOCPROPERTY Case ">' + _run("24-cv-0117") + "</w:fldSimple>",
        )
        + _p("Signed ", complex_field)
        + _p(
            "Landlord: ",
            '<w:smartTag w:uri="u" w:element="e">' + _run("Bob Jones") + "</w:smartTag>",
        )
        + '<w:customXml w:element="clause">'
        + _p("Clause 12 survives.")
        + "</w:customXml>"
        + _p("See ", '<w:hyperlink r:id="" w:anchor="s">' + _run("Schedule A") + "</w:hyperlink>")
    )
    # When it is read, Then each shows its text, no field's code nor control's name (red
    # before: all but the hyperlink and the field's result were missing)
    assert _text(body) == (
        "Tenant: ACME Holdings LLC\n\nGoverning law: Delaware.\n\nCase 24-cv-0117\n\n"
        "Signed 1 March 2024\n\nLandlord: Bob Jones\n\nClause 12 survives.\n\nSee Schedule A"
    )


def test_the_stories_beside_the_body_follow_it_under_labels_as_a_word_97_document_s():
    # Given a brief with two footnotes (referred to in the reverse of their numbering, a
    # third not referred to: its mark deleted), Word's separator notes, an endnote, a
    # comment, a text box written twice (DrawingML and its VML fallback), and headers and
    # footers on first and other pages that repeat a line
    def note(kind: str, number: int, text: str) -> str:
        return (
            f'<w:{kind} w:id="{number}">{_p(f"<w:r><w:{kind}Ref/></w:r>", " " + text)}</w:{kind}>'
        )

    def reference(kind: str, number: int) -> str:
        return f'<w:r><w:{kind}Reference w:id="{number}"/></w:r>'

    separators = (
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
        "</w:r></w:p></w:footnote>"
    )
    box = "<w:txbxContent><w:p><w:r><w:t>DRAFT</w:t></w:r></w:p></w:txbxContent>"
    text_box = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>'
        f"{box}</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
        f"{box}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    body = (
        _p("The claim is time-barred.", reference("footnote", 2), text_box)
        + _p("The statute runs from discovery.", reference("footnote", 1))
        + _p("Deleted: ", '<w:del w:id="9" w:author="A">' + reference("footnote", 3) + "</w:del>")
        + _p(
            '<w:commentRangeStart w:id="0"/>',
            "Damages exceed $75,000.",
            '<w:commentRangeEnd w:id="0"/>',
        )
        + _p(
            '<w:r><w:commentReference w:id="0"/></w:r>', "See the record.", reference("endnote", 1)
        )
    )
    header = _p("Case 24-cv-0117") + _p("Confidential")
    header_box = _p(text_box.replace("DRAFT", "EXHIBIT 4"))
    # When it is read
    text = _text(
        body,
        footnotes=separators
        + note("footnote", 1, "Smith v. Jones, 123 F.3d 456 (2d Cir. 1999).")
        + note("footnote", 2, "28 U.S.C. 1658(b).")
        + note("footnote", 3, "Withdrawn."),
        endnotes=note("endnote", 1, "Record at 12."),
        comments='<w:comment w:id="0" w:author="Ann">' + _p("Check the amount.") + "</w:comment>",
        headers=[header, _p("Case 24-cv-0117") + header_box],
        footers=[_p("Confidential")],
    )
    # Then the body comes first, each mark left out, then each story under the label a Word
    # 97-2003 document's has: footnotes in the order the text refers to them (Word's
    # separators and the note whose mark was deleted left out), each header and footer line
    # once, the text box once (red before: only the body was read)
    assert text == (
        "The claim is time-barred.\n\nThe statute runs from discovery.\n\nDeleted:\n\n"
        "Damages exceed $75,000.\n\nSee the record.\n\n"
        "Footnotes:\n28 U.S.C. 1658(b).\nSmith v. Jones, 123 F.3d 456 (2d Cir. 1999).\n\n"
        "Headers and footers:\nCase 24-cv-0117\nConfidential\n\n"
        "Comments:\nCheck the amount.\n\nEndnotes:\nRecord at 12.\n\n"
        "Text boxes:\nDRAFT\n\nHeader text boxes:\nEXHIBIT 4"
    )


def test_a_merged_cell_s_text_is_in_each_column_and_row_it_spans():
    # Given a table whose first column's cell is merged down two rows, a heading merged
    # across two columns, and a row that starts a column in
    def cell(text: str, properties: str) -> str:
        return f"<w:tc><w:tcPr>{properties}</w:tcPr>{_p(text) if text else '<w:p/>'}</w:tc>"

    table = _table(
        _row(cell("Schedule", '<w:gridSpan w:val="3"/>')),
        _row(cell("Tenant", '<w:vMerge w:val="restart"/>'), "pays rent", "monthly"),
        _row(cell("", "<w:vMerge/>"), "insures", "yearly"),
        _row("late fee", "5%", properties='<w:trPr><w:gridBefore w:val="1"/></w:trPr>'),
    )
    # When it is read, Then each cell's text is in each column and row it spans
    assert _text(table) == (
        "| Schedule | Schedule | Schedule |\n| --- | --- | --- |\n"
        "| Tenant | pays rent | monthly |\n| Tenant | insures | yearly |\n|  | late fee | 5% |"
    )


def test_a_cell_merged_over_thousands_of_rows_is_not_a_bomb():
    # Given a table whose 20 KB cell is merged down 5,000 rows of a few bytes each, and a
    # cell spanning more columns than any table can have
    long_cell = f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{_p("x" * 20_000)}</w:tc>'
    rows = (
        _row(long_cell, "first")
        + _row("<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>", "next") * 5000
    )
    wide = _row(f'<w:tc><w:tcPr><w:gridSpan w:val="{2**40}"/></w:tcPr>{_p("wide")}</w:tc>')
    # When it is read
    text = _text(_table(rows) + _table(wide))
    # Then the repeats add little beyond the table's own text (it was 100 MB had it been in
    # every row), and a span counts Word's 63 columns at most
    assert len(text) < 200_000
    assert text.count("next") == 5000
    assert text.split("\n\n")[1].count("wide") == 63


@pytest.mark.parametrize("part", ["footnotes", "comments", "headers"])
def test_a_story_of_xml_that_is_not_well_formed_is_a_typed_error(part: str):
    # Given a DOCX one of whose stories beside the body is not well-formed XML
    broken = "<w:p><w:r><w:t>Unclosed</w:r></w:p>"
    parts: dict[str, object] = {part: [broken] if part == "headers" else broken}
    body = _p("Text.", '<w:r><w:footnoteReference w:id="1"/><w:commentReference w:id="1"/></w:r>')
    # When it is read, Then it is InvalidDocument, not lxml's own error
    with pytest.raises(InvalidDocument):
        _text(body, **parts)


def test_a_table_in_a_cell_is_its_cells_text_in_that_cell():
    # Given a table whose second cell holds a table of two rows
    nested = _table(_row("Deposit", "12,000"), _row("Rent", "1,200"))
    table = _table(_row("Terms", f"<w:tc>{_p('As agreed:')}{nested}</w:tc>"))
    # When it is read, Then the inner table's rows are lines of the cell (a Markdown table
    # in a Markdown cell would be its pipes escaped)
    assert _text(table) == "| Terms | As agreed: Deposit 12,000 Rent 1,200 |\n| --- | --- |"


def test_a_package_whose_relationships_are_other_xml_is_a_typed_error():
    # Given a DOCX whose document's relationships part holds another element than
    # Relationships (found by fuzzing: python-docx raised AttributeError)
    data = word_package(_p("Text."), headers=[_p("Header")])
    damaged = with_part_replaced(
        data, "word/_rels/document.xml.rels", b'<Other xmlns="urn:x"><Relationship/></Other>'
    )
    # When it is read, Then it is InvalidDocument
    with pytest.raises(InvalidDocument):
        docx_text(io.BytesIO(damaged))


def test_a_document_without_a_body_is_a_typed_error():
    # Given a DOCX whose document part has no body
    damaged = with_part_replaced(
        word_package(_p("Text.")),
        "word/document.xml",
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
    )
    # When it is read, Then it is InvalidDocument
    with pytest.raises(InvalidDocument):
        docx_text(io.BytesIO(damaged))


# Parts a document imports whole (w:altChunk): how document assembly merges clauses written
# elsewhere into a DOCX that Word has not yet opened and saved.
_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_MHT = (
    b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b\r\n'
    b'Content-Type: text/html; charset="utf-8"\r\n\r\n'
    b"<html><body><p>Clause 4: notices in writing.</p></body></html>\r\n--b--\r\n"
)
_XHTML = (
    b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
    b'Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html '
    b'xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body><p>Clause 5: '
    b"governing law.</p></body></html>"
)


def _import(rid: str) -> str:
    return f'<w:altChunk r:id="{rid}"/>'


def test_a_document_assembled_from_imported_parts_reads_each_in_its_place():
    # Given a DOCX assembled from clauses in each kind Word imports: HTML, RTF, plain text,
    # an MHT, XHTML and another DOCX (itself a redline), one of them in a table's cell
    nested = word_package(
        _p(
            "Clause 6: the term is ",
            '<w:ins w:id="1" w:author="A">' + _run("five") + "</w:ins>",
            " years.",
        )
    )
    parts = [
        ImportedPart(
            "c1.htm", "text/html", b"<html><body><p>Clause 1: rent.</p></body></html>", "rId1"
        ),
        ImportedPart("c2.rtf", "application/rtf", rb"{\rtf1\ansi Clause 2: deposit.}", "rId2"),
        ImportedPart("c3.txt", "text/plain", b"Clause 3: repairs.", "rId3"),
        ImportedPart("c4.mht", "message/rfc822", _MHT, "rId4"),
        ImportedPart("c5.xhtml", "application/xhtml+xml", _XHTML, "rId5"),
        ImportedPart("c6.docx", _DOCUMENT_MAIN, nested, "rId6"),
        ImportedPart("c7.htm", "text/html", b"<p>Signed in London.</p>", "rId7"),
    ]
    body = (
        _p("Lease.")
        + "".join(_import(f"rId{n}") for n in range(1, 7))
        + _table(_row("Place", f"<w:tc>{_import('rId7')}</w:tc>"))
        + _p("End.")
    )
    # When it is read
    text = docx_text(io.BytesIO(word_package(body, imported=parts)))
    # Then each part's text stands where the document imports it (red before: a DOCX that
    # imports a DOCX was InvalidDocument, python-docx parsing the emptied part as XML; the
    # other imports were missing)
    assert text.split("\n\n") == [
        "Lease.",
        "Clause 1: rent.",
        "Clause 2: deposit.",
        "Clause 3: repairs.",
        "Clause 4: notices in writing.",
        "Clause 5: governing law.",
        "Clause 6: the term is five years.",
        "| Place | Signed in London. |\n| --- | --- |",
        "End.",
    ]


def test_an_import_in_a_header_or_a_footnote_is_found_through_that_part_s_relationships():
    # Given a DOCX whose body, header and footnotes each import a part under the same
    # relationship id (ids are each part's own)
    parts = [
        ImportedPart("body.txt", "text/plain", b"Imported in the body.", "rIdI"),
        ImportedPart("head.txt", "text/plain", b"Imported in the header.", "rIdI", "header1"),
        ImportedPart("note.txt", "text/plain", b"Imported in a footnote.", "rIdI", "footnotes"),
    ]
    data = word_package(
        _p("Body.", '<w:r><w:footnoteReference w:id="1"/></w:r>') + _import("rIdI"),
        footnotes=f'<w:footnote w:id="1">{_import("rIdI")}</w:footnote>',
        headers=[_p("Header.") + _import("rIdI")],
        imported=parts,
    )
    # When it is read, Then each import is its own part's
    assert docx_text(io.BytesIO(data)) == (
        "Body.\n\nImported in the body.\n\nFootnotes:\nImported in a footnote.\n\n"
        "Headers and footers:\nHeader.\nImported in the header."
    )


def test_imports_within_imports_are_read_as_deep_as_messages_are_and_no_deeper():
    # Given a DOCX that imports a DOCX that imports one... eight deep (a package can hold
    # itself: nothing else would bound it)
    data = word_package(_p("Level 8."))
    for level in range(7, -1, -1):
        part = ImportedPart(f"level{level + 1}.docx", _DOCUMENT_MAIN, data)
        data = word_package(_p(f"Level {level}.") + _import("rIdImport1"), imported=[part])
    # When it is read
    text = docx_text(io.BytesIO(data))
    # Then the imports are read down to mail.MAX_NESTING (5) documents below it, no deeper
    assert text.split("\n\n") == [f"Level {level}." for level in range(MAX_NESTING + 1)]


def test_an_import_that_cannot_be_read_is_left_out_and_the_rest_is_read(monkeypatch):
    # Given a DOCX importing a damaged DOCX, a binary part, an empty one, a part over the size
    # bound, Word's own XML (Flat OPC), a part damaged in the package, and a part outside it
    # (an external relationship, which Word refuses)
    flat_opc = b'<?xml version="1.0"?><pkg:package xmlns:pkg="urn:x"><w:t>x</w:t></pkg:package>'
    parts = [
        ImportedPart("bad.docx", _DOCUMENT_MAIN, b"PK\x03\x04 not an archive", "rId1"),
        ImportedPart("blob.bin", "application/octet-stream", bytes(range(256)), "rId2"),
        ImportedPart("empty.htm", "text/html", b"", "rId3"),
        ImportedPart("big.txt", "text/plain", b"Large clause. " * 100, "rId4"),
        ImportedPart("flat.xml", "application/xml", flat_opc, "rId5"),
        ImportedPart("crc.txt", "text/plain", b"Damaged clause. " * 20, "rId6"),
        ImportedPart("ok.txt", "text/plain", b"Small clause.", "rId7"),
    ]
    monkeypatch.setattr("docproc.extract.included.IMPORTED_LIMIT", 1000)
    body = _p("Start.") + "".join(_import(f"rId{n}") for n in range(1, 8)) + _p("End.")
    package = word_package(body, imported=parts)
    relationships = zipfile.ZipFile(io.BytesIO(package)).read("word/_rels/document.xml.rels")
    external = with_part_replaced(
        package,
        "word/_rels/document.xml.rels",
        relationships.replace(
            b'Target="ok.txt"', b'Target="https://example.invalid/x.htm" TargetMode="External"'
        ),
    )
    data, external = (_damaged_member(p, "word/crc.txt") for p in (package, external))
    # When each is read, Then what could not be read is left out and the rest kept
    assert docx_text(io.BytesIO(data)) == "Start.\n\nSmall clause.\n\nEnd."
    assert docx_text(io.BytesIO(external)) == "Start.\n\nEnd."


def _damaged_member(package: bytes, name: str) -> bytes:
    """``package`` with a byte of member ``name``'s compressed data changed."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(package)
    damaged[start + info.compress_size // 2] ^= 0xFF
    return bytes(damaged)


def test_imports_inflate_no_further_than_the_document_s_allowance(monkeypatch):
    # Given a DOCX that imports one clause of 1 KB a thousand times, and a DOCX whose imported
    # DOCX imports it a thousand times (an allowance per document would be a bomb's)
    monkeypatch.setattr("docproc.extract.included.IMPORTED_LIMIT", 10_240)
    clause = ImportedPart("clause.txt", "text/plain", b"Clause. " * 128)
    many = word_package(_import("rIdImport1") * 1000, imported=[clause])
    nesting = word_package(
        _import("rIdImport1"), imported=[ImportedPart("many.docx", _DOCUMENT_MAIN, many)]
    )
    # When each is read, Then the clauses read together come to no more than the allowance
    # (the nested DOCX's own size counted in it too)
    assert docx_text(io.BytesIO(many)).count("Clause.") == 10 * 128
    assert docx_text(io.BytesIO(nesting)).count("Clause.") < 10 * 128


def test_an_import_that_does_not_fit_the_segment_s_memory_is_refused_before_it_is_read():
    # Given a segment whose budget fits the document's XML and nothing more
    asked: list[str] = []

    def reserve(megabytes: float, reading: str) -> None:
        asked.append(reading)
        if len(asked) > 1:
            raise SegmentBudgetExceeded(reading)

    part = ImportedPart("c1.txt", "text/plain", b"Clause.")
    data = word_package(_p("Lease.") + _import("rIdImport1"), imported=[part])
    # When it is read, Then the import is refused as the segment's budget refuses any read
    with pytest.raises(SegmentBudgetExceeded):
        docx_text(io.BytesIO(data), reserve)


# Objects a document embeds (OLE): a workbook, a Word 97-2003 document, a file packaged as an
# icon (an exhibit's PDF), a PDF Acrobat embedded; each shown in the document as a picture.
_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_objects_a_document_embeds_are_read_after_the_paragraph_that_holds_them(tmp_path):
    # Given a memo embedding a workbook (as a package), an Excel 97-2003 workbook and a Word
    # 97-2003 letter (each as its own compound file), a PDF packaged as an icon, a PDF
    # Acrobat embedded, and an equation (a kind docproc does not read)
    from docproc.extract.compound import compound_file
    from tests.documents import (
        legacy_workbook,
        packaged_object,
        pdf_of_lines,
        word_97_document,
        workbook,
    )

    sheet = workbook(tmp_path / "costs.xlsx", {"Costs": [["Item", "Amount"], ["Survey", 1200]]})
    legacy = legacy_workbook(tmp_path / "old.xls", {"Old": [["Item", "Amount"], ["Deed", 300]]})
    exhibit = pdf_of_lines(["Exhibit 7: the survey of the north wall."])
    acrobat = compound_file(
        {"CONTENTS": pdf_of_lines(["Exhibit 8: the plan."]), "\x01Ole": bytes(20)}
    )
    parts = [
        ImportedPart(
            "embeddings/Sheet.xlsx", _SHEET, sheet.read_bytes(), "rE1", relationship="package"
        ),
        embedded_object("embeddings/oleObject1.bin", legacy.read_bytes(), "rE2"),
        embedded_object(
            "embeddings/oleObject2.bin", word_97_document("Dear Ann, the deed is signed.\r"), "rE3"
        ),
        embedded_object("embeddings/oleObject3.bin", packaged_object("survey.pdf", exhibit), "rE4"),
        embedded_object("embeddings/oleObject4.bin", acrobat, "rE5"),
        embedded_object(
            "embeddings/oleObject5.bin", compound_file({"Equation Native": bytes(40)}), "rE6"
        ),
    ]
    body = (
        _p("The costs:", ole_object_run("rE1", "Excel.Sheet.12"))
        + _p(
            "Older ones:",
            ole_object_run("rE2", "Excel.Sheet.8"),
            ole_object_run("rE6", "Equation.3"),
        )
        + _table(_row("Letter", f"<w:tc>{_p(ole_object_run('rE3', 'Word.Document.8'))}</w:tc>"))
        + _p(
            "Exhibits:",
            ole_object_run("rE4", "Package"),
            ole_object_run("rE5", "AcroExch.Document.DC"),
        )
    )
    # When it is read
    text = docx_text(io.BytesIO(word_package(body, imported=parts)))
    # Then each object's text follows the paragraph that holds it, in its order, the one in a
    # cell in that cell; the equation is left out (red before: none of them was read)
    assert text.split("\n\n") == [
        "The costs:",
        "Sheet: Costs\n| Item | Amount |\n| --- | --- |\n| Survey | 1200 |",
        "Older ones:",
        "Sheet: Old\n| Item | Amount |\n| --- | --- |\n| Deed | 300 |",
        "| Letter | Dear Ann, the deed is signed. |\n| --- | --- |",
        "Exhibits:",
        "Exhibit 7: the survey of the north wall.",
        "Exhibit 8: the plan.",
    ]


def test_charts_a_document_shows_are_tables_of_their_figures_after_their_paragraphs():
    # Given an expert's report whose paragraphs show two charts (their values cached in their
    # parts, as Word keeps them), one in a table's cell, and a chart whose part is not XML
    losses = chart_part("Losses", ["2023", "2024"], {"Damages": [1200.5, 3400], "Costs": [90, 75]})
    rents = chart_part("", ["Q1"], {"Rent": [950]})
    chart = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
    parts = [
        ImportedPart("charts/chart1.xml", chart, losses, "rC1", relationship="chart"),
        ImportedPart("charts/chart2.xml", chart, rents, "rC2", relationship="chart"),
        ImportedPart("charts/chart3.xml", chart, b"<c:chartSpace", "rC3", relationship="chart"),
    ]
    body = (
        _p("The losses by year:", chart_run("rC1"))
        + "<w:tbl><w:tr><w:tc>"
        + _p("Rent", chart_run("rC2"))
        + "</w:tc></w:tr></w:tbl>"
        + _p("A damaged chart:", chart_run("rC3"))
        + _p("End.")
    )
    # When it is read
    # Then each chart is a table of its figures after its paragraph (in its cell, its lines);
    # the damaged one left out (red before: no chart was read)
    assert _text(body, imported=parts) == (
        "The losses by year:\n\n"
        "| Chart: Losses | Damages | Costs |\n| --- | --- | --- |\n"
        "| 2023 | 1200.5 | 90 |\n| 2024 | 3400 | 75 |\n\n"
        "| Rent Chart Rent Q1 950 |\n| --- |\n\n"
        "A damaged chart:\n\nEnd."
    )


def test_a_smartart_diagram_s_nodes_are_read_after_their_paragraph():
    # Given a brief whose paragraph shows a SmartArt timeline (its text in the diagram's data
    # part, as Word keeps it), and a diagram whose data part is damaged
    data = "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml"
    timeline = diagram_data(["3 May: lease signed", "9 June: notice served"])
    parts = [
        ImportedPart("diagrams/data1.xml", data, timeline, "rD1", relationship="diagramData"),
        ImportedPart(
            "diagrams/data2.xml", data, b"<dgm:dataModel", "rD2", relationship="diagramData"
        ),
    ]
    body = _p("The events:", diagram_run("rD1")) + _p("Then:", diagram_run("rD2")) + _p("End.")
    # When it is read
    # Then the diagram's nodes are read after its paragraph, a line each; the damaged one left
    # out (red before: no diagram was read)
    assert _text(body, imported=parts) == (
        "The events:\n\n3 May: lease signed\n9 June: notice served\n\nThen:\n\nEnd."
    )


def test_an_embedded_object_counts_against_the_document_s_allowance(monkeypatch):
    # Given a document embedding the same 1 KB text file a hundred times, and an allowance
    # of 10 KB
    from tests.documents import packaged_object

    monkeypatch.setattr("docproc.extract.included.IMPORTED_LIMIT", 10_000)
    note = packaged_object("note.txt", b"A note on the deposit. " * 45)
    parts = [embedded_object("embeddings/o.bin", note, "rE1")]
    body = "".join(_p(f"Item {n}.", ole_object_run("rE1", "Package")) for n in range(100))
    # When it is read, Then the object is read as often as the allowance lets, not more
    text = docx_text(io.BytesIO(word_package(body, imported=parts)))
    assert 1 <= text.count("A note on the deposit.") // 45 < 10 and "Item 99." in text
