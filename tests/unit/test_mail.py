"""E-mail: told apart from text by its header, read as its header, body and attachments."""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from docproc.errors import DocprocError
from docproc.extract.compound import compound_file
from docproc.extract.mail import file_text, message_text
from docproc.extract.ocr import OCR_OFF, OcrOptions, tessdata_folder
from docproc.extract.sniff import EML, EMLX, TEXT, sniff
from tests.documents import (
    Slide,
    docx_file,
    email_message,
    emlx_file,
    legacy_workbook,
    page_picture,
    pdf_of_lines,
    presentation,
    scanned_tiff,
    workbook,
)

OCR = OcrOptions("auto", "eng", 200, tessdata_folder("eng"))


def _workbook_bytes(tmp_path: Path) -> bytes:
    return workbook(
        tmp_path / "arrears.xlsx", {"Arrears": [["Unit", "Owed"], [4, 350]]}
    ).read_bytes()


def _picture(picture: Image.Image, format: str = "PNG") -> bytes:
    out = io.BytesIO()
    picture.save(out, format=format)
    return out.getvalue()


def test_an_email_is_told_from_text_by_its_header_whatever_its_name():
    message = email_message("Lease renewal", "Please sign by Friday.").as_bytes()
    assert sniff(message, "message.txt").media_type == EML
    assert sniff(message, "message.eml").media_type == EML
    # A header longer than what is read (a long chain of Received fields) still is one
    relayed = b"".join(b"Received: from relay%d.example by mx.example;\r\n" % i for i in range(400))
    assert sniff((relayed + message)[:8192], "").media_type == EML


@pytest.mark.parametrize(
    "text",
    [
        "From: Ana\nTo: Ben\nSubject: Memo\n\nA memo with a header of its own.",
        "Name: Ana\nRole: counsel\nDate: 2026-03-03\n\nA form's fields.",
        "Date: 2026-03-03\nFrom: The board\nTo: Members\nAttendees: Ana, Ben\n\nMinutes.",
        "Subject: notes\nThe first line is a field, the second is not.\n",
    ],
    ids=["memo", "form", "minutes", "one-field"],
)
def test_text_with_fields_is_not_an_email(text: str):
    assert sniff(text.encode(), "notes.eml").media_type == TEXT


def test_an_email_reads_as_its_header_body_and_attachments(tmp_path: Path):
    # Given a message with an HTML alternative, and attached: a PDF, a DOCX, a CSV, an XLSX,
    # a logo
    # and a forwarded message with an attachment of its own
    forwarded = email_message(
        "Fwd: inspection",
        "The inspector's report is attached.",
        attachments=[("report.txt", "text/plain", b"Mould found in the north bedroom.")],
    )
    docx = docx_file(tmp_path / "draft.docx", ["Clause 4: the tenant repairs the roof."])
    message = email_message(
        "Lease =?renewal?= — Unit 4",
        "Please sign by Friday.",
        html="<html><body><p>Please <b>sign</b> by Friday.</p><script>x()</script></body></html>",
        attachments=[
            ("lease.pdf", "application/pdf", pdf_of_lines(["Rent is 1,200 a month.", "Page two."])),
            ("draft.docx", "application/octet-stream", docx.read_bytes()),
            ("rents.csv", "text/csv", b"unit,rent\n4,1200\n"),
            ("arrears.xlsx", "application/octet-stream", _workbook_bytes(tmp_path)),
            ("logo.png", "image/png", _picture(page_picture(["ACME"], width=90, height=30))),
            ("inspection.eml", "message/rfc822", forwarded),
        ],
    )
    # When its text is read
    text = message_text(io.BytesIO(message.as_bytes()))
    # Then the header's fields lead, the plain body follows (not its HTML twin), and each
    # attachment is named with its text, the forwarded one's within it
    assert text.startswith(
        "From: Ana Ruiz <ana@firm.example>\nTo: Ben Ode <ben@client.example>\n"
        "Date: Tue, 03 Mar 2026 10:15:00 +0000\nSubject: Lease =?renewal?= — Unit 4\n\n"
        "Please sign by Friday.\n\nAttachment: lease.pdf (application/pdf)\n\n"
        "Rent is 1,200 a month.\n\nPage two."
    )
    for expected in [
        "Attachment: draft.docx (application/octet-stream)\n\nClause 4: the tenant repairs",
        "Attachment: rents.csv (text/csv)\n\nunit,rent\n4,1200",
        "Attachment: arrears.xlsx (application/octet-stream)\n\nSheet: Arrears\n"
        "| Unit | Owed |\n| --- | --- |\n| 4 | 350 |",
        "Attachment: logo.png (image/png)\n\nAttachment: inspection.eml (message/rfc822)",
        "Subject: Fwd: inspection\n\nThe inspector's report is attached.\n\n"
        "Attachment: report.txt (text/plain)\n\nMould found in the north bedroom.",
    ]:
        assert expected in text
    assert text.count("Please sign") == 1
    # And none of the attachments' base64 is in it
    assert "JVBERi" not in text and "/9j/" not in text and "UEsDB" not in text


