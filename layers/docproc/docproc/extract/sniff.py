"""Type detection by content: magic bytes first, then a text probe. Names are only hints.

``sniff`` looks at the first bytes of an object; for ZIP containers (EPUB, DOCX, XLSX, PPTX,
XPS, CBZ) ``sniff_zip`` looks at the member names (in the directory at the end of the
archive), and for OLE compound files (DOC, XLS, PPT, MSG, encrypted Office files) ``sniff_ole`` at
their streams.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from docproc.errors import EncryptedDocument, InvalidDocument, UnsupportedDocument

PDF = "application/pdf"
EPUB = "application/epub+zip"
XPS = "application/oxps"
CBZ = "application/vnd.comicbook+zip"
FB2 = "application/x-fictionbook+xml"
MOBI = "application/x-mobipocket-ebook"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's binary workbook: a package of binary records, which docproc does not read.
XLSB = "application/vnd.ms-excel.sheet.binary.macroEnabled.12"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLS = "application/vnd.ms-excel"
# Word 2003 XML and Excel 2003 XML: one XML document each (docproc.extract.wordml,
# docproc.extract.spreadsheetml), the formats' own media types.
WORDML = "application/vnd.ms-wordml"
SPREADSHEETML = "application/vnd.ms-spreadsheetml"
MSG = "application/vnd.ms-outlook"
# Outlook's rich-text wrapper (winmail.dat): a message's properties and attachments.
TNEF = "application/vnd.ms-tnef"
# A signed file (``.p7m``: CMS signed-data, as CAdES signatures wrap a contract's PDF, and
# S/MIME a message): what was signed is inside it.
P7M = "application/pkcs7-mime"
DOC = "application/msword"
PPT = "application/vnd.ms-powerpoint"
# OpenDocument (LibreOffice's, ISO/IEC 26300): a text document, a spreadsheet, a presentation
# (their templates read as them), told by the ZIP's mimetype member (docproc.extract.opendocument).
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
OPEN_DOCUMENTS = {ODT, ODS, ODP}
_OPEN_DOCUMENT_KINDS = {
    ODT: ODT,
    ODT + "-template": ODT,
    ODS: ODS,
    ODS + "-template": ODS,
    ODP: ODP,
    ODP + "-template": ODP,
}
# An OLE compound file (Office 97-2003, Outlook messages, password-protected Office files):
# which kind, sniff_ole reads from its directory.
OLE = "application/x-ole-storage"
ZIP = "application/zip"
# Archives read once from their start, which Plan repacks into a ZIP of their files
# (archive.repack): a 7z (docproc.extract.sevenzip); a tar, and a compressed stream, which
# holds a tar or one file (docproc.extract.tarball).
SEVEN_ZIP = "application/x-7z-compressed"
SEVEN_ZIP_SIGNATURE = b"7z\xbc\xaf\x27\x1c"
TAR = "application/x-tar"
GZIP = "application/gzip"
BZIP2 = "application/x-bzip2"
XZ = "application/x-xz"
# An Outlook data file (.pst; .ost, the offline copy of a mailbox, is the same format): its
# folders' messages and their attachments (docproc.extract.pst).
PST = "application/vnd.ms-outlook-pst"
REPACKED = {SEVEN_ZIP, TAR, GZIP, BZIP2, XZ, PST}
TEXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
JSONL = "application/x-ndjson"
JSON = "application/json"
HTML = "text/html"
EML = "message/rfc822"
# Apple Mail's message file (.emlx): its byte count on a line, the message, then a property list.
EMLX = "message/x-emlx"
RTF = "application/rtf"
MBOX = "application/mbox"

# Audio and video: transcribed in time windows (ffmpeg's demuxers tell the rest apart).
MPEG_AUDIO = "audio/mpeg"
MP4_AUDIO = "audio/mp4"
AAC = "audio/aac"
WAV = "audio/wav"
FLAC = "audio/flac"
OGG = "audio/ogg"
MP4 = "video/mp4"
QUICKTIME = "video/quicktime"
MATROSKA = "video/x-matroska"
WEBM = "video/webm"
MEDIA_TYPES = {MPEG_AUDIO, MP4_AUDIO, AAC, WAV, FLAC, OGG, MP4, QUICKTIME, MATROSKA, WEBM}

# Pictures: scans read by OCR (docproc.extract.pictures), a TIFF's frames as pages.
TIFF = "image/tiff"
JPEG = "image/jpeg"
PNG = "image/png"
GIF = "image/gif"
BMP = "image/bmp"
WEBP = "image/webp"
JPEG_2000 = "image/jp2"
# A phone's photo (an iPhone's camera saves HEIC): HEIF, an image in an ISO base media file.
HEIC = "image/heic"
PICTURE_TYPES = {TIFF, JPEG, PNG, GIF, BMP, WEBP, JPEG_2000, HEIC}

# Paged formats PyMuPDF opens, with the filetype name it takes.
PAGED = {PDF: "pdf", EPUB: "epub", XPS: "xps", CBZ: "cbz", FB2: "fb2", MOBI: "mobi"}
TEXT_TYPES = {TEXT, MARKDOWN, CSV, JSONL, JSON, HTML}

# Bytes read from the start of an object to decide its type.
SNIFF_BYTES = 8192
# PDF readers accept a header anywhere in the first 1 KiB (junk before it is common).
_PDF_WINDOW = 1024

_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\s*<<")

# Media containers, with where their signature sits.
_MEDIA_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"ID3", 0, MPEG_AUDIO),
    (b"fLaC", 0, FLAC),
    (b"OggS", 0, OGG),
    (b"\x1a\x45\xdf\xa3", 0, MATROSKA),
]
# MPEG-1/2 layer III and ADTS AAC frames start with an 11/12-bit sync word.
_MP3_SYNC = {b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2", b"\xff\xe3", b"\xff\xe2"}
_ADTS_SYNC = {b"\xff\xf1", b"\xff\xf9"}
# ISO base media ("ftyp" at 4): the major brand says audio-only or QuickTime, or a HEVC-coded
# picture (HEIC: its own brands, or HEIF's generic ones with a HEVC brand among the rest).
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A "}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}

_PICTURE_SIGNATURES: list[tuple[bytes, str]] = [
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", JPEG_2000),
    (b"\xffO\xffQ", JPEG_2000),  # a bare codestream
]
# A BMP's "BM" is followed by sizes, then its info header's own size, one of these.
_BMP_INFO_SIZES = {12, 40, 52, 56, 64, 108, 124}

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What an OLE compound file docproc reads is, by a stream only that kind has.
_OLE_KINDS = {
    "Workbook": XLS,
    "Book": XLS,  # Excel 5.0/95
    "WordDocument": DOC,  # Word 97-2003 (Word 6.0/95 too, refused when read)
    "PowerPoint Document": PPT,
    "__properties_version1.0": MSG,  # an Outlook message: MAPI properties, the top level's
}

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
# A CMS ContentInfo: a SEQUENCE (its length in up to 5 bytes), then its content type's OID
# (signed-data 1.2.840.113549.1.7.2, enveloped-data ...7.3).
_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")
_CMS_OID_WINDOW = 7 + len(_SIGNED_DATA)

# Files that hold others, by their first bytes. Which kind of ZIP (sniff_zip: the archive's
# directory) or of compound file (sniff_ole: the file's directory) a container is, Plan asks.
_CONTAINER_SIGNATURES: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", ZIP),
    (OLE_SIGNATURE, OLE),
    (TNEF_SIGNATURE, TNEF),
    (SEVEN_ZIP_SIGNATURE, SEVEN_ZIP),
    (b"\x1f\x8b\x08", GZIP),  # (deflate: gzip's one method)
    (b"\xfd7zXZ\x00", XZ),
]
# A PST begins "!BDN", then its CRC, then its client: "SM" a PST, "SO" an OST ([MS-PST] 2.2.2.6).
_PST_SIGNATURE, _PST_CLIENTS = b"!BDN", (b"SM", b"SO")
# bzip2's "BZh" is three letters a text may begin with: its block size and first block's
# magic (or the empty stream's end) follow.
_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")

_BINARY_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"RIFF", 0, "application/x-riff"),
    (b"\x7fELF", 0, "application/x-executable"),
    (b"MZ", 0, "application/x-msdownload"),
]


def _picture_type(head: bytes) -> str | None:
    for signature, media_type in _PICTURE_SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if _is_heic(head):
        return HEIC
    if head[:2] == b"BM" and len(head) >= 18:
        # Text may begin with "BM" too: the info header's size tells a bitmap.
        return BMP if int.from_bytes(head[14:18], "little") in _BMP_INFO_SIZES else None
    return None


def _archive_type(head: bytes) -> str | None:
    """A bzip2 stream, an Outlook data file, or a tar (before text: a tar of text files
    begins with a text's name), told by more than their first bytes."""
    if _BZIP2.match(head):
        return BZIP2
    if head[:4] == _PST_SIGNATURE and head[8:10] in _PST_CLIENTS:
        return PST
    return TAR if is_tar(head) else None


def is_tar(head: bytes) -> bool:
    """Whether ``head`` begins a POSIX (ustar) or GNU tar: its first header's magic, at 257."""
    return head[257:262] == b"ustar"


def _is_heic(head: bytes) -> bool:
    """An ISO base media file whose brands say a HEVC-coded picture (the box's size, at 0,
    bounds its list of compatible brands)."""
    if head[4:8] != b"ftyp":
        return False
    box = head[16 : max(16, min(int.from_bytes(head[:4], "big"), 256))]
    compatible = {box[at : at + 4] for at in range(0, len(box) - 3, 4)}
    major = head[8:12]
    return major in _HEIC_BRANDS or (major in _HEIF_BRANDS and bool(compatible & _HEIC_BRANDS))


def _media_type(head: bytes) -> str | None:
    for signature, offset, media_type in _MEDIA_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if media_type == MATROSKA and b"webm" in head[:64]:
                return WEBM
            return media_type
    if head[4:8] == b"ftyp" and not _is_heic(head):
        brand = head[8:12]
        return MP4_AUDIO if brand in _AUDIO_BRANDS else QUICKTIME if brand == b"qt  " else MP4
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:2] in _MP3_SYNC:
        return MPEG_AUDIO
    if head[:2] in _ADTS_SYNC:
        return AAC
    return None


