"""Outlook messages (.msg) and their TNEF form (winmail.dat): read as an e-mail is, from their
MAPI properties. The layout tests run on both."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from docproc.errors import InvalidDocument
from docproc.extract.mail import MAX_NESTING, message_text
from docproc.extract.outlook import msg_text
from docproc.extract.sniff import MSG, OLE, sniff, sniff_ole
from docproc.extract.tnef import tnef_text
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    OleAttachment,
    OutlookMessage,
    email_message,
    legacy_workbook,
    mime_entity,
    outlook_message,
    packaged_object,
    pdf_of_lines,
    signed_entity,
    smime_object,
    tnef_stream,
    word_97_document,
    workbook,
)

Reader = Callable[[OutlookMessage], str]


@pytest.fixture(params=["msg", "tnef"])
def read(request: pytest.FixtureRequest) -> Reader:
    """The text of a message saved as Outlook saves it (.msg), or as it sends it in rich text
    (TNEF)."""
    if request.param == "msg":
        return lambda message: msg_text(io.BytesIO(outlook_message(message)))
    return lambda message: tnef_text(tnef_stream(message))


def test_an_outlook_message_is_sniffed_by_its_streams_whatever_its_name():
    data = outlook_message(OutlookMessage("Lease"))
    assert sniff(data[:8192], "lease.doc").media_type == OLE
    assert sniff_ole(io.BytesIO(data)) == MSG


def test_a_message_reads_as_its_header_body_and_attachments_an_attached_message_within(
    read: Reader,
):
    # Given a message to three recipients, with a PDF and a message attached (as Outlook
    # attaches one: a storage of its own), which has an attachment of its own
    forwarded = OutlookMessage(
        "Fwd: inspection",
        "The inspector's report is attached.",
        attachments=[("report.txt", "text/plain", b"Mould found in the north bedroom.")],
    )
    message = OutlookMessage(
        "Lease renewal — Unit 4",
        "Please sign by Friday.\r\n",
        sender=("Ruiz, Ana", "ana@firm.example"),
        recipients=[
            ("To", "Ben Ode", "ben@client.example"),
            ("Cc", "Cy Li", "cy@firm.example"),
            ("To", "Zoë Park", "zoe@client.example"),
            ("Bcc", "Dee Marsh", "dee@firm.example"),
        ],
        attachments=[
            ("lease.pdf", "application/pdf", pdf_of_lines(["Rent is 1,200 a month."])),
            forwarded,
        ],
    )
    # When its text is read
    # Then it reads as an e-mail's would: the fields, the body, each attachment named with
    # its text, the attached message's own fields and attachment within it
    assert read(message) == (
        'From: "Ruiz, Ana" <ana@firm.example>\n'
        "To: Ben Ode <ben@client.example>, Zoë Park <zoe@client.example>\n"
        "Cc: Cy Li <cy@firm.example>\nBcc: Dee Marsh <dee@firm.example>\n"
        "Date: Tue, 03 Mar 2026 10:15:00 +0000\nSubject: Lease renewal — Unit 4\n\n"
        "Please sign by Friday.\n\n"
        "Attachment: lease.pdf (application/pdf)\n\nRent is 1,200 a month.\n\n"
        "Attachment: Fwd: inspection (application/vnd.ms-outlook)\n\n"
        "From: Ana Ruiz <ana@firm.example>\nTo: Ben Ode <ben@client.example>\n"
        "Date: Tue, 03 Mar 2026 10:15:00 +0000\nSubject: Fwd: inspection\n\n"
        "The inspector's report is attached.\n\n"
        "Attachment: report.txt (text/plain)\n\nMould found in the north bedroom."
    )


@pytest.mark.parametrize(
    ("message", "body"),
    [
        (
            OutlookMessage("Note", html="<p>Meet at <b>ten</b>.</p><style>p{}</style>"),
            "Meet at ten.",
        ),
        (OutlookMessage("Note", html="<p>Café at ten</p>", ansi=True), "Café at ten"),
        (
            OutlookMessage("Note", rtf=r"{\rtf1\ansi Meet at \b ten\b0 .\par Bring the lease.}"),
            "Meet at ten.\nBring the lease.",
        ),
    ],
    ids=["html", "html-in-code-page", "compressed-rtf"],
)
def test_a_body_without_plain_text_is_read_from_its_html_or_its_rtf(
    message: OutlookMessage, body: str, read: Reader
):
    assert read(message).endswith(f"Subject: Note\n\n{body}")


_LEASE = ("lease.pdf", "application/pdf", pdf_of_lines(["Rent is 1,200 a month."]))


def _clear_signed() -> tuple[str, bytes]:
    return "multipart/signed", signed_entity("Please sign by Friday.", [_LEASE])


def _opaque_signed() -> tuple[str, bytes]:
    entity = mime_entity("Please sign by Friday.", [_LEASE]).as_bytes()
    return "application/pkcs7-mime", smime_object(entity)


@pytest.mark.parametrize("shown", [False, True], ids=["body-signed-only", "body-shown-too"])
@pytest.mark.parametrize("signed", [_clear_signed, _opaque_signed], ids=["clear", "opaque"])
def test_a_signed_message_reads_as_what_was_signed_not_its_mime_source(
    read: Reader, shown: bool, signed: Callable[[], tuple[str, bytes]]
):
    # Given a signed message as Outlook keeps one: what was signed (a body and a PDF) as its
    # one attachment, a multipart/signed MIME entity or an S/MIME object holding one; the
    # body on the message too, or not
    kind, content = signed()
    message = OutlookMessage(
        "Signed lease",
        "Please sign by Friday." if shown else "",
        attachments=[("smime.p7m", kind, content)],
    )
    # When it is read
    text = read(message)
    # Then it reads as the message it is: the body once, the PDF's text (the clear form's
    # signature named); no MIME source or base64 (red before: the entity was read as a text
    # file; the S/MIME object was named only)
    assert text.split("Subject: Signed lease\n\n")[1].startswith(
        "Please sign by Friday.\n\n"
        "Attachment: lease.pdf (application/pdf)\n\nRent is 1,200 a month."
    )
    assert text.count("Please sign by Friday.") == 1
    assert "Content-Type" not in text and "JVBERi" not in text


def test_an_encrypted_message_is_named_with_why(read: Reader):
    # Given an S/MIME-encrypted message as Outlook keeps one (its one attachment)
    secret = smime_object(mime_entity("The offer is 40,000.").as_bytes(), encrypted=True)
    message = OutlookMessage("Offer", attachments=[("smime.p7m", "application/pkcs7-mime", secret)])
    # When it is read, Then its header is read and its content named as encrypted
    assert read(message).endswith(
        "Subject: Offer\n\nAttachment: smime.p7m (application/pkcs7-mime), "
        "not read: EncryptedDocument"
    )


def test_strings_in_a_code_page_are_read_in_it_a_recipient_s_in_its_message_s(read: Reader):
    # Given a message whose strings are stored in Windows-1251 (Cyrillic), its code page
    # stated on the message only (as Outlook writes it)
    subject, body, name = "Договор аренды", "Подпишите до пятницы.", "Борис Петров"
    message = OutlookMessage(
        subject,
        body,
        recipients=[("To", name, "boris@client.example")],
        ansi=True,
        codepage=1251,
    )
    # When it is read, Then every string reads as written, the recipient's too (red before:
    # the recipient's name read in Windows-1252)
    text = read(message)
    assert f"To: {name} <boris@client.example>" in text
    assert text.endswith(f"Subject: {subject}\n\n{body}")


def test_an_attachment_that_cannot_be_read_is_named_and_the_rest_kept(read: Reader):
    # Given a message with a damaged PDF and a PGP-encrypted file attached, then a note
    message = OutlookMessage(
        "Files",
        "Two files.",
        attachments=[
            ("broken.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(500)),
            ("secret.asc", "text/plain", b"-----BEGIN PGP MESSAGE-----\n\nhIwDY32hYGCE8\n"),
            ("note.txt", "text/plain", b"The floor is 40,000."),
        ],
    )
    # When it is read, Then the two are named with why, and the note is read
    assert read(message).endswith(
        "Attachment: broken.pdf (application/pdf), not read: InvalidDocument\n\n"
        "Attachment: secret.asc (text/plain), not read: EncryptedDocument\n\n"
        "Attachment: note.txt (text/plain)\n\nThe floor is 40,000."
    )


def test_messages_within_messages_are_read_only_so_deep(read: Reader):
    # Given a chain of forwards deeper than docproc reads
    message = OutlookMessage("Level 0", "Body 0")
    for level in range(1, MAX_NESTING + 3):
        message = OutlookMessage(f"Level {level}", f"Body {level}", attachments=[message])
    # When it is read, Then the messages down to the limit are read, the next one only named
    text = read(message)
    deepest = MAX_NESTING + 2 - MAX_NESTING
    assert f"Body {deepest}" in text and f"Body {deepest - 1}" not in text
    assert text.endswith(f"Attachment: Level {deepest - 1} (application/vnd.ms-outlook)")


def test_an_e_mail_with_an_outlook_message_attached_reads_it():
    attached = outlook_message(OutlookMessage("Minutes", "The board approved the lease."))
    message = email_message(
        "Fwd: minutes",
        "See below.",
        attachments=[("minutes.msg", "application/octet-stream", attached)],
    )
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "Attachment: minutes.msg (application/octet-stream)\n\n"
        "From: Ana Ruiz <ana@firm.example>\nTo: Ben Ode <ben@client.example>\n"
        "Date: Tue, 03 Mar 2026 10:15:00 +0000\nSubject: Minutes\n\nThe board approved the lease."
    )


def test_damaged_messages_give_text_or_a_typed_error():
    # Given messages with attachments, an attached message, OLE objects (a document, a
    # packaged PDF) and each kind of body, damaged
    forwarded = OutlookMessage("Fwd", "Inner.", attachments=[("r.txt", "text/plain", b"Mould.")])
    objects = [
        OleAttachment.of_file("Document", word_97_document("Clause 1.\r")),
        OleAttachment.of_file("Package", packaged_object("a.pdf", pdf_of_lines(["Exhibit."]))),
    ]
    originals = [
        outlook_message(OutlookMessage("A", "Body.", attachments=[forwarded])),
        outlook_message(OutlookMessage("B", html="<p>Hi</p>", ansi=True)),
        outlook_message(OutlookMessage("C", rtf=r"{\rtf1\ansi Hello\par}")),
        outlook_message(OutlookMessage("D", "Objects.", attachments=objects)),
    ]
    copies = damaged_copies(originals, 400, seed=3, cut_share=0.1)
    # When each is read
    counts = outcomes(lambda data: msg_text(io.BytesIO(data)), copies, (InvalidDocument,))
    # Then each gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts


def test_ole_objects_attached_to_a_message_in_rich_text_are_read_as_the_files_they_hold(
    tmp_path: Path,
):
    # Given a message in rich text to which Outlook attached OLE objects (afStorage: each
    # object's storage under its attachment's): a Word 97-2003 document, a workbook, an Excel
    # 2007 workbook (its package in a "Package" stream), an exhibit's PDF packaged by Windows'
    # Packager, and a picture (Paintbrush) docproc does not read
    letter = word_97_document("Assignment of lease: the tenant assigns Unit 4 to Ode Ltd.\r")
    book = legacy_workbook(tmp_path / "rent.xls", {"Rent": [["Unit 4", 1200]]}).read_bytes()
    xlsx = workbook(tmp_path / "deposit.xlsx", {"Deposit": [["Unit 4", 2400]]}).read_bytes()
    new_book = {"Package": xlsx, "\x01CompObj": bytes(28), "\x01Ole": bytes(20)}
    exhibit = packaged_object("exhibit-a.pdf", pdf_of_lines(["Exhibit A: the floor plan."]))
    picture = {"\x01Ole10Native": struct.pack("<I", 6) + b"BM\0\0\0\0", "\x01CompObj": bytes(28)}
    message = OutlookMessage(
        "Assignment",
        rtf=r"{\rtf1\ansi The assignment and its schedule are attached.\par}",
        attachments=[
            OleAttachment.of_file("Microsoft Word Document", letter),
            OleAttachment.of_file("Microsoft Excel Worksheet", book),
            OleAttachment("Microsoft Excel 2007 Worksheet", new_book),
            OleAttachment.of_file("Package", exhibit),
            OleAttachment("Bitmap Image", picture),
        ],
    )
    # When it is read
    text = msg_text(io.BytesIO(outlook_message(message)))
    # Then each object is read as the file it holds, after the body, in the message's order;
    # the picture named only (red before: each was read as an attached message, with no text)
    assert text.endswith(
        "Subject: Assignment\n\nThe assignment and its schedule are attached.\n\n"
        "Attachment: Microsoft Word Document (application/octet-stream)\n\n"
        "Assignment of lease: the tenant assigns Unit 4 to Ode Ltd.\n\n"
        "Attachment: Microsoft Excel Worksheet (application/octet-stream)\n\n"
        "Sheet: Rent\n| Unit 4 | 1200 |\n| --- | --- |\n\n"
        "Attachment: Microsoft Excel 2007 Worksheet (application/octet-stream)\n\n"
        "Sheet: Deposit\n| Unit 4 | 2400 |\n| --- | --- |\n\n"
        "Attachment: Package (application/octet-stream)\n\n"
        "Exhibit A: the floor plan.\n\n"
        "Attachment: Bitmap Image (application/octet-stream)"
    )