def test_an_html_only_email_reads_as_its_text():
    message = email_message("Notice", "unused")
    message.set_content("<p>Notice to <i>quit</i></p><style>p{}</style>", subtype="html")
    assert message_text(io.BytesIO(message.as_bytes())).endswith(
        "Subject: Notice\n\nNotice to quit"
    )


def test_a_message_that_is_one_file_reads_as_that_file():
    # Given a scanner's message: no body, its one part a PDF
    message = email_message("Scan from the copier", "unused")
    message.set_content(
        pdf_of_lines(["Scanned deed of 1998."]),
        maintype="application",
        subtype="pdf",
        filename="scan.pdf",
    )
    # Then the PDF's text follows the header
    assert message_text(io.BytesIO(message.as_bytes())).endswith(
        "Subject: Scan from the copier\n\nAttachment: scan.pdf (application/pdf)\n\n"
        "Scanned deed of 1998."
    )


def test_an_attached_fax_is_read_by_ocr_and_an_inline_logo_only_named(tmp_path: Path):
    # Given a message with a signature's logo inline and a two-page fax attached as a TIFF
    pages = [["Fax page one: notice of default"], ["Page two"]]
    fax = scanned_tiff(tmp_path / "fax.tif", pages, dpi=200)
    message = email_message(
        "Fax received",
        "See the attached fax.",
        attachments=[
            ("image001.png", "image/png", _picture(page_picture(["ACME"], width=90, height=30))),
            ("fax.tif", "image/tiff", fax.read_bytes()),
        ],
    )
    # When it is read with OCR on
    text = message_text(io.BytesIO(message.as_bytes()), OCR)
    # Then the fax's pages are its text, and the logo, too small to be a page, is only named
    assert "Attachment: image001.png (image/png)\n\nAttachment: fax.tif (image/tiff)" in text
    assert " ".join(text.split()).endswith(
        "Attachment: fax.tif (image/tiff) Fax page one: notice of default Page two"
    )


def test_an_attached_legacy_workbook_is_read_and_a_protected_one_named(tmp_path: Path):
    # Given a message with an Excel 97-2003 workbook and a password-protected one attached
    old = legacy_workbook(tmp_path / "old.xls", {"Rents": [["Unit", "Rent"], [4, 1200]]})
    locked = compound_file({"EncryptionInfo": bytes(200), "EncryptedPackage": bytes(600)})
    message = email_message(
        "Rents",
        "Two workbooks.",
        attachments=[
            ("old.xls", "application/vnd.ms-excel", old.read_bytes()),
            ("locked.xlsx", "application/octet-stream", locked),
        ],
    )
    # When it is read, Then the first is its sheet, the second named as encrypted
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "Attachment: old.xls (application/vnd.ms-excel)\n\n"
        "Sheet: Rents\n| Unit | Rent |\n| --- | --- |\n| 4 | 1200 |\n\n"
        "Attachment: locked.xlsx (application/octet-stream), not read: EncryptedDocument"
    )


