"""CMS signed-data: S/MIME's opaque form (smime.p7m), an e-mail signed as one object, read for
what it signed; a signed file (lease.pdf.p7m), read as the file it wraps; an encrypted one
named as such. (Outlook's forms: test_outlook.)"""

from __future__ import annotations

import io

import pytest

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.mail import file_text, message_text
from docproc.extract.ocr import OCR_OFF
from docproc.extract.smime import signed_content
from docproc.extract.sniff import P7M, PDF, sniff
from tests.damage import damaged_copies, outcomes
from tests.documents import (
    email_message,
    mime_entity,
    pdf_of_lines,
    smime_email,
    smime_object,
    smime_streamed,
)

_ENTITY = mime_entity(
    "The settlement is attached.",
    [("terms.pdf", "application/pdf", pdf_of_lines(["The parties settle for 40,000."]))],
).as_bytes()


@pytest.mark.parametrize("p7m", [smime_object, smime_streamed], ids=["der", "ber-streamed"])
def test_an_opaque_signed_e_mail_reads_as_what_it_signed(p7m):
    # Given an e-mail whose whole content is an opaque S/MIME object (DER, or BER streamed
    # out in pieces with indefinite lengths, as Outlook sends one) signing a body and a PDF
    message = smime_email("Settlement", p7m(_ENTITY))
    # When it is read
    text = message_text(io.BytesIO(message.as_bytes()))
    # Then it reads as the message it is (red before: "Attachment: smime.p7m" only)
    assert text == (
        "From: Ana Ruiz <ana@firm.example>\nTo: Ben Ode <ben@client.example>\n"
        "Subject: Settlement\n\nThe settlement is attached.\n\n"
        "Attachment: terms.pdf (application/pdf)\n\nThe parties settle for 40,000."
    )


def test_an_encrypted_e_mail_is_named_with_why_and_its_header_kept():
    message = smime_email("Offer", smime_object(_ENTITY, encrypted=True), "enveloped-data")
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "Subject: Offer\n\nAttachment: smime.p7m (application/pkcs7-mime), "
        "not read: EncryptedDocument"
    )


def test_a_damaged_or_foreign_object_is_invalid():
    # A cut object, one of another CMS kind (digested data), bytes that are no CMS at all
    digested = bytes.fromhex("3080" + "06092a864886f70d010705" + "a0800000" + "0000")
    for data in (smime_object(_ENTITY)[:200], digested, b"not a signature"):
        with pytest.raises(InvalidDocument):
            signed_content(data)


def test_damaged_objects_give_content_or_a_typed_error():
    # Given signed and encrypted objects, DER and BER, damaged at random (cut short too)
    originals = [
        smime_object(_ENTITY),
        smime_streamed(_ENTITY, 300),
        smime_object(_ENTITY, encrypted=True),
    ]
    copies = damaged_copies(originals, 600, seed=7, cut_share=0.1)
    # When each is opened, Then each gave content or a typed error (anything else fails)
    counts = outcomes(signed_content, copies, (InvalidDocument, EncryptedDocument))
    assert all(counts.values()), counts


_LEASE_PDF = pdf_of_lines(["The lease ends in May.", "Rent is 1,200 a month."])


@pytest.mark.parametrize("p7m", [smime_object, smime_streamed], ids=["der", "ber-streamed"])
def test_a_signed_file_is_sniffed_and_read_as_the_file_it_wraps(p7m):
    # Given a PDF signed as CAdES signatures sign a contract (the PDF inside the signature,
    # its header within the first KiB; or streamed out in pieces)
    signed = p7m(_LEASE_PDF)
    # When it is sniffed, Then it is a signed file, not the PDF it holds (red before: a "PDF"
    # of the signature's bytes, or unsupported)
    assert sniff(signed[:8192], "lease.pdf.p7m").media_type == P7M
    assert sniff(_LEASE_PDF[:8192]).media_type == PDF
    # And read as a file, it is the PDF's text
    text = file_text(signed, "lease.pdf.p7m", OCR_OFF, "off", 0)
    assert text == "The lease ends in May.\n\nRent is 1,200 a month."


def test_a_signed_file_attached_as_s_mime_is_read_as_an_attachment():
    # Given an e-mail (certified mail carries one so) with a signed PDF attached as
    # application/pkcs7-mime: its content is a file, not a MIME entity
    message = email_message(
        "Contract",
        "The signed contract.",
        attachments=[("lease.pdf.p7m", "application/pkcs7-mime", smime_object(_LEASE_PDF))],
    )
    # When it is read, Then the attachment is the PDF's text, under its name
    text = message_text(io.BytesIO(message.as_bytes()))
    assert text.endswith(
        "The signed contract.\n\nAttachment: lease.pdf.p7m (application/pkcs7-mime)\n\n"
        "The lease ends in May.\n\nRent is 1,200 a month."
    )


def test_a_file_encrypted_to_its_recipients_is_refused_as_encrypted():
    with pytest.raises(EncryptedDocument):
        sniff(smime_object(_LEASE_PDF, encrypted=True)[:8192], "lease.pdf.p7m")
