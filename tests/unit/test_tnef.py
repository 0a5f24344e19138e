"""TNEF (winmail.dat): what Outlook sends in rich text, read alone or in the e-mail that
carries it. Its layout is tested with the .msg's (test_outlook); here, what is TNEF's own."""

from __future__ import annotations

import io
import struct
import zipfile
from email.message import EmailMessage

import pytest

from docproc.errors import InvalidDocument
from docproc.extract.mail import MAX_NESTING, message_text
from docproc.extract.sniff import OLE, TNEF, ZIP, sniff
from docproc.extract.tnef import tnef_text
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    OutlookMessage,
    email_message,
    outlook_message,
    pdf_of_lines,
    tnef_stream,
)

_EXHIBIT = ("Exhibit A.pdf", "application/pdf", pdf_of_lines(["The parties settle for 40,000."]))
_SIGNATURE = b"\x78\x9f\x3e\x22"


def _attribute(level: int, attribute: int, kind: int, value: bytes, checksum: bool = True) -> bytes:
    header = struct.pack("<BHHI", level, attribute, kind, len(value))
    return header + value + (struct.pack("<H", sum(value) & 0xFFFF) if checksum else b"")


def test_a_tnef_stream_is_sniffed_by_its_signature_before_the_pdf_it_holds():
    # Given a winmail.dat whose first KiB holds its attachment's PDF header (as do a .msg and
    # a ZIP holding a PDF as it is), under any name
    stream = tnef_stream(OutlookMessage("Terms", "Attached.", attachments=[_EXHIBIT]))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("exhibit.pdf", _EXHIBIT[2])
    message = outlook_message(OutlookMessage("Terms", attachments=[_EXHIBIT]))
    assert all(b"%PDF" in data[:1024] for data in (stream, archive.getvalue()))
    # When each is sniffed, Then it is its container, not a PDF (red before: all three PDFs)
    assert sniff(stream[:8192], "winmail.dat").media_type == TNEF
    assert sniff(stream[:8192], "notes.txt").media_type == TNEF
    assert sniff(archive.getvalue()[:8192], "files.zip").media_type == ZIP
    assert sniff(message[:8192], "terms.msg").media_type == OLE


def test_an_e_mail_s_winmail_dat_is_read_for_the_files_inside_beside_its_body():
    # Given an e-mail as Outlook sends one in rich text: a plain body, and a winmail.dat that
    # holds the body again and the message's only copy of its attachment
    rich = tnef_stream(
        OutlookMessage("Terms", "Please review the exhibit.", attachments=[_EXHIBIT])
    )
    carrier = email_message(
        "Terms",
        "Please review the exhibit.",
        attachments=[("winmail.dat", "application/ms-tnef", rich)],
    )
    # When it is read
    text = message_text(io.BytesIO(carrier.as_bytes()))
    # Then the attachment inside is read, and the body is there once (red before: the
    # winmail.dat was named only; with its whole text, the body and header came twice)
    assert text.endswith(
        "Please review the exhibit.\n\n"
        "Attachment: winmail.dat (application/ms-tnef)\n\n"
        "Attachment: Exhibit A.pdf (application/pdf)\n\nThe parties settle for 40,000."
    )
    assert text.count("Please review the exhibit.") == 1 and text.count("Subject:") == 1


def test_an_e_mail_that_is_only_its_winmail_dat_is_read_from_it():
    # Given an e-mail whose whole content is a winmail.dat (no plain body: as Exchange sends
    # some), holding the body and an attachment
    rich = tnef_stream(OutlookMessage("Terms", "The body is only here.", attachments=[_EXHIBIT]))
    carrier = EmailMessage()
    carrier["From"], carrier["Subject"] = "ana@firm.example", "Terms"
    carrier.set_content(rich, "application", "ms-tnef", filename="winmail.dat")
    # When it is read, Then the body and the attachment come from it
    text = message_text(io.BytesIO(carrier.as_bytes()))
    assert "The body is only here." in text and "The parties settle for 40,000." in text


def test_a_subject_and_body_in_legacy_attributes_only_are_read():
    # Given a stream as older writers make one: the subject and body in attSubject and attBody,
    # not among the MAPI properties
    stream = tnef_stream(OutlookMessage("Old terms", "From an old client."), legacy=True)
    # When it is read, Then both are there (red before: neither)
    assert tnef_text(stream).endswith("Subject: Old terms\n\nFrom an old client.")


def test_what_writers_leave_at_the_end_is_let_be():
    # Given a stream whose last attribute has no checksum, and one with bytes after its last
    # attribute (both found in real winmail.dat files)
    body = struct.pack("<I", 1) + struct.pack("<HHI", 0x001F, 0x1000, 1)
    value = "Short.\0".encode("utf-16-le")
    body += struct.pack("<I", len(value)) + value + bytes(-len(value) % 4)
    unchecked = _SIGNATURE + b"\0\0" + _attribute(1, 0x9003, 6, body, checksum=False)
    trailing = _SIGNATURE + b"\0\0" + _attribute(1, 0x9003, 6, body) + b"\0\x8f<\n"
    # When each is read, Then its body is read
    assert tnef_text(unchecked) == tnef_text(trailing) == "Short."