def test_an_attached_presentation_is_read_slide_by_slide(tmp_path: Path):
    # Given a message with a deck attached, under a name that does not say what it is
    deck = presentation(
        tmp_path / "deck.pptx",
        [Slide(title="Offer", notes="Floor is 40,000."), Slide(title="Timeline")],
    )
    message = email_message(
        "Deck",
        "See attached.",
        attachments=[("deck.bin", "application/octet-stream", deck.read_bytes())],
    )
    # When it is read, Then the deck's slides are its text, notes included
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "Attachment: deck.bin (application/octet-stream)\n\n"
        "Offer\n\nNotes:\nFloor is 40,000.\n\nTimeline"
    )


def test_an_attachment_that_cannot_be_read_is_named_and_the_rest_kept():
    # Given a damaged PDF and a PDF encrypted with a user password beside a readable text
    locked = pdf_of_lines(["secret"])
    import pymupdf

    with pymupdf.open("pdf", locked) as document:
        locked = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    message = email_message(
        "Exhibits",
        "Three exhibits.",
        attachments=[
            ("broken.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(500)),
            ("locked.pdf", "application/pdf", locked),
            ("notes.txt", "text/plain", b"The exhibits were served on 2 March."),
        ],
    )
    # When it is read, then each is named with why it was not read, and the rest is there
    text = message_text(io.BytesIO(message.as_bytes()))
    assert "Attachment: broken.pdf (application/pdf), not read: InvalidDocument" in text
    assert "Attachment: locked.pdf (application/pdf), not read: EncryptedDocument" in text
    assert text.endswith("The exhibits were served on 2 March.")


def test_encoded_words_and_legacy_charsets_are_decoded():
    raw = (
        b"From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <jose@firm.example>\r\n"
        b"To: ben@client.example\r\nDate: Tue, 03 Mar 2026 10:15:00 +0000\r\n"
        b"Subject: =?iso-8859-1?q?R=E9sum=E9_of_the_case?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"La d=E9claration du t=E9moin.\r\n"
    )
    text = message_text(io.BytesIO(raw))
    assert "From: José Pérez <jose@firm.example>" in text
    assert "Subject: Résumé of the case" in text
    assert text.endswith("La déclaration du témoin.")


def test_a_forwarded_message_is_read_as_parsed_even_if_it_cannot_be_written_again():
    # Given a forwarded message with a broken boundary parameter and a raw 8-bit byte in a
    # file name (what the parser tolerates; writing it out again raised UnicodeEncodeError)
    raw = (
        b"From: ana@firm.example\r\nTo: ben@client.example\r\nMessage-ID: <2@firm.example>\r\n"
        b"Subject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="OUT"\r\n\r\n'
        b"--OUT\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        b"--OUT\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"From: cy@court.example\r\nSubject: Order\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; bound="\r\n\r\n'
        b"--IN\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="order\xff.txt"\r\n\r\n'
        b"The hearing is moved to May.\r\n--IN--\r\n"
        b"--OUT--\r\n"
    )
    # When it is read, then the forwarded message's text is there
    text = message_text(io.BytesIO(raw))
    assert "See below." in text and "Subject: Order" in text
    assert "The hearing is moved to May." in text


def test_a_damaged_message_is_text_or_a_typed_error_never_an_untyped_one():
    # Given a message with a PDF, a CSV and a forwarded message attached, damaged at random
    # (boundaries, encodings, encoded words and file names cut or garbled)
    forwarded = email_message("Fwd", "Inner.", attachments=[("r.txt", "text/plain", b"report")])
    message = email_message(
        "Subject é",
        "Body.",
        html="<p>Body.</p>",
        attachments=[
            ("a.pdf", "application/pdf", pdf_of_lines(["PDF text."])),
            ("n.csv", "text/csv", b"a,b\n1,2\n"),
            ("f.eml", "message/rfc822", forwarded),
        ],
    ).as_bytes()
    rng = random.Random(11)
    pieces = [b"\r\n", b"--", b"=?utf-8?b?", b"?=", b"Content-Type: ", b"boundary=", b'"', b";"]
    pieces += [b"\x00", b"\xff", b"charset=x-unknown", b"base64", b"message/rfc822", b"filename*="]
    outcomes = set()
    for _ in range(500):
        damaged = bytearray(message)
        for _ in range(rng.randint(1, 8)):
            position, choice = rng.randrange(len(damaged) + 1), rng.random()
            if choice < 0.5:
                damaged[position:position] = rng.choice(pieces)
            elif choice < 0.85:
                del damaged[position : position + rng.randint(1, 40)]
            else:
                del damaged[position:]
        # When it is read, then it gives text, or a DocprocError (an attachment's is named)
        try:
            message_text(io.BytesIO(bytes(damaged)))
            outcomes.add("text")
        except DocprocError as exc:
            outcomes.add(type(exc).__name__)
    assert "text" in outcomes


def test_an_apple_mail_message_file_is_read_as_its_message_without_mail_s_flags():
    # Given a message as Apple Mail keeps one (.emlx): its size, the message with a PDF, then
    # a property list of Mail's flags; under any name
    message = email_message(
        "Lease", "Signed.", attachments=[("l.pdf", "application/pdf", pdf_of_lines(["Rent."]))]
    )
    data = emlx_file(message)
    assert sniff(data[:8192], "12345.emlx").media_type == EMLX
    assert sniff(data[:8192], "12345").media_type == EMLX
    # When it is read, as an attachment (or an archive's file) is
    text = file_text(data, "12345.emlx", OCR_OFF, "off", 0)
    # Then it is the message, not Mail's flags (red before: text, plist and base64 included)
    assert text == message_text(io.BytesIO(message.as_bytes()))
    assert "Subject: Lease" in text and "Rent." in text and "plist" not in text


def _mht_part(location: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    return (
        (
            f"------=_NextPart_01DA\r\nContent-Location: {location}\r\n{extra}"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
    )


def test_a_web_page_saved_whole_reads_as_its_page_not_its_look():
    # Given a memo Word saved as a single-file web page (MHTML, no sender): its HTML, a style
    # sheet, Word's colour map and list of its files, a scanned exhibit as a picture, and a
    # file it carries by name
    exhibit = _picture(page_picture(["Exhibit 7: the signed notice"], width=500, height=200))
    data = (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01DA"'
        b"\r\n\r\nThis document is a Single File Web Page.\r\n\r\n"
        + _mht_part(
            "file:///C:/D/memo.htm",
            'text/html; charset="us-ascii"',
            b"<html><body><p>The hearing is moved to 3 March.</p></body></html>",
        )
        + _mht_part("file:///C:/D/memo_files/style.css", "text/css", b"p.MsoNormal {margin:0}")
        + _mht_part(
            "file:///C:/D/memo_files/colorschememapping.xml",
            "text/xml",
            b'<a:clrMap xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"/>',
        )
        + _mht_part(
            "file:///C:/D/memo_files/filelist.xml",
            "text/xml",
            b'<xml><o:MainFile HRef="../memo.htm"/></xml>',
        )
        + _mht_part(
            "file:///C:/D/memo_files/image001.png",
            "image/png",
            base64.encodebytes(exhibit),
            "Content-Transfer-Encoding: base64\r\n",
        )
        + _mht_part(
            "file:///C:/D/memo_files/terms.txt",
            "text/plain",
            b"Terms of the adjournment.",
            'Content-Disposition: attachment; filename="terms.txt"\r\n',
        )
        + b"------=_NextPart_01DA--\r\n"
    )
    # When it is read with OCR on
    text = message_text(io.BytesIO(data), OCR)
    # Then it is the page's text, the picture's and the named file's: not the style sheet,
    # colour map or file list (red before: each followed the page as an attachment's text)
    assert text.startswith("The hearing is moved to 3 March.\n\nAttachment (image/png)\n\n")
    assert "Exhibit 7" in text
    assert text.endswith("Attachment: terms.txt (text/plain)\n\nTerms of the adjournment.")
    assert "MsoNormal" not in text and "clrMap" not in text and "MainFile" not in text
    assert sniff(data, "memo").media_type == EML
