"""Outlook data files (.pst): told by their header, repacked into a ZIP of their messages (as
e-mails) with each message's attachments beside it, then planned as that ZIP is."""

from __future__ import annotations

import datetime
import email
import email.policy
import io
import zipfile
from pathlib import Path

import pytest

from benchmarks.pst import Attachment, Folder, Message, Recipient, pst_file
from docproc.errors import InvalidDocument, SegmentBudgetExceeded
from docproc.extract import archive
from docproc.extract.mail import message_text
from docproc.extract.ocr import OCR_OFF
from docproc.extract.sniff import EML, PST, TEXT, sniff
from docproc.models import BytesSegment, PagesSegment
from docproc.pipeline.plan import PlanOptions
from tests.builders import planned
from tests.damage import damaged_copies, outcomes
from tests.documents import pdf_of_lines

KEY = "uploads/acme/case/custodian/mailbox.pst"
_PDF = pdf_of_lines(["Exhibit 12 says the lease ends in May."] * 3)
_SENT = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC)


def _renewal(**changes: object) -> Message:
    message = Message(
        "Lease renewal",
        body="The tenant renews the lease for two years.",
        sender_name="Ann Smith",
        sender_address="ann@example.com",
        recipients=[
            Recipient("Bob Jones", "bob@example.com"),
            Recipient("Zoë", "zoe@example.com", 2),
        ],
        sent=_SENT,
        attachments=[Attachment("lease.pdf", _PDF, "application/pdf")],
    )
    for name, value in changes.items():
        setattr(message, name, value)
    return message


def _repacked(data: bytes, limit: int = archive.REPACK_LIMIT) -> dict[str, bytes]:
    target = io.BytesIO()
    repacked = archive.repack(PST, io.BytesIO(data), target, len(data), "m.pst", limit)
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as zipped:
        files = {info.filename: zipped.read(info) for info in zipped.infolist()}
    assert repacked.files == len(files) and repacked.size == len(target.getvalue())
    return files


