"""OpenDocument files (ODT, ODS, ODP) read as their Office counterparts are: told by their
mimetype member, a text document's stories under the labels a Word document's have, a
spreadsheet's sheets as Markdown rows (its repeats counted, not made), a presentation's slides
in reading order."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract import opendocument
from docproc.extract.mail import file_text
from docproc.extract.ocr import OCR_OFF
from docproc.extract.sniff import ODP, ODS, ODT, SNIFF_BYTES, TEXT, ZIP, sniff, sniff_zip
from tests.documents import (
    chart_frame,
    email_message,
    flat_open_document,
    odf_chart,
    ole_frame,
    open_document,
    packaged_object,
    pdf_of_lines,
    word_97_document,
)
from tests.memory import peak_growth_mb


def _text(body: str, master_styles: str = "") -> str:
    return opendocument.text_document_text(io.BytesIO(open_document("text", body, master_styles)))


def _sheets(body: str) -> list[str]:
    package = io.BytesIO(open_document("spreadsheet", body))
    return [sheet.text() for sheet in opendocument.sheet_tables(package)]


def _slides(body: str) -> list[tuple[int, str]]:
    package = io.BytesIO(open_document("presentation", body))
    return [(page.number, page.text) for page in opendocument.slide_texts(package)]


def _p(text: str) -> str:
    return f"<text:p>{text}</text:p>"


def _cell(text: str, attributes: str) -> str:
    return f"<table:table-cell {attributes}>{_p(text)}</table:table-cell>"


def _row(*cells: str, repeated: int = 1) -> str:
    written = "".join(
        c if c.startswith("<table:") else f"<table:table-cell>{_p(c)}</table:table-cell>"
        for c in cells
    )
    return f'<table:table-row table:number-rows-repeated="{repeated}">{written}</table:table-row>'


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("application/vnd.oasis.opendocument.text", ODT),
        ("application/vnd.oasis.opendocument.text-template", ODT),
        ("application/vnd.oasis.opendocument.spreadsheet", ODS),
        ("application/vnd.oasis.opendocument.spreadsheet-template", ODS),
        ("application/vnd.oasis.opendocument.presentation", ODP),
        ("application/vnd.oasis.opendocument.presentation-template", ODP),
        ("application/vnd.oasis.opendocument.graphics", ZIP),
    ],
)
def test_an_open_document_is_told_by_its_mimetype_member(declared: str, kind: str):
    # Given a package whose mimetype member declares a kind (a template as its document)
    package = open_document("text", _p("Text."), media_type=declared)
    # When its kind is sniffed, Then it is that kind (red before: a ZIP of files, whose
    # content.xml and styles.xml were read as text, markup and all); a drawing stays a ZIP
    assert sniff_zip(io.BytesIO(package)) == kind


def test_a_text_document_reads_as_a_word_document_does():
    # Given a lease as LibreOffice writes it: a heading, a list, a section, white space as ODF
    # keeps it (text:s, a tab, a line break; the rest collapsed), a change tracked (the
    # deleted words kept apart in the list of changes), a table of contents, a footnote, an
    # endnote, a comment, a text box, and headers and footers that repeat a line
    body = (
        "<text:tracked-changes><text:changed-region text:id='c1'><text:deletion>"
        "<office:change-info><dc:creator>Ann</dc:creator></office:change-info>"
        "<text:p>one thousand</text:p></text:deletion></text:changed-region></text:tracked-changes>"
        "<text:table-of-content><text:table-of-content-source><text:index-title-template>"
        "Contents</text:index-title-template></text:table-of-content-source><text:index-body>"
        "<text:p>Rent<text:tab/>1</text:p></text:index-body></text:table-of-content>"
        '<text:h text:outline-level="1">Lease of   Unit 4</text:h>'
        "<text:p>The rent is<text:s/><text:change text:change-id='c1'/>two thousand"
        '<text:s text:c="3"/>dollars.<text:note text:note-class="footnote">'
        "<text:note-citation>1</text:note-citation><text:note-body>"
        + _p("Net of fees.")
        + "</text:note-body></text:note></text:p>"
        "<text:list><text:list-item>"
        + _p("Pets allowed.")
        + "</text:list-item><text:list-item><text:list>"
        "<text:list-item>"
        + _p("Cats only.")
        + "</text:list-item></text:list></text:list-item></text:list>"
        "<text:section text:name='s1'><text:p>\n      Signed<text:tab/>at\n      Paris"
        "<text:line-break/>on 1 March.<office:annotation><dc:creator>Bob</dc:creator>"
        "<dc:date>2024-03-01</dc:date>" + _p("Check the date.") + "</office:annotation>"
        '<text:note text:note-class="endnote"><text:note-citation>i</text:note-citation>'
        "<text:note-body>" + _p("Record at 12.") + "</text:note-body></text:note>"
        "<draw:frame><draw:text-box>"
        + _p("DRAFT")
        + "</draw:text-box></draw:frame></text:p></text:section>"
    )
    master = (
        '<style:master-page style:name="Standard"><style:header>'
        + _p("Case 24-cv-0117")
        + _p("Confidential")
        + "</style:header><style:footer>"
        + _p("Confidential")
        + "<text:p><draw:frame><draw:text-box>"
        + _p("EXHIBIT 4")
        + "</draw:text-box></draw:frame></text:p></style:footer></style:master-page>"
    )
    # When it is read
    # Then the body comes first, its changes accepted (the deleted words left out), each
    # note's mark left out, then each story under the label a DOCX's and a DOC's have
    assert _text(body, master) == (
        "Rent\t1\n\nLease of Unit 4\n\nThe rent is two thousand   dollars.\n\n"
        "Pets allowed.\n\nCats only.\n\nSigned\tat Paris\non 1 March.\n\n"
        "Footnotes:\nNet of fees.\n\nHeaders and footers:\nCase 24-cv-0117\nConfidential\n\n"
        "Comments:\nCheck the date.\n\nEndnotes:\nRecord at 12.\n\n"
        "Text boxes:\nDRAFT\n\nHeader text boxes:\nEXHIBIT 4"
    )


def test_a_text_document_s_table_is_markdown_its_spanned_cells_in_each_cell_they_cover():
    # Given a table with header rows, a cell spanning two columns and one spanning two rows
    # (the cells they cover written as covered cells), a repeated row, and a table in a cell
    covered = "<table:covered-table-cell/>"
    nested = "<table:table>" + _row("Deposit", "12,000") + "</table:table>"
    table = (
        "<table:table><table:table-column table:number-columns-repeated='3'/>"
        "<table:table-header-rows>"
        + _row(
            _cell("Term", 'table:number-columns-spanned="2"'),
            covered,
            "Value",
        )
        + "</table:table-header-rows>"
        + _row(
            _cell("Rent", 'table:number-rows-spanned="2"'),
            "monthly",
            "1,200",
        )
        + _row(covered, "yearly", "14,400")
        + _row("Cap", "5%", "yes", repeated=2)
        + _row("Also", f"<table:table-cell>{_p('As agreed:')}{nested}</table:table-cell>", "")
        + "</table:table>"
    )
    # When it is read, Then it is a Markdown table, each spanned cell's text in each cell it
    # covers, the repeated row twice, the inner table's rows as lines of its cell
    assert _text(table) == (
        "| Term | Term | Value |\n| --- | --- | --- |\n| Rent | monthly | 1,200 |\n"
        "| Rent | yearly | 14,400 |\n| Cap | 5% | yes |\n| Cap | 5% | yes |\n"
        "| Also | As agreed: Deposit 12,000 |  |"
    )


def test_a_spreadsheet_s_sheets_are_markdown_as_a_workbook_s():
    # Given two sheets (the second hidden), cells as the sheet displays them, a repeated row,
    # empty cells repeated between values, and a sheet of nothing
    first = (
        '<table:table table:name="Rent roll">'
        + _row("Unit", "Tenant", "Rent")
        + _row(
            "4",
            "ACME LLC",
            _cell("$1,200.00", 'office:value-type="currency" office:value="1200"'),
        )
        + _row("5", "Bob Jones", "$900.00", repeated=2)
        + '<table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        + "<table:table-cell><text:p>Total</text:p></table:table-cell></table:table-row>"
        + "</table:table>"
    )
    hidden = (
        '<table:table table:name="Notes" table:display="false">'
        + _row("Vacant: 7")
        + "</table:table>"
    )
    empty = '<table:table table:name="Empty">' + _row("") + "</table:table>"
    # When its sheets are read
    # Then each sheet with a value is its name over a Markdown table (the rule under the first
    # row), in order; the empty sheet is left out
    assert _sheets(first + hidden + empty) == [
        "Sheet: Rent roll\n| Unit | Tenant | Rent |\n| --- | --- | --- |\n"
        "| 4 | ACME LLC | $1,200.00 |\n| 5 | Bob Jones | $900.00 |\n| 5 | Bob Jones | $900.00 |\n"
        "|  |  | Total |",
        "Sheet: Notes\n| Vacant: 7 |\n| --- |",
    ]


def test_a_spreadsheet_s_repeats_are_counted_not_made():
    # Given a sheet as LibreOffice saves one: its last row empty, repeated to the sheet's
    # millionth, its cells repeated to the 16,384th; and a row with text repeated a million
    # times (a bomb)
    empty_rows = (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    bomb = _row("x" * 1000, repeated=1_000_000)
    # When it is read
    sheets = _sheets(
        '<table:table table:name="S">' + _row("Lease") + empty_rows + bomb + "</table:table>"
    )
    # Then the empty rows and cells are left out (red: a million rows of 16,384 cells), and the
    # row with text is repeated while its copies add no more than the sheet's own text
    assert len(sheets) == 1
    assert sheets[0].startswith("Sheet: S\n| Lease |\n| --- |\n| " + "x" * 1000)
    assert 3 <= sheets[0].count("x" * 1000) <= 6


def test_a_presentation_s_slides_read_in_order_title_first_then_notes():
    # Given three slides: the first with a title written last, shapes placed in other units
    # and out of order, a group, a table and a described picture, and speaker notes; the
    # second empty; the third a drawn shape's text
    def frame(x: str, y: str, text: str, kind: str = "") -> str:
        cls = f' presentation:class="{kind}"' if kind else ""
        box = f"<draw:text-box>{_p(text)}</draw:text-box>"
        return f'<draw:frame svg:x="{x}" svg:y="{y}"{cls}>{box}</draw:frame>'

    table = (
        "<draw:frame svg:x='1cm' svg:y='15cm'><table:table>"
        + _row("Term", "Value")
        + _row("Rent", "1,200")
        + "</table:table></draw:frame>"
    )
    picture = (
        '<draw:frame svg:x="1cm" svg:y="18cm"><draw:image/><svg:title>Site</svg:title>'
        "<svg:desc>A map of the premises</svg:desc></draw:frame>"
    )
    group = (
        "<draw:g>"
        + frame("12cm", "5cm", "Right column")
        + frame("1cm", "6cm", "Below it")
        + "</draw:g>"
    )
    notes = (
        "<presentation:notes>"
        + frame("0cm", "0cm", "Mention the deposit.")
        + "</presentation:notes>"
    )
    first = (
        '<draw:page draw:name="p1">'
        + frame("1in", "5.5cm", "Left, lower")
        + frame("20mm", "40mm", "Top")
        + group
        + table
        + picture
        + frame("1cm", "1cm", "Lease terms", "title")
        + notes
        + "</draw:page>"
    )
    shape = (
        '<draw:custom-shape svg:x="0cm" svg:y="0cm"><text:p>Questions?</text:p></draw:custom-shape>'
    )
    # When its slides are read
    # Then each slide with text is a page numbered as in the show: its title, its shapes top
    # to bottom then left to right (a group where its first shape is), then its notes
    assert _slides(
        first + '<draw:page draw:name="p2"/>' + f'<draw:page draw:name="p3">{shape}</draw:page>'
    ) == [
        (
            1,
            "Lease terms\n\nTop\n\nRight column\n\nBelow it\n\nLeft, lower\n\n"
            "| Term | Value |\n| --- | --- |\n| Rent | 1,200 |\n\n"
            "Picture: A map of the premises\n\n"
            "Notes:\nMention the deposit.",
        ),
        (3, "Questions?"),
    ]


def test_ole_objects_an_open_document_shows_are_read_as_the_files_they_are():
    # Given a text document, a spreadsheet and a presentation each showing OLE objects (a
    # frame naming a member of the package, a compound file, as LibreOffice keeps Office's
    # objects): an exhibit's PDF packaged as an icon, a Word 97-2003 letter, and one naming no
    # member (left out)
    plan = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    letter = word_97_document("The insurer accepts the claim.\r")
    members = {"Object 1": plan, "Object 2": letter}
    text = open_document(
        "text",
        f"<text:p>The plan:{ole_frame('Object 1')}</text:p><text:p>The letter:</text:p>"
        f"<text:p>{ole_frame('Object 2')}{ole_frame('Object 9')}</text:p><text:p>End.</text:p>",
        members=members,
    )
    sheet = open_document(
        "spreadsheet",
        '<table:table table:name="Claims"><table:table-row><table:table-cell>'
        f"<text:p>C-1</text:p></table:table-cell><table:table-cell>{ole_frame('Object 1')}"
        "</table:table-cell></table:table-row></table:table>",
        members=members,
    )
    deck = open_document(
        "presentation",
        '<draw:page><draw:frame presentation:class="title" svg:y="1cm"><draw:text-box>'
        "<text:p>Site</text:p></draw:text-box></draw:frame>"
        '<draw:frame svg:y="9cm"><draw:text-box><text:p>Below.</text:p></draw:text-box>'
        f"</draw:frame>{ole_frame('Object 2')}</draw:page>",
        members=members,
    )
    # When each is read
    # Then each object is read as the file it is: after its paragraph, after its sheet's
    # table under its name, where its frame stands on its slide (red before: none was read)
    assert opendocument.text_document_text(io.BytesIO(text)) == (
        "The plan:\n\nExhibit A: the floor plan.\n\nThe letter:\n\n"
        "The insurer accepts the claim.\n\nEnd."
    )
    assert [(s.number, s.text()) for s in opendocument.sheet_tables(io.BytesIO(sheet))] == [
        (1, "Sheet: Claims\n| C-1 |\n| --- |"),
        (1, "Sheet: Claims\nExhibit A: the floor plan."),
    ]
    assert [p.text for p in opendocument.slide_texts(io.BytesIO(deck))] == [
        "Site\n\nThe insurer accepts the claim.\n\nBelow."
    ]


def test_charts_an_open_document_shows_are_tables_of_their_figures():
    # Given a text document and a presentation showing charts of ODF's own (a folder of the
    # package with its content.xml, the figures in its local table, as LibreOffice keeps them)
    losses = odf_chart(
        "Losses", [["", "Damages", "Costs"], ["2023", 1200.5, 90], ["2024", 3400, 75]]
    )
    rents = odf_chart("", [["", "Rent"], ["Q1", 950]])
    members = {"Object 1/content.xml": losses, "Object 2/content.xml": rents}
    text = open_document(
        "text",
        f"<text:p>The losses:{chart_frame('Object 1')}</text:p><text:p>End.</text:p>",
        members=members,
    )
    deck = open_document(
        "presentation",
        '<draw:page><draw:frame presentation:class="title" svg:y="1cm"><draw:text-box>'
        f"<text:p>Rent</text:p></draw:text-box></draw:frame>{chart_frame('Object 2')}</draw:page>",
        members=members,
    )
    # When each is read
    # Then each chart is a table of its figures (its series without values left out), its
    # title in the corner, after its paragraph or where its frame stands (red before: none)
    assert opendocument.text_document_text(io.BytesIO(text)) == (
        "The losses:\n\n| Chart: Losses | Damages | Costs |\n| --- | --- | --- |\n"
        "| 2023 | 1200.5 | 90 |\n| 2024 | 3400 | 75 |\n\nEnd."
    )
    assert [p.text for p in opendocument.slide_texts(io.BytesIO(deck))] == [
        "Rent\n\n| Chart | Rent |\n| --- | --- |\n| Q1 | 950 |"
    ]


def test_an_open_document_attached_to_a_message_is_read_as_its_kind():
    # Given an e-mail carrying a text document
    package = open_document("text", _p("The landlord insures the building."))
    message = email_message(
        "Lease", "See attached.", attachments=[("lease.odt", "application/octet-stream", package)]
    )
    # When its attachment is read, Then its text is the document's (red before: the ZIP's
    # XML files, markup and all)
    text = file_text(message.as_bytes(), "lease.eml", OCR_OFF, "off", 0)
    assert "Attachment: lease.odt" in text
    assert "The landlord insures the building." in text and "office:" not in text


@pytest.mark.parametrize("kind", ["text", "spreadsheet", "presentation"])
def test_an_encrypted_open_document_is_encrypted_document(kind: str):
    # Given a package whose manifest says its content is encrypted with a password
    package = open_document(kind, "", encrypted=True)
    # When it is read, Then it is EncryptedDocument, not a parse error
    with pytest.raises(EncryptedDocument):
        _read(kind, package)


@pytest.mark.parametrize("kind", ["text", "spreadsheet", "presentation"])
def test_an_open_document_of_damaged_xml_is_invalid_document(kind: str):
    # Given a package whose content.xml is cut short in the middle of a row or a paragraph
    element = {
        "text": _p("Cut"),
        "spreadsheet": "<table:table>" + _row("a"),
        "presentation": "<draw:page>" + _p("a"),
    }
    package = open_document(kind, element[kind] + "<text:p>unclosed")
    # When it is read, Then it is InvalidDocument (lxml's own error typed)
    with pytest.raises(InvalidDocument):
        _read(kind, package)


def _read(kind: str, package: bytes) -> object:
    source = io.BytesIO(package)
    if kind == "text":
        return opendocument.text_document_text(source)
    if kind == "spreadsheet":
        return [sheet.text() for sheet in opendocument.sheet_tables(source)]
    return list(opendocument.slide_texts(source))


def test_a_count_the_file_states_wrongly_counts_one():
    # Given spaces, a repeat and a span counted in digits Python reads but int() does not
    # ("²"), and in words
    body = (
        '<text:p>a<text:s text:c="²"/>b<text:s text:c="two"/>c</text:p><table:table>'
        '<table:table-row table:number-rows-repeated="²">'
        '<table:table-cell table:number-columns-repeated="x" table:number-columns-spanned="²">'
        "<text:p>d</text:p></table:table-cell></table:table-row></table:table>"
    )
    # When it is read, Then each counts one (it was a ValueError, untyped)
    assert _text(body) == "a b c\n\n| d |\n| --- |"


def test_a_mimetype_member_is_read_no_further_than_a_type_can_run():
    # Given a ZIP whose mimetype member declares a text document, then runs on to 256 MB
    declared = b"application/vnd.oasis.opendocument.text" + b" " * (256 << 20)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", declared)
        archive.writestr("content.xml", b"<x/>")
    del declared
    # When its kind is sniffed, Then it is a text document, and the member was not read whole
    # (it was: 256 MB more in the process)
    kind, grew = peak_growth_mb(lambda: sniff_zip(package))
    assert kind == ODT and grew < 64


# Flat OpenDocument files (.fodt, .fods, .fodp): one XML document, LibreOffice's other form.
_FLAT_BODIES = {
    "text": _p("The tenant insures the contents.")
    + '<text:p>Rent<text:note text:note-class="footnote"><text:note-body>'
    + _p("Net of fees.")
    + "</text:note-body></text:note></text:p>",
    "spreadsheet": '<table:table table:name="Rents">'
    + _row("Unit", "Rent")
    + _row("4", "1,200")
    + "</table:table>",
    "presentation": '<draw:page draw:name="p1"><draw:frame presentation:class="title">'
    "<draw:text-box>" + _p("Lease terms") + "</draw:text-box></draw:frame></draw:page>",
}
_FLAT_HEADER = (
    '<style:master-page style:name="Standard"><style:header>'
    + _p("Case 24-cv-0117")
    + "</style:header></style:master-page>"
)


@pytest.mark.parametrize(
    ("kind", "media_type", "declared"),
    [
        ("text", ODT, "application/vnd.oasis.opendocument.text"),
        ("text", ODT, "application/vnd.oasis.opendocument.text-template"),
        ("spreadsheet", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
        ("presentation", ODP, "application/vnd.oasis.opendocument.presentation"),
    ],
)
def test_a_flat_open_document_reads_as_its_package_does(kind: str, media_type: str, declared: str):
    # Given a document as a package, and the same as a flat file (one XML document), its
    # pictures inside it in base64
    package = open_document(kind, _FLAT_BODIES[kind], _FLAT_HEADER, media_type=declared)
    flat = flat_open_document(package).replace(
        b"</office:document>",
        b"<office:binary-data>" + base64.b64encode(bytes(3000)) + b"</office:binary-data>"
        b"</office:document>",
    )
    # When each is sniffed and read
    # Then the flat file is its kind, read alike (red before: plain text, its markup and
    # base64 and all)
    assert sniff(flat[:SNIFF_BYTES], "lease").media_type == media_type
    assert _read(kind, flat) == _read(kind, package)
    if kind == "text":  # its styles' headers, beside its body, from the one document
        assert "Headers and footers:\nCase 24-cv-0117" in str(_read(kind, flat))


def test_xml_of_another_kind_is_not_taken_for_a_flat_open_document():
    # Given XML that names a mimetype but is not in ODF's office namespace, and a flat drawing
    other = b'<?xml version="1.0"?><x:document xmlns:x="urn:x" x:mimetype="' + ODT.encode() + b'"/>'
    drawing = flat_open_document(
        open_document("text", "", media_type="application/vnd.oasis.opendocument.graphics")
    )
    # When they are sniffed, Then they are text, as before
    assert sniff(other, "a.xml").media_type == TEXT
    assert sniff(drawing[:SNIFF_BYTES], "a.fodg").media_type == TEXT


@pytest.mark.parametrize("kind", ["text", "spreadsheet", "presentation"])
def test_a_flat_open_document_of_damaged_xml_is_invalid_document(kind: str):
    # Given a flat file cut short
    flat = flat_open_document(open_document(kind, _FLAT_BODIES[kind]))
    # When it is read, Then it is InvalidDocument
    with pytest.raises(InvalidDocument):
        _read(kind, flat[: len(flat) * 2 // 3])
