"""Office packages saved flat (Flat OPC: Word's "Word XML Document", PowerPoint's "PowerPoint
XML Presentation", what document-assembly tools and add-ins write): one XML document whose
parts are its elements, sniffed as what it holds and read as that package is."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument
from docproc.extract.docx import docx_text
from docproc.extract.packages import opened_package
from docproc.extract.pptx import slide_texts
from docproc.extract.sniff import DOCX, PPTX, SNIFF_BYTES, TEXT, sniff
from tests.documents import ImportedPart, Slide, flat_package, presentation, word_package

_PKG = "http://schemas.microsoft.com/office/2006/xmlPackage"
_DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _p(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _lease(imported: tuple[ImportedPart, ...] = ()) -> bytes:
    """A DOCX with a table, a footnote, a comment, a header and a tracked insertion."""
    body = (
        _p("Lease of Unit 4.")
        + '<w:p><w:r><w:t>Rent is </w:t></w:r><w:ins w:id="1" w:author="A"><w:r><w:t>'
        "2,000</w:t></w:r></w:ins>"
        '<w:r><w:footnoteReference w:id="2"/></w:r><w:r><w:commentReference w:id="0"/></w:r>'
        "</w:p>"
        "<w:tbl><w:tr><w:tc>" + _p("Term") + "</w:tc><w:tc>" + _p("Value") + "</w:tc></w:tr>"
        "<w:tr><w:tc>" + _p("Deposit") + "</w:tc><w:tc>" + _p("4,000 &amp; fees") + "</w:tc>"
        "</w:tr></w:tbl>" + "".join(f'<w:altChunk r:id="{part.rid}"/>' for part in imported)
    )
    return word_package(
        body,
        footnotes='<w:footnote w:id="2">' + _p("Payable monthly.") + "</w:footnote>",
        comments='<w:comment w:id="0" w:author="B">' + _p("Check the figure.") + "</w:comment>",
        headers=[_p("Case 24-cv-0117")],
        imported=imported,
    )


def test_a_flat_word_document_is_sniffed_and_read_as_its_package():
    # Given a DOCX and the same saved flat, as Word saves a "Word XML Document"
    package = _lease()
    flat = flat_package(package)
    # When each is sniffed and read
    # Then the flat file is a DOCX, read alike: its body, table, footnote, comment and header
    # (red before: plain text, its markup chunked)
    assert sniff(flat[:SNIFF_BYTES], "lease.xml").media_type == DOCX
    text = docx_text(io.BytesIO(flat))
    assert text == docx_text(io.BytesIO(package))
    assert "Rent is 2,000" in text and "| Deposit | 4,000 & fees |" in text
    assert "Payable monthly." in text and "Check the figure." in text
    assert "Case 24-cv-0117" in text


def test_a_flat_presentation_is_sniffed_and_read_as_its_package(tmp_path: Path):
    # Given a deck and the same saved flat, as PowerPoint saves a "PowerPoint XML Presentation"
    deck = presentation(
        tmp_path / "deck.pptx",
        [
            Slide(title="Settlement", table=[["Party", "Pays"], ["Acme", "40,000"]], notes="Ask."),
            Slide(title="Timeline", pictures=[("a chart of dates", 2, 2)]),
        ],
    ).read_bytes()
    flat = flat_package(deck)
    # When each is sniffed and read, Then the flat file is a PPTX, its slides read alike
    assert sniff(flat[:SNIFF_BYTES], "deck.xml").media_type == PPTX
    slides = list(slide_texts(io.BytesIO(flat)))
    assert slides == list(slide_texts(io.BytesIO(deck)))
    assert [slide.number for slide in slides] == [1, 2]


def _flat(parts: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return f'{prolog}<pkg:package xmlns:pkg="{_PKG}">{parts}</pkg:package>'.encode()


def _part(name: str, content_type: str) -> str:
    return f'<pkg:part pkg:name="{name}" pkg:contentType="{content_type}">'


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        # By the main part's content type: a document, a macro-enabled one, a template; a
        # presentation, a slide show
        (_flat(_part("/word/document.xml", _DOCUMENT_MAIN)), DOCX),
        (_flat(_part("/d.xml", "application/vnd.ms-word.document.macroEnabled.main+xml")), DOCX),
        (
            _flat(
                _part(
                    "/d.xml",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
                    ".main+xml",
                )
            ),
            DOCX,
        ),
        (
            _flat(
                _part(
                    "/p.xml",
                    "application/vnd.openxmlformats-officedocument.presentationml.slideshow"
                    ".main+xml",
                )
            ),
            PPTX,
        ),
        # By the program named to open it, where the main part lies beyond what is sniffed
        (_flat("", '<?xml version="1.0"?><?mso-application progid="PowerPoint.Show"?>'), PPTX),
        (
            _flat(
                "",
                '<?xml version="1.0"?>\n<!-- saved -->\n<?mso-application progid="Word.Document"?>',
            ),
            DOCX,
        ),
        # Neither: a package of no kind docproc reads, XML of another namespace named
        # "package", a package element that is not the root
        (_flat(_part("/x.xml", "application/xml")), TEXT),
        (b'<?xml version="1.0"?><pkg:package xmlns:pkg="urn:other"/>', TEXT),
        (b'<notes><pkg:package xmlns:pkg="' + _PKG.encode() + b'"/></notes>', TEXT),
    ],
)
def test_a_flat_package_is_told_by_its_root_and_what_it_holds(head: bytes, media_type: str):
    assert sniff(head, "saved.xml").media_type == media_type


def test_a_flat_package_s_pictures_are_not_decoded(tmp_path: Path):
    # Given a flat DOCX holding a picture of 12 MB of base64 (lxml refuses a text node over
    # 10 MB) beside its text
    flat = flat_package(_lease()).replace(
        b"</pkg:package>",
        _part("/word/media/image1.png", "image/png").encode()
        + b"<pkg:binaryData>"
        + base64.encodebytes(bytes(9 << 20))
        + b"</pkg:binaryData></pkg:part></pkg:package>",
    )
    # When the package it holds is made
    with opened_package(io.BytesIO(flat)) as package:
        # Then the picture is there, empty, and the document whole
        assert package.getinfo("word/media/image1.png").file_size == 0
        assert package.read("word/document.xml").startswith(b"<?xml")
    # And the document reads
    assert "Lease of Unit 4." in docx_text(io.BytesIO(flat))


def test_a_flat_document_s_imports_are_read_from_its_binary_parts():
    # Given a flat DOCX that imports an HTML clause and a DOCX (parts Word keeps as base64)
    nested = word_package(_p("Clause 9: arbitration in London."))
    imported = (
        ImportedPart("c1.htm", "text/html", b"<p>Clause 8: notices in writing.</p>", "rId1"),
        ImportedPart("c2.docx", _DOCUMENT_MAIN, nested, "rId2"),
    )
    flat = flat_package(_lease(imported))
    # When it is read, Then each import stands in its place
    text = docx_text(io.BytesIO(flat))
    assert "| Deposit | 4,000 & fees |\n\nClause 8: notices in writing.\n\n" in text
    assert "Clause 9: arbitration in London." in text


def test_an_import_of_damaged_base64_is_left_out_and_the_rest_read():
    # Given a flat DOCX whose one import's base64 is damaged
    imported = (ImportedPart("c1.htm", "text/html", b"<p>Clause 8: notices.</p>" * 40, "rId1"),)
    flat = flat_package(_lease(imported))
    start = flat.index(b"<pkg:binaryData>", flat.index(b'pkg:name="/word/c1.htm"'))
    damaged = flat[: start + 40] + b"*" + flat[start + 41 :]
    # When it is read, Then the document is, without the import
    text = docx_text(io.BytesIO(damaged))
    assert "Lease of Unit 4." in text and "Clause 8" not in text


def test_namespaces_declared_around_a_part_are_the_part_s():
    # Given a flat DOCX whose prefixes w and r are declared on the package, not in its parts
    flat = flat_package(_lease())
    declarations = (
        b' xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    )
    moved = flat.replace(declarations, b"").replace(
        f'xmlns:pkg="{_PKG}"'.encode(), f'xmlns:pkg="{_PKG}"'.encode() + declarations, 1
    )
    assert moved.count(b"xmlns:w=") == 1
    # When it is read, Then it reads as the package does
    assert docx_text(io.BytesIO(moved)) == docx_text(io.BytesIO(_lease()))


@pytest.mark.parametrize(
    "damage",
    ["cut short", "doctype", "no parts", "part named twice", "part unnamed", "other xml"],
)
def test_a_damaged_flat_package_is_invalid_document(damage: str):
    # Given a flat DOCX damaged so
    flat = flat_package(_lease())
    first_part = flat.index(b"<pkg:part ")
    damaged = {
        "cut short": flat[: len(flat) * 2 // 3],
        "doctype": flat.replace(
            b"<pkg:package",
            b'<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><pkg:package',
        ),
        "no parts": _flat(""),
        "part named twice": flat[:first_part]
        + flat[first_part : flat.index(b"</pkg:part>") + 11]
        + flat[first_part:],
        "part unnamed": flat.replace(b'pkg:name="/_rels/.rels"', b'pkg:name=""'),
        "other xml": b'<?xml version="1.0"?><w:document xmlns:w="urn:x"/>',
    }[damage]
    # When it is read, Then it is InvalidDocument (nothing else escapes)
    with pytest.raises(InvalidDocument):
        docx_text(io.BytesIO(damaged))