def _parsed(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def _body(message: email.message.EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).strip()


def test_an_outlook_data_file_is_told_by_its_header():
    # Given a PST, the same header with an OST's client ("SO"), and "!BDN" in a text
    data = pst_file([Folder("Inbox", [_renewal()])])
    ost = data[:8] + b"SO" + data[10:]
    # Then the two are Outlook data files, whatever their names, and the text is text
    assert sniff(data[:4096], "export.bin").media_type == PST
    assert sniff(ost[:4096], "offline.ost").media_type == PST
    assert sniff(b"!BDN is what the note says about the bank.", "n.txt").media_type == TEXT


def test_a_mailbox_is_repacked_into_its_messages_with_their_attachments_beside_them():
    # Given a mailbox: an Inbox with a message carrying a PDF and two notes of one name, one
    # with only an HTML body, and a sub-folder; Sent Items with a reply whose subject has a
    # slash
    notes = [Attachment("notes.txt", b"First."), Attachment("notes.txt", b"Second.")]
    inbox = Folder(
        "Inbox",
        [
            _renewal(attachments=[Attachment("lease.pdf", _PDF), *notes]),
            Message(
                "Styled", html=b"<html><body><p>Rent is <b>due</b> on the 1st.</p></body></html>"
            ),
        ],
        [Folder("Clients", [Message("Deep", body="Filed under clients.")])],
    )
    sent = Folder("Sent Items", [Message("Re: 1/2 done", body="Half of it is done.")])
    files = _repacked(pst_file([inbox, sent]))
    # Then each message is an e-mail numbered in its folder, its attachments beside it under
    # its name, in the mailbox's order (the one-message folders' paths named after them)
    assert list(files) == [
        "Inbox/00001 Lease renewal/lease.pdf",
        "Inbox/00001 Lease renewal/notes.txt",
        "Inbox/00001 Lease renewal/notes (2).txt",
        "Inbox/00001 Lease renewal.eml",
        "Inbox/00002 Styled.eml",
        "Inbox/Clients/00001 Deep.eml",
        "Sent Items/00001 Re 1 2 done.eml",
    ]
    assert files["Inbox/00001 Lease renewal/lease.pdf"] == _PDF
    assert files["Inbox/00001 Lease renewal/notes (2).txt"] == b"Second."
    # And an e-mail has the message's sender, recipients, date, subject and body
    renewal = _parsed(files["Inbox/00001 Lease renewal.eml"])
    assert renewal["From"] == "Ann Smith <ann@example.com>"
    assert renewal["To"] == "Bob Jones <bob@example.com>"
    assert renewal["Cc"] == "Zoë <zoe@example.com>"
    assert renewal["Subject"] == "Lease renewal"
    assert renewal["Date"].datetime == _SENT
    assert _body(renewal) == "The tenant renews the lease for two years."
    # And it refers to each file attached where it lies, with its type (stated, else its
    # name's), so that its text names them: "Attachment: lease.pdf (application/pdf)"
    references = [
        (part.get_filename(), part.get_payload(0).get_content_type(), part.get_param("name"))
        for part in renewal.iter_attachments()
    ]
    assert references == [
        ("lease.pdf", "application/pdf", "Inbox/00001 Lease renewal/lease.pdf"),
        ("notes.txt", "text/plain", "Inbox/00001 Lease renewal/notes.txt"),
        ("notes.txt", "text/plain", "Inbox/00001 Lease renewal/notes (2).txt"),
    ]
    text = message_text(io.BytesIO(files["Inbox/00001 Lease renewal.eml"]))
    assert text.endswith(
        "Attachment: lease.pdf (application/pdf)\n\nAttachment: notes.txt (text/plain)\n\n"
        "Attachment: notes.txt (text/plain)"
    )
    # And a message with only HTML has its text (as an Outlook message's reading gives it)
    assert _body(_parsed(files["Inbox/00002 Styled.eml"])) == "Rent is due on the 1st."


def test_a_message_of_8_bit_strings_is_read_in_its_code_page():
    # Given a message whose subject, sender and body are 8-bit strings in Windows-1252 (as
    # Outlook 97-2002 wrote them), its code page stated
    message = _renewal(subject="Café lease", sender_name="José Núñez", body="Déjà signed: €500.")
    message.codepage = 1252
    files = _repacked(pst_file([Folder("Inbox", [message])]))
    # Then they are read in that code page (red when read as UTF-8: "Caf\ufffd lease")
    mail = _parsed(files["Inbox/00001 Café lease.eml"])
    assert mail["Subject"] == "Café lease"
    assert mail["From"] == "José Núñez <ann@example.com>"
    assert _body(mail) == "Déjà signed: €500."


def test_a_message_attached_to_a_message_is_named_not_read():
    # Given a message forwarding another as an item of its own (Outlook's "attach item"),
    # beside a file
    forwarded = Message("Fwd: contract", body="The contract is attached to this.")
    attachments = [Attachment("Fwd: contract", forwarded), Attachment("a.txt", b"Plain.")]
    files = _repacked(pst_file([Folder("Inbox", [_renewal(attachments=attachments)])]))
    # Then the file is copied beside it, and the message's text names both (red before: the
    # attached message was left out without a word; libpff-python cannot open it)
    assert list(files) == ["Inbox/00001 Lease renewal/a.txt", "Inbox/00001 Lease renewal.eml"]
    text = message_text(io.BytesIO(files["Inbox/00001 Lease renewal.eml"]))
    assert text.endswith(
        "Attachment: Fwd contract (message/rfc822)\n\nAttachment: a.txt (text/plain)"
    )


def test_a_message_without_a_sender_is_still_read_as_an_email():
    # Given a draft (no sender, no recipients) repacked
    files = _repacked(pst_file([Folder("Drafts", [Message("Draft", body="Not sent yet.")])]))
    (data,) = files.values()
    # Then its name and header make it an e-mail (red before: read as text, its header lines
    # in its text); named otherwise too, as its header begins a MIME entity (MIME-Version,
    # Content-Type: fields a memo does not have)
    assert sniff(data, "Drafts/00001 Draft.eml").media_type == EML
    assert sniff(data, "draft.txt").media_type == EML
    # and without them, its fields alone do not make a text an e-mail
    fields = b"Subject: Draft\r\nDate: Mon, 1 Jun 2026 09:00:00 +0000\r\n\r\nNot sent yet."
    assert sniff(fields, "draft.txt").media_type == TEXT


def test_folders_outside_the_mailbox_top_are_left_out():
    # Given Outlook's own folders beside the mailbox's top (free/busy data, views)
    outside = [
        Folder(
            "Freebusy Data",
            [Message("FreeBusy", message_class="IPM.Microsoft.ScheduleData.FreeBusy")],
        ),
        Folder("IPM_VIEWS", [Message("View")]),
    ]
    files = _repacked(pst_file([Folder("Inbox", [Message("Kept", body="Kept.")])], outside))
    # Then only the mailbox's folders are repacked
    assert list(files) == ["Inbox/00001 Kept.eml"]


def test_sub_folders_of_one_name_keep_paths_of_their_own():
    # Given two folders named "Clients" side by side (Outlook allows it after a move)
    clients = [
        Folder("Clients", [Message("First", body="A.")]),
        Folder("Clients", [Message("Second", body="B.")]),
    ]
    files = _repacked(pst_file(clients))
    # Then each folder keeps a path of its own (red before: both messages under "Clients/",
    # two folders made one)
    assert list(files) == ["Clients/00001 First.eml", "Clients (2)/00001 Second.eml"]


def test_a_mailbox_past_the_limit_is_refused():
    # Given a message with a 3 MB attachment, and a limit of 2 MB
    data = pst_file(
        [Folder("Inbox", [_renewal(attachments=[Attachment("a.bin", bytes(3 << 20))])])]
    )
    # When it is repacked, Then it is refused
    with pytest.raises(SegmentBudgetExceeded):
        _repacked(data, limit=2 << 20)


def test_damaged_outlook_data_files_give_a_zip_or_a_typed_error():
    # Given mailboxes (attachments in blocks and in XBLOCKs, HTML, folders) damaged at random
    originals = [
        pst_file(
            [
                Folder(
                    "Inbox",
                    [
                        _renewal(attachments=[Attachment("big.bin", bytes(range(256)) * 100)]),
                        Message("Styled", html=b"<p>Rent</p>"),
                    ],
                    [Folder("Sub", [Message("Deep", body="x" * 5000)])],
                )
            ]
        ),
        pst_file([Folder("Inbox", [_renewal()]), Folder("Sent Items", [Message("Re", body="y")])]),
    ]
    copies = damaged_copies(originals, 300, seed=23, cut_share=0.1)
    # When each is repacked, Then each gave a ZIP or InvalidDocument (a damaged message is
    # left out and the rest read; nothing else escapes: fuzzed by hand, 3,000 copies under
    # python3.11 and the image's python3.13, no crash)
    counts = outcomes(_repacked, iter([*originals, *copies]), (InvalidDocument,))
    assert counts["read"] >= len(originals) and counts["refused"], counts


def test_a_mailbox_is_planned_as_the_zip_it_is_repacked_into(tmp_path: Path):
    # Given a mailbox whose message carries a 12-page PDF larger than a segment's bytes
    from benchmarks.generators import text_pdf

    pdf = text_pdf(tmp_path / "record.pdf", pages=12).read_bytes()
    message = _renewal(attachments=[Attachment("record.pdf", pdf)])
    data = pst_file([Folder("Inbox", [Message("Before", body="Before."), message])])
    # When it is planned with segments of 8 KiB and 5 pages
    options = PlanOptions(segment_bytes=8192, segment_pages=5)
    plan, _, segments = planned(KEY, data, tmp_path / "ledger.sqlite3", options)
    # Then the document is a PST; its messages are read from byte ranges of the ZIP it was
    # repacked into, and the PDF (unpacked from that) in page ranges under its path
    assert plan.document.media_type == PST
    ranges = [s for s in segments if isinstance(s, BytesSegment)]
    assert ranges and {s.input_key for s in ranges} == {plan.document.repacked_archive_key}
    pages = [s for s in segments if isinstance(s, PagesSegment)]
    path = "Inbox/00002 Lease renewal/record.pdf"
    assert [(s.page_start, s.page_end, s.path) for s in pages] == [
        (1, 5, path),
        (6, 10, path),
        (11, 12, path),
    ]


def test_a_mailbox_inside_a_zip_is_opened_message_by_message():
    # Given a ZIP (a production) of a custodian's mailbox and a note
    mailbox = pst_file([Folder("Inbox", [_renewal()])])
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zipped:
        zipped.writestr("custodians/ann.pst", mailbox)
        zipped.writestr("index.txt", b"One custodian.")
    data = outer.getvalue()
    # When its files are read
    owned = archive.owned_files(
        io.BytesIO(data), 0, len(data), OCR_OFF, "off", lambda mb, what: None, lambda s: None
    )
    files = {file.path: file for file in owned}
    # Then the mailbox's messages and attachments are read under its path and theirs, a PDF
    # page by page (red without PST among the archives repacked: one file, named only)
    mail = "custodians/ann.pst/Inbox/00001 Lease renewal"
    assert sorted(files) == [f"{mail}.eml", f"{mail}/lease.pdf", "index.txt"]
    assert "From: Ann Smith <ann@example.com>" in files[f"{mail}.eml"].pages[0].text
    pdf = files[f"{mail}/lease.pdf"]
    assert pdf.paged and [page.number for page in pdf.pages] == [1, 2, 3]


def test_what_a_message_says_comes_back_from_its_email_as_it_was():
    # Given a message whose fields and body are what a hand-written e-mail could get wrong:
    # accents, a name with a comma and quotes, a subject longer than a line, a body with
    # quoted-printable's own escapes, a line like a boundary, and a line of 3,000 characters;
    # an attachment whose name has an accent and an ampersand
    subject = "Réponse: " + "très long sujet " * 80
    body = "Prix = 3=D0 €\n--=_docproc_0\n" + "x" * 3000 + "\nFin."
    message = _renewal(
        subject=subject,
        sender_name='Núñez, "José"',
        recipients=[Recipient("Zoë", "zoe@example.com"), Recipient("Bob Jones", "bob@example.com")],
        body=body,
        attachments=[Attachment("Q&A é.pdf", _PDF, "application/pdf")],
    )
    (name, mail) = next(
        (name, data)
        for name, data in _repacked(pst_file([Folder("Inbox", [message])])).items()
        if name.endswith(".eml")
    )
    # When it is parsed back, Then each is as the message said it
    parsed = _parsed(mail)
    assert str(parsed["Subject"]) == subject.strip()
    assert str(parsed["From"]) == '"Núñez, \\"José\\"" <ann@example.com>'
    assert parsed["From"].addresses[0].display_name == 'Núñez, "José"'
    assert str(parsed["To"]) == "Zoë <zoe@example.com>, Bob Jones <bob@example.com>"
    assert _body(parsed) == body
    (reference,) = parsed.iter_attachments()
    assert reference.get_filename() == "Q&A é.pdf"
    assert reference.get_param("name") == f"{name[: -len('.eml')]}/Q&A é.pdf"