# What a file name suggests. Content decides; names only pick between text formats the content
# cannot tell apart, and a mismatch is logged.
_EXTENSION_TYPES = {
    ".pdf": PDF,
    ".epub": EPUB,
    ".xps": XPS,
    ".oxps": XPS,
    ".cbz": CBZ,
    ".fb2": FB2,
    ".mobi": MOBI,
    ".docx": DOCX,
    ".docm": DOCX,
    ".dotx": DOCX,
    ".dotm": DOCX,
    ".doc": DOC,
    ".xlsx": XLSX,
    ".xlsm": XLSX,
    ".xls": XLS,
    ".pptx": PPTX,
    ".ppt": PPT,
    ".pptm": PPTX,
    ".ppsx": PPTX,
    ".potx": PPTX,
    ".odt": ODT,
    ".ott": ODT,
    ".ods": ODS,
    ".ots": ODS,
    ".odp": ODP,
    ".otp": ODP,
    ".fodt": ODT,  # flat: one XML file
    ".fods": ODS,
    ".fodp": ODP,
    ".txt": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".csv": CSV,
    ".jsonl": JSONL,
    ".ndjson": JSONL,
    ".json": JSON,
    ".html": HTML,
    ".htm": HTML,
    ".eml": EML,
    ".mht": EML,  # a web page saved whole (MHTML): a MIME message of its HTML and pictures
    ".mhtml": EML,
    ".emlx": EMLX,
    ".msg": MSG,
    ".rtf": RTF,
    ".p7m": P7M,
    ".mbox": MBOX,
    ".7z": SEVEN_ZIP,
    ".tar": TAR,
    ".gz": GZIP,
    ".tgz": GZIP,
    ".bz2": BZIP2,
    ".xz": XZ,
    ".mp3": MPEG_AUDIO,
    ".m4a": MP4_AUDIO,
    ".aac": AAC,
    ".wav": WAV,
    ".flac": FLAC,
    ".ogg": OGG,
    ".opus": OGG,
    ".mp4": MP4,
    ".mov": QUICKTIME,
    ".mkv": MATROSKA,
    ".webm": WEBM,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".gif": GIF,
    ".bmp": BMP,
    ".webp": WEBP,
    ".jp2": JPEG_2000,
    ".heic": HEIC,
    ".heif": HEIC,
}


