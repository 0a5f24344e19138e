"""Office's one-file XML documents of the 2003 era: Word 2003 XML (WordprocessingML) read as a
DOCX of the same content is, Excel 2003 XML (SpreadsheetML) as any workbook's sheets; each
sniffed by its root, whatever its name."""

from __future__ import annotations

import base64
import datetime
import io

import pytest

from docproc.errors import InvalidDocument
from docproc.extract.docx import docx_text
from docproc.extract.sniff import SNIFF_BYTES, SPREADSHEETML, TEXT, WORDML, sniff
from docproc.extract.spreadsheetml import sheet_tables
from docproc.extract.wordml import wordml_text
from tests.documents import excel_2003_xml, word_2003_xml, word_package


def _p(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _cell(xml: str, properties: str = "") -> str:
    return f"<w:tc><w:tcPr>{properties}</w:tcPr>{xml}</w:tc>"


def test_a_word_2003_document_reads_as_a_docx_of_the_same_content():
    # Given a lease written as Word 2003 XML, and the same as a DOCX: a paragraph, one with a
    # term inserted and one deleted (changes tracked), a footnote and a comment, a table with a
    # cell merged over two rows, a text box, a header on two kinds of page
    inserted_2003 = (
        '<aml:annotation aml:id="1" w:type="Word.Insertion" aml:author="Ann"><aml:content>'
        "<w:r><w:t>2,000</w:t></w:r></aml:content></aml:annotation>"
    )
    deleted_2003 = (
        '<aml:annotation aml:id="2" w:type="Word.Deletion" aml:author="Ann"><aml:content>'
        "<w:r><w:delText>1,000</w:delText></w:r></aml:content></aml:annotation>"
    )
    note_2003 = "<w:r><w:footnote>" + _p("Payable on the first.") + "</w:footnote></w:r>"
    comment_2003 = (
        '<aml:annotation aml:id="3" w:type="Word.Comment" aml:author="Bo"><aml:content>'
        + _p("Check the figure.")
        + "</aml:content></aml:annotation>"
    )
    box = "<w:r><w:pict><v:shape><v:textbox><w:txbxContent>{}</w:txbxContent></v:textbox>"
    table_2003 = (
        "<w:tbl><w:tblPr/><w:tr>"
        + _cell(_p("Term"))
        + _cell(_p("Value"))
        + "</w:tr><w:tr>"
        + _cell(_p("Deposit"), '<w:vmerge w:val="restart"/>')
        + _cell(_p("4,000"))
        + "</w:tr><w:tr>"
        + _cell("<w:p/>", "<w:vmerge/>")
        + _cell(_p("fees &amp; costs"))
        + "</w:tr></w:tbl>"
    )
    word_2003 = word_2003_xml(
        _p("Lease of Unit 4.")
        + "<w:p><w:r><w:t>Rent is </w:t></w:r>"
        + inserted_2003
        + deleted_2003
        + "<w:r><w:t> a month.</w:t></w:r>"
        + note_2003
        + comment_2003
        + "</w:p>"
        + table_2003
        + "<w:p>"
        + box.format(_p("Boxed term."))
        + "</v:shape></w:pict></w:r></w:p>",
        headers=[_p("Case 24-cv-0117"), _p("Case 24-cv-0117")],
    )
    table_docx = table_2003.replace("<w:vmerge", "<w:vMerge")
    docx = word_package(
        _p("Lease of Unit 4.")
        + "<w:p><w:r><w:t>Rent is </w:t></w:r>"
        + '<w:ins w:id="1" w:author="Ann"><w:r><w:t>2,000</w:t></w:r></w:ins>'
        + '<w:del w:id="2" w:author="Ann"><w:r><w:delText>1,000</w:delText></w:r></w:del>'
        + "<w:r><w:t> a month.</w:t></w:r>"
        + '<w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:commentReference w:id="0"/></w:r>'
        + "</w:p>"
        + table_docx
        + "<w:p>"
        + box.format(_p("Boxed term."))
        + "</v:shape></w:pict></w:r></w:p>",
        footnotes='<w:footnote w:id="1">' + _p("Payable on the first.") + "</w:footnote>",
        comments='<w:comment w:id="0" w:author="Bo">' + _p("Check the figure.") + "</w:comment>",
        headers=[_p("Case 24-cv-0117"), _p("Case 24-cv-0117")],
    )
    # When each is sniffed and read
    text = wordml_text(io.BytesIO(word_2003))
    # Then the Word 2003 document is one (red before: plain text, its markup chunked), and
    # reads as the DOCX does: the inserted term and not the deleted one, the stories under
    # their labels, the header once, the merged cell in both rows
    assert sniff(word_2003[:SNIFF_BYTES], "lease.xml").media_type == WORDML
    assert text == docx_text(io.BytesIO(docx))
    assert "Rent is 2,000 a month." in text and "1,000" not in text
    assert "| Deposit | fees & costs |" in text
    assert "Footnotes:\nPayable on the first." in text and "Comments:\nCheck the figure." in text


def test_fields_show_their_results_links_their_text_and_cells_their_spans():
    # Given a field (its code, then its result), a hyperlink, a tab and a break, and a table
    # whose cells span columns (gridSpan) and continue a merge across (hmerge)
    body = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText>'
        '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r><w:r>'
        '<w:fldChar w:fldCharType="end"/></w:r></w:p>'
        '<w:p><w:hlink w:dest="http://example.com"><w:r><w:t>See the schedule</w:t></w:r></w:hlink>'
        "<w:r><w:tab/><w:t>now</w:t><w:br/><w:t>or later</w:t></w:r></w:p>"
        "<w:tbl><w:tr>"
        + _cell(_p("Parties"), '<w:gridSpan w:val="2"/>')
        + _cell(_p("Signed"))
        + "</w:tr><w:tr>"
        + _cell(_p("Acme"), '<w:hmerge w:val="restart"/>')
        + _cell("<w:p/>", "<w:hmerge/>")
        + _cell(_p("yes"))
        + "</w:tr></w:tbl>"
    )
    # When it is read
    text = wordml_text(io.BytesIO(word_2003_xml(body)))
    # Then each shows as Word shows it
    assert text.split("\n\n") == [
        "7",
        "See the schedule\tnow\nor later",
        "| Parties | Parties | Signed |\n| --- | --- | --- |\n| Acme | Acme | yes |",
    ]