@pytest.mark.parametrize(
    "stream",
    [
        # attMsgProps stating 2**28 properties in 8 bytes (tnefparse ran for over a minute)
        _SIGNATURE + b"\0\0" + _attribute(1, 0x9003, 6, struct.pack("<I", 1 << 28) + bytes(8)),
        # A recipient table of 2**30 rows
        _SIGNATURE + b"\0\0" + _attribute(1, 0x9004, 6, struct.pack("<I", 1 << 30) + bytes(8)),
        # An attribute that says it runs past the end of the stream
        _SIGNATURE + b"\0\0" + _attribute(2, 0x800F, 6, bytes(100))[:60],
        # A property of a type MAPI has not
        _SIGNATURE + b"\0\0" + _attribute(1, 0x9003, 6, struct.pack("<IHHI", 1, 0x0F0F, 1, 0)),
        # An attribute of neither level
        _SIGNATURE + b"\0\0" + _attribute(7, 0x8004, 1, b"Subject\0"),
        b"\x78\x9f\x3e\x21" + bytes(20),
    ],
    ids=["property-count", "recipient-rows", "past-the-end", "unknown-type", "level", "signature"],
)
def test_a_stream_that_breaks_the_format_is_invalid(stream: bytes):
    with pytest.raises(InvalidDocument):
        tnef_text(stream)


def test_a_damaged_winmail_dat_or_attached_message_is_named_and_the_rest_kept():
    # Given an e-mail with a damaged winmail.dat, and a winmail.dat whose attached message
    # is damaged, beside an attachment that is not
    inner = tnef_stream(OutlookMessage("Minutes", "Approved."))
    whole = tnef_stream(
        OutlookMessage("Fwd", "See both.", attachments=[OutlookMessage("M"), _EXHIBIT])
    )
    inner_start = whole.index(_SIGNATURE, 4)
    broken_inner = whole[:inner_start] + b"XXXX" + whole[inner_start + 4 :]
    carrier = email_message(
        "Two",
        "Both attached.",
        attachments=[
            ("winmail.dat", "application/ms-tnef", inner[:40] + bytes(8) + inner[48:70]),
            ("note.txt", "text/plain", b"The floor is 40,000."),
        ],
    )
    # When each is read
    text = message_text(io.BytesIO(carrier.as_bytes()))
    forwarded = tnef_text(broken_inner)
    # Then what cannot be read is named with why, and the rest is read (red before: the
    # damaged attached message made the whole stream InvalidDocument)
    assert "Attachment: winmail.dat (application/ms-tnef), not read: InvalidDocument" in text
    assert text.endswith("Attachment: note.txt (text/plain)\n\nThe floor is 40,000.")
    assert "Attachment: M (application/vnd.ms-outlook), not read: InvalidDocument" in forwarded
    assert forwarded.endswith("The parties settle for 40,000.")


def test_winmail_dat_inside_winmail_dat_is_read_only_so_deep():
    # Given winmail.dat files each attached as a file inside the next, deeper than docproc reads
    stream = tnef_stream(OutlookMessage("Level 0", "Body 0"))
    for level in range(1, MAX_NESTING + 3):
        attached = [("winmail.dat", "application/ms-tnef", stream)]
        stream = tnef_stream(
            OutlookMessage(f"Level {level}", f"Body {level}", attachments=attached)
        )
    # When the outermost is read, Then those down to the limit are read, the next named only
    text = tnef_text(stream)
    deepest = MAX_NESTING + 2 - MAX_NESTING
    assert f"Body {deepest}" in text and f"Body {deepest - 1}" not in text


def test_damaged_streams_give_text_or_a_typed_error():
    # Given streams with recipients, attachments, an attached message and each kind of body,
    # damaged at random (cut short too)
    forwarded = OutlookMessage("Fwd", "Inner.", attachments=[("r.txt", "text/plain", b"Mould.")])
    originals = [
        tnef_stream(OutlookMessage("A", "Body.", attachments=[forwarded, _EXHIBIT])),
        tnef_stream(OutlookMessage("B", html="<p>Hi</p>", ansi=True), legacy=True),
        tnef_stream(OutlookMessage("C", rtf=r"{\rtf1\ansi Hello\par}")),
    ]
    copies = damaged_copies(originals, 600, seed=5, cut_share=0.1)
    # When each is read
    counts = outcomes(tnef_text, copies, (InvalidDocument,))
    # Then each gave text or InvalidDocument (anything else fails the test), both seen
    assert all(counts.values()), counts
