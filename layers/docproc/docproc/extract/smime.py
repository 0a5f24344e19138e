"""CMS signed-data ([RFC 5652]): S/MIME's opaque form ([RFC 8551]: ``application/pkcs7-mime``,
``smime.p7m``), where a message signed as one object holds what was signed, a MIME entity;
and a signed file (``contract.pdf.p7m``, as CAdES signatures wrap a contract), where it is
the file. A reader that does not open the CMS structure never sees it; an encrypted one can
be read only with its recipient's private key. (A message signed in the clear,
``multipart/signed``, is plain MIME and needs nothing of this.)

The CMS structure is read with asn1crypto (BER as Outlook writes it, indefinite lengths and
an encapsulated content in pieces, as well as DER). The signature is not verified: docproc
indexes what a message says, and says nothing of who signed it.
"""

from __future__ import annotations

from docproc.errors import EncryptedDocument, InvalidDocument
from docproc.extract.sniff import P7M

# How a signed file's (.p7m upload's) text was extracted: from inside its signature.
EXTRACTION_METHOD = "p7m"
# The MIME types of an opaque S/MIME object (x-: as older clients label it).
PKCS7_MIME_TYPES = {P7M, "application/x-pkcs7-mime"}
_ENCRYPTED = {"enveloped_data", "authenticated_enveloped_data", "encrypted_data"}


def signed_content(data: bytes) -> bytes:
    """The MIME entity an opaque-signed S/MIME object holds. EncryptedDocument for an
    encrypted one, InvalidDocument for anything else or a damaged one."""
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(data)
        kind = info["content_type"].native
        if kind in _ENCRYPTED:
            raise EncryptedDocument("the message is S/MIME-encrypted")
        if kind != "signed_data":
            raise InvalidDocument(f"an S/MIME object holding {kind}, not a signed message")
        content = info["content"]["encap_content_info"]["content"].native
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        # asn1crypto parses lazily: damage surfaces wherever a field is first read.
        raise InvalidDocument(f"damaged S/MIME object: {type(exc).__name__}") from exc
    if not isinstance(content, bytes):
        raise InvalidDocument("a signed S/MIME object without the content it signed")
    return content