@dataclass(frozen=True)
class Detected:
    media_type: str
    # Text only: how to decode it (utf-8, utf-16, cp1252, ...).
    encoding: str | None = None


def sniff(head: bytes, filename: str = "") -> Detected:
    """The type of an object from its first bytes; the file name only picks between text formats
    the content cannot tell apart (plain text vs Markdown).

    Raises InvalidDocument for an empty object and UnsupportedDocument, naming what it detected,
    for content docproc does not ingest.
    """
    if not head:
        raise InvalidDocument("the object is empty")
    # Containers first: one may hold a PDF within its first KiB (an attachment of a message,
    # a member stored as it is), which the search for a PDF's header below would find.
    for signature, container in _CONTAINER_SIGNATURES:
        if head.startswith(signature):
            return Detected(container)
    archive = _archive_type(head)
    if archive is not None:
        return Detected(archive)
    if head[:1] == b"\x30" and _SIGNED_DATA in head[2:_CMS_OID_WINDOW]:
        return Detected(P7M)  # before the PDF it may wrap, within its first KiB
    if head[:1] == b"\x30" and _ENVELOPED_DATA in head[2:_CMS_OID_WINDOW]:
        raise EncryptedDocument("the file is encrypted to its recipients (CMS enveloped-data)")
    if b"%PDF" in head[:_PDF_WINDOW] or _PDF_OBJECT.search(head[:_PDF_WINDOW]):
        # A damaged header with PDF objects after it: MuPDF repairs many such files, and what
        # it cannot open is rejected there, with a reason, rather than ingested as "text".
        return Detected(PDF)
    if head[60:68] == b"BOOKMOBI":
        return Detected(MOBI)
    media_type = _media_type(head) or _picture_type(head)
    if media_type is not None:
        return Detected(media_type)
    for signature, offset, media_type in _BINARY_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            raise UnsupportedDocument(f"content is {media_type}", detected_type=media_type)
    encoding = _text_encoding(head)
    if encoding is None:
        raise UnsupportedDocument(
            "content is binary of an unknown type", "application/octet-stream"
        )
    text = _decode_prefix(head, encoding)
    return Detected(_text_format(text, filename), encoding)