def test_a_word_2003_document_s_pictures_are_left_out_before_they_are_parsed():
    # Given a document of a line and a picture of 12 MB of base64 (over lxml's 10 MB limit on
    # a text node)
    data = word_2003_xml(_p("The landlord insures the building."), pictures=9_000_000)
    # When it is read, Then its text is (the picture no text node to refuse)
    assert wordml_text(io.BytesIO(data)) == "The landlord insures the building."


def test_objects_a_word_2003_document_embeds_are_read_after_their_paragraphs():
    # Given a Word 2003 XML brief embedding, as Word keeps them (its pool of objects, a compound
    # file in base64 before the body, named by the body's o:OLEObject elements): an exhibit's
    # PDF packaged as an icon, a Word 97-2003 letter in a table's cell, and one the pool lacks
    from tests.documents import packaged_object, pdf_of_lines, word_97_document, wordml_object

    objects = {
        "_1577691300": packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the floor plan."])),
        "_1577691301": word_97_document("The insurer accepts the claim.\r"),
    }
    body = (
        f"<w:p><w:r><w:t>The plan:</w:t></w:r>{wordml_object('_1577691300')}</w:p>"
        f"<w:tbl><w:tr><w:tc><w:p>{wordml_object('_1577691301')}</w:p></w:tc></w:tr></w:tbl>"
        f"<w:p><w:r><w:t>Missing:</w:t></w:r>{wordml_object('_9')}</w:p>"
        "<w:p><w:r><w:t>End.</w:t></w:r></w:p>"
    )
    document = word_2003_xml(body, objects=objects)
    # When it is read
    # Then each object is read after its paragraph (a table's after the table), the missing one
    # left out (red before: no object was read)
    assert wordml_text(io.BytesIO(document)) == (
        "The plan:\n\nExhibit A: the floor plan.\n\n"
        "The insurer accepts the claim.\n\nMissing:\n\nEnd."
    )


@pytest.mark.parametrize("piece", ["ends-after-the-pool-s-tag", "ends-inside-its-tags", 1])
def test_a_word_2003_document_s_pool_of_objects_is_found_whatever_the_pieces_it_is_read_in(
    piece: str | int, monkeypatch: pytest.MonkeyPatch
):
    # Given a Word 2003 XML document embedding a letter, read a piece at a time: a piece ends
    # just after the pool's opening tag (<w:docOleData>), or inside the tags after it, or each
    # is one byte
    from docproc.extract import wordml
    from tests.documents import word_97_document, wordml_object

    objects = {"_1": word_97_document("The insurer accepts the claim.\r")}
    body = f"<w:p><w:r><w:t>Letter:</w:t></w:r>{wordml_object('_1')}</w:p>"
    document = word_2003_xml(body, objects=objects)
    after_tag = document.index(b"<w:docOleData>") + len(b"<w:docOleData>")
    sizes = {"ends-after-the-pool-s-tag": after_tag, "ends-inside-its-tags": after_tag + 5}
    monkeypatch.setattr(wordml, "_SCAN", sizes.get(str(piece), piece))
    # When it is read, Then the letter is read after its paragraph
    assert wordml_text(io.BytesIO(document)) == "Letter:\n\nThe insurer accepts the claim."


@pytest.mark.parametrize(
    "damaged",
    [
        word_2003_xml(_p("Cut short.") * 100)[:1500],
        b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.microsoft.com/office/word/'
        b'2003/wordml"><w:body/></w:document>',
        b'<?xml version="1.0"?><w:wordDocument xmlns:w="http://schemas.microsoft.com/office/'
        b'word/2003/wordml"/>',
    ],
    ids=["cut short", "another root", "no body"],
)
def test_a_damaged_word_2003_document_is_invalid_document(damaged: bytes):
    with pytest.raises(InvalidDocument):
        wordml_text(io.BytesIO(damaged))