# What is read of a ZIP's mimetype member: more than any type it may declare.
_MIMETYPE_BYTES = 256


def sniff_zip(archive_file: Path | IO[bytes]) -> str:
    """Which ZIP-based format an archive is, by its members; ZIP for none of them (an archive
    of files). A seekable file object will do: only the central directory and the
    ``mimetype`` member are read."""
    try:
        with zipfile.ZipFile(archive_file) as archive:
            names = archive.namelist()
            declared = b""
            if "mimetype" in names:
                # (its first bytes: a type is a short line, and the member may be anything)
                with archive.open("mimetype") as member:
                    declared = member.read(_MIMETYPE_BYTES).strip()
            if declared == EPUB.encode():
                return EPUB
            open_document = _OPEN_DOCUMENT_KINDS.get(declared.decode("ascii", "replace"))
            if open_document is not None and "content.xml" in names:
                return open_document
    # (NotImplementedError: a member in a compression or ZIP version zipfile lacks;
    # RuntimeError: one marked encrypted)
    except (zipfile.BadZipFile, OSError, KeyError, NotImplementedError, RuntimeError) as exc:
        raise InvalidDocument(f"damaged ZIP container: {type(exc).__name__}") from exc
    members = set(names)
    if "word/document.xml" in members:
        return DOCX  # DOCM, DOTX and DOTM too: the same parts
    if "xl/workbook.xml" in members:
        return XLSX  # XLSM too: the same package, with macros docproc never runs
    if "xl/workbook.bin" in members:
        # Not an archive of files: read as one, it was its package's XML (properties,
        # relationships), its sheets' binary records left out.
        raise UnsupportedDocument(
            "an Excel binary workbook (XLSB), which docproc does not read", detected_type=XLSB
        )
    if "ppt/presentation.xml" in members:
        return PPTX  # PPTM, PPSX (a slide show) and POTX (a template) too
    if any(name.endswith(".fdseq") for name in names) or "FixedDocumentSequence.fdseq" in members:
        return XPS
    images = (".jpg", ".jpeg", ".png", ".gif", ".webp")
    files = [name for name in names if not name.endswith("/")]
    if files and all(name.lower().endswith(images) for name in files):
        return CBZ
    return ZIP  # an archive of files, each read as its kind (docproc.extract.archive)


# What olefile raises on a damaged compound file or stream (TypeError: a storage where a
# stream should be; OverflowError: a sector size no file can have).
OLE_ERRORS = (
    OSError,
    ValueError,
    TypeError,
    OverflowError,
    IndexError,
    KeyError,
    struct.error,
    RecursionError,
    EOFError,
)

# Types sniff returns before knowing which kind of container it is: see sniff_container.
CONTAINERS = {ZIP, OLE}


def sniff_data(data: bytes, filename: str = "") -> Detected:
    """The type of a file held in memory (an attachment, a part a document imports): sniff's
    of its first bytes, a ZIP's or a compound file's by its directory (sniff_container)."""
    detected = sniff(data[:SNIFF_BYTES], filename)
    if detected.media_type in CONTAINERS:
        return Detected(sniff_container(detected.media_type, io.BytesIO(data)))
    return detected


def sniff_container(media_type: str, container: Path | IO[bytes]) -> str:
    """Which kind a ZIP archive or compound file (``media_type``, as sniff returned it) is, by
    its members or streams; a seekable file will do (only its directory is read)."""
    return sniff_zip(container) if media_type == ZIP else sniff_ole(container)


def sniff_ole(compound_file: Path | IO[bytes]) -> str:
    """Which kind an OLE compound file is, by its streams (a seekable file will do: only its
    directory is read): a Word 97-2003 document, an XLS, a PowerPoint 97-2003 file or an
    Outlook message. An Office file encrypted with a password is EncryptedDocument."""
    import olefile  # only for compound files

    try:
        with olefile.OleFileIO(compound_file) as ole:
            streams = {"/".join(path) for path in ole.listdir(streams=True, storages=False)}
    except OLE_ERRORS as exc:
        raise InvalidDocument(f"damaged compound file: {type(exc).__name__}") from exc
    if "EncryptedPackage" in streams:
        # How Office stores a DOCX, XLSX or PPTX protected by a password to open.
        raise EncryptedDocument("the Office document is encrypted with a password")
    for stream, media_type in _OLE_KINDS.items():
        if stream in streams:
            return media_type
    raise UnsupportedDocument("a compound file of an unsupported kind", detected_type=OLE)


def _text_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return None
    # The probe may end inside a multi-byte character: decode incrementally, not final.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    # Not UTF-8: a legacy single-byte encoding, if the bytes read as text at all.
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f")
    if controls > len(head) // 100:
        return None
    try:
        # Windows-1252 first: by far the most common legacy encoding of Western documents,
        # and statistical detectors confuse it with its neighbours (cp1250, cp1257, ...).
        head.decode("cp1252")
    except UnicodeDecodeError:
        # Imported here: only a text in neither encoding needs it (~9 ms to import).
        from charset_normalizer import from_bytes

        best = from_bytes(head).best()
        return None if best is None or best.chaos > 0.2 else str(best.encoding)
    return "cp1252"