def test_an_entity_bomb_in_word_2003_xml_is_not_expanded():
    # Given a document whose DOCTYPE declares entities that would expand a billionfold
    entities = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10 if n else "lol"}">' for n in range(10))
    data = word_2003_xml(_p("Clause &e9;")).replace(
        b"<w:wordDocument", f"<!DOCTYPE w:wordDocument [{entities}]><w:wordDocument".encode()
    )
    # When it is read, Then it is refused, or read without the entity: never expanded (it
    # would take gigabytes; lxml refuses it for the amplification its declarations allow)
    try:
        text = wordml_text(io.BytesIO(data))
    except InvalidDocument:
        return
    assert "lol" not in text


def test_an_excel_2003_workbook_is_its_sheets_whatever_its_name():
    # Given an Excel 2003 XML workbook named .xls (as export tools name them): a sheet of
    # typed values, a cell placed by its index, one spanning two columns in rich text with a
    # comment, an empty sheet, and a third sheet
    rich = (
        '<Cell ss:MergeAcross="1"><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/'
        'REC-html40"><B>late</B> fee</ss:Data><Comment><ss:Data>Ask Bo.</ss:Data></Comment></Cell>'
    )
    data = excel_2003_xml(
        {
            "Rents": [
                ["Unit", "Rent", "Paid", "Due", "", "Note"],
                [4, 1200.5, True, datetime.datetime(2024, 1, 1), None, "on time"],
                ["5", 900, False, rich, "after it"],
            ],
            "Empty": [],
            "Deposits": [["Unit", "Held"], [4, 2400]],
        }
    )
    # When it is sniffed and read
    sheets = [(table.number, table.text()) for table in sheet_tables(io.BytesIO(data))]
    # Then it is a workbook of two sheets with values, each on its number, each value as its
    # type says (red before: plain text, its markup chunked)
    assert sniff(data[:SNIFF_BYTES], "rents.xls").media_type == SPREADSHEETML
    assert sheets == [
        (
            1,
            "Sheet: Rents\n| Unit | Rent | Paid | Due |  | Note |\n"
            "| --- | --- | --- | --- | --- | --- |\n"
            "| 4 | 1200.5 | TRUE | 2024-01-01 |  | on time |\n"
            "| 5 | 900 | FALSE | late fee |  | after it |",
        ),
        (3, "Sheet: Deposits\n| Unit | Held |\n| --- | --- |\n| 4 | 2400 |"),
    ]


def test_a_cell_s_index_and_span_go_no_further_than_excel_s_columns():
    # Given a row whose cell says it is at column 10 million, and one spanning 10 million
    data = excel_2003_xml(
        {
            "S": [
                ["a", '<Cell ss:Index="10000000"><Data ss:Type="String">far</Data></Cell>'],
                ['<Cell ss:MergeAcross="10000000"><Data ss:Type="String">wide</Data></Cell>', "x"],
            ]
        }
    )
    # When it is read, Then its rows hold at most Excel's 16,384 columns
    (table,) = sheet_tables(io.BytesIO(data))
    rows = table.text().split("\n")
    assert rows[1].count("|") <= 16_385 and rows[1].endswith("| far |")
    assert rows[3] == "| wide |"


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        # Word 2003 XML and Excel 2003 XML by their roots and namespaces, prefixed or not
        (
            b'<?xml version="1.0"?><w:wordDocument xmlns:w="http://schemas.microsoft.com/office/'
            b'word/2003/wordml">',
            WORDML,
        ),
        (
            b"<?xml version='1.0'?>\n<!-- export -->\n<ss:Workbook "
            b"xmlns:ss='urn:schemas-microsoft-com:office:spreadsheet'>",
            SPREADSHEETML,
        ),
        # Not: the same names in another namespace, or not the root
        (b'<?xml version="1.0"?><w:wordDocument xmlns:w="urn:other">', TEXT),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:other">', TEXT),
        (b'<notes><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/></notes>', TEXT),
    ],
)
def test_office_xml_is_told_by_its_root(head: bytes, media_type: str):
    assert sniff(head, "export.xml").media_type == media_type


def test_a_damaged_excel_2003_workbook_is_invalid_document():
    # Given a workbook cut short in its first sheet
    data = excel_2003_xml({"S": [[f"row {n}", n] for n in range(200)]})
    # When its sheets are read, Then it is InvalidDocument
    with pytest.raises(InvalidDocument):
        for table in sheet_tables(io.BytesIO(data[: len(data) // 2])):
            table.text()


def test_base64_in_a_picture_is_no_text():
    # Given a document whose picture's base64 would read as words
    words = base64.b64encode(b"x" * 3000).decode()
    data = word_2003_xml(_p("Clause 1.")).replace(
        b"<w:sectPr>",
        f'<w:p><w:r><w:pict><w:binData w:name="a">{words}</w:binData></w:pict></w:r></w:p>'
        "<w:sectPr>".encode(),
    )
    # When it is read, Then only the clause is
    assert wordml_text(io.BytesIO(data)) == "Clause 1."