def _decode_prefix(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _text_format(text: str, filename: str) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    lowered = stripped[:200].lower()
    if _looks_like_html(lowered):
        return HTML
    xml_document = _xml_document(stripped)
    if xml_document is not None:
        return xml_document
    if _looks_like_email(stripped, named_eml=type_for_name(filename) == EML):
        return EML
    first, _, rest = stripped.partition("\n")
    if _MBOX_POSTMARK.match(first) and _looks_like_email(rest):
        return MBOX
    if _EMLX_COUNT.fullmatch(first) and _looks_like_email(rest):
        return EMLX
    if stripped.startswith("{\\rtf"):
        return RTF
    first_line = stripped.split("\n", 1)[0].strip()
    if stripped.startswith("{") and _is_json_object(first_line):
        lines = [line for line in stripped.split("\n")[:-1] if line.strip()]
        if len(lines) > 1 and all(_is_json_object(line) for line in lines[:20]):
            return JSONL
    named = type_for_name(filename)
    hinted = named if named in (MARKDOWN, CSV, JSONL, JSON, HTML) else None
    if stripped.startswith(("{", "[")) and hinted in (JSON, JSONL, None):
        return hinted or JSON
    if hinted == CSV and _looks_like_csv(stripped):
        return CSV
    if hinted == MARKDOWN:
        return MARKDOWN
    if hinted == HTML and stripped.startswith("<"):
        return HTML  # a fragment ("<p>Clause 7...</p>") in a file named .html
    return TEXT


# A flat OpenDocument file's root (LibreOffice's .fodt, .fods, .fodp): the office namespace's
# document element, which names the kind of document it is.
_FLAT_OPEN_DOCUMENT = re.compile(r"<(?:[\w.-]+:)?document\b[^>]*?\bmimetype=\"([^\"]+)\"")
_OFFICE_NAMESPACE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def _xml_document(text: str) -> str | None:
    """The kind of document XML whose first characters are ``text`` is, where docproc reads
    it as one: an e-book (FB2), a flat OpenDocument file (read as its kind's package is,
    docproc.extract.opendocument), or one of Office's: Word 2003 XML, Excel 2003 XML, or a flat
    package (Flat OPC: a Word document or PowerPoint presentation saved as XML, read as the
    package it holds)."""
    office_xml = _office_xml(text[:SNIFF_BYTES])
    if office_xml is not None:
        return office_xml
    if not text.startswith("<?xml"):
        return None
    if "<FictionBook" in text[:2000]:
        return FB2
    root = _FLAT_OPEN_DOCUMENT.search(text[:SNIFF_BYTES])
    if root is None or _OFFICE_NAMESPACE not in text[:SNIFF_BYTES]:
        return None
    return _OPEN_DOCUMENT_KINDS.get(root.group(1))


# Office's one-file XML documents: their root element, after the XML declaration, processing
# instructions and comments (its prefix, local name and attributes).
_XML_ROOT = re.compile(
    r"(?:\s|<\?[^>]*\?>|<!--.*?-->)*<(?:([\w.-]+):)?([\w.-]+)\b([^>]*)>", re.DOTALL
)
# By root and namespace: Word 2003 XML, Excel 2003 XML (docproc.extract.wordml,
# docproc.extract.spreadsheetml), and a flat Office package (Flat OPC), which holds a package.
_OFFICE_XML_ROOTS = {
    ("wordDocument", "http://schemas.microsoft.com/office/word/2003/wordml"): WORDML,
    ("Workbook", "urn:schemas-microsoft-com:office:spreadsheet"): SPREADSHEETML,
    ("package", "http://schemas.microsoft.com/office/2006/xmlPackage"): ZIP,
}
# What a flat package holds: its main part's content type (of a document, template,
# macro-enabled one or slide show), else the program Office names to open it.
_MAIN_PART = re.compile(
    r"application/vnd\.(?:openxmlformats-officedocument\.)?([\w-]+)\.[\w.]*main\+xml"
)
_MAIN_PART_KINDS = {
    "wordprocessingml": DOCX,
    "ms-word": DOCX,
    "presentationml": PPTX,
    "ms-powerpoint": PPTX,
}
_PROGRAM = re.compile(r"<\?mso-application\s+progid=\"([\w.]+)\"")
_PROGRAM_KINDS = {"Word.Document": DOCX, "PowerPoint.Show": PPTX}


def _office_xml(text: str) -> str | None:
    """The kind of one-file Office XML document ``text`` begins, if it is one: Word 2003 XML,
    Excel 2003 XML, or the DOCX or PPTX a flat package holds."""
    root = _XML_ROOT.match(text)
    if root is None:
        return None
    prefix, local, attributes = root.groups()
    declared = re.search(
        rf"\bxmlns{':' + re.escape(prefix) if prefix else ''}\s*=\s*[\"']([^\"']*)[\"']", attributes
    )
    kind = _OFFICE_XML_ROOTS.get((local, declared.group(1) if declared else ""))
    if kind != ZIP:
        return kind
    for main in _MAIN_PART.finditer(text, root.end()):
        if main.group(1) in _MAIN_PART_KINDS:
            return _MAIN_PART_KINDS[main.group(1)]
    program = _PROGRAM.search(text, 0, root.start(2))
    return _PROGRAM_KINDS.get(program.group(1)) if program is not None else None


def _looks_like_html(lowered: str) -> bool:
    """Whether a text's first characters, lower case, begin a web page: HTML, or XHTML (its
    XML declaration and DOCTYPE before the html element)."""
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:100]:
        return True
    return lowered.startswith("<?xml") and ("<!doctype html" in lowered or "<html" in lowered)


# A header field's line: a name of printable characters but the colon, then a colon.
_HEADER_FIELD = re.compile(r"([!-9;-~]+):")
# Fields only a message has (minutes or a memo may have From, To, Date and Subject, and
# fields of their own that reading them as a message would drop; not these).
_MESSAGE_FIELDS = {"message-id", "mime-version", "received", "return-path"}
_ADDRESS_FIELDS = {"from", "sender", "to", "received", "return-path"}
# A MIME document without a sender: a web page Word saves whole (MHTML, and what a DOCX
# imports as one), which begins with these two.
_MIME_DOCUMENT = {"mime-version", "content-type"}


# An .emlx file's first line: the message's size in bytes.
_EMLX_COUNT = re.compile(r"\d{1,12}[ \t]*\r?")
# An mbox file's first line: "From " and the sender, then the date it was delivered.
_MBOX_POSTMARK = re.compile(r"From \S+ +\S.*\d\d:\d\d")


def _looks_like_email(text: str, named_eml: bool = False) -> bool:
    """Whether ``text`` begins with an Internet message's header (RFC 5322): lines of fields,
    folded lines indented, up to a blank line or the end of what was read (a long chain of
    Received fields), among them a sender or recipient and a field only messages have; for a
    file named ``.eml`` or ``.mht``, a field only messages have is enough (a draft has no
    sender yet), as for a MIME document (MIME-Version and Content-Type: a saved web page)."""
    names: list[str] = []
    lines = text.split("\n")
    for number, line in enumerate(line.rstrip("\r") for line in lines):
        if not line:
            break
        if line[0] in " \t":
            if not names:
                return False
            continue
        field = _HEADER_FIELD.match(line)
        if field is None:
            if number == len(lines) - 1:
                break  # the last line read may be cut short: judge the ones before it
            return False
        names.append(field.group(1).lower())
    fields = set(names)
    if fields >= _MIME_DOCUMENT:
        return True
    if named_eml:
        return bool(fields & _MESSAGE_FIELDS)
    return len(names) >= 3 and bool(fields & _ADDRESS_FIELDS) and bool(fields & _MESSAGE_FIELDS)


def type_for_name(filename: str) -> str | None:
    """The type a file name's extension suggests, if any."""
    return _EXTENSION_TYPES.get(PurePosixPath(filename).suffix.lower())


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _looks_like_csv(text: str) -> bool:
    sample = "\n".join(text.split("\n")[:20])
    try:
        csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return False
    return True
