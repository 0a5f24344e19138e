"""Text and Markdown through the state machine: byte-range segments read from S3."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from benchmarks.generators import text_pdf
from docproc.extract.html import html_to_text
from docproc.extract.sniff import (
    DOC,
    DOCX,
    MSG,
    ODP,
    ODS,
    ODT,
    PPT,
    PPTX,
    SPREADSHEETML,
    TNEF,
    WORDML,
    XLS,
    XLSX,
)
from tests.documents import (
    OleAttachment,
    OutlookMessage,
    Slide,
    docx_file,
    docx_with_photographs,
    email_message,
    embedded_object,
    excel_2003_xml,
    flat_open_document,
    flat_package,
    legacy_workbook,
    mailbox_file,
    mime_entity,
    ole_object_run,
    open_document,
    outlook_message,
    packaged_object,
    packager_data,
    pdf_of_lines,
    powerpoint_97,
    presentation,
    rtf_object,
    smime_email,
    smime_streamed,
    tnef_stream,
    web_page,
    word_97_document,
    word_2003_xml,
    word_package,
    workbook,
)
from tests.e2e.harness import BUCKET, DeployedStack


def _chunks(stack: DeployedStack, prefix: str) -> list[dict]:
    out = []
    for key in sorted(k for k in stack.object_keys(prefix) if k.endswith(".chunks.jsonl")):
        body = stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        out.extend(json.loads(line) for line in body.splitlines())
    return out


@pytest.mark.built_artifacts
def test_text_file_fans_out_over_byte_ranges(stack: DeployedStack, qdrant: QdrantClient):
    # Given a 300 kB text file and 64 KiB segments
    lines = [
        f"{i:06d} clause {i} of the settlement agreement between the parties" for i in range(4500)
    ]
    (event,) = stack.upload(
        "uploads/acme/case-3/notes-1/notes.txt", ("\n".join(lines) + "\n").encode()
    )
    # When it is ingested
    execution = stack.run(event)
    # Then the Map ran one ProcessSegment per range and every line landed in some chunk
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert len(segments) >= 4
    assert all(p["segment"]["kind"] == "bytes" for p in segments)
    chunks = _chunks(stack, "work/acme/notes-1/")
    text = "\n".join(c["text"] for c in chunks)
    assert all(line in text for line in lines[::97])
    assert all(c["byte_end"] > c["byte_start"] for c in chunks)
    (published,) = stack.published()
    assert published["detail"]["media_type"] == "text/plain"
    assert published["detail"]["bytes"] == len(("\n".join(lines) + "\n").encode())


@pytest.mark.built_artifacts
def test_a_web_page_read_in_ranges_indexes_only_its_visible_text(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a 300 kB saved web page (scripts, style sheets, comments and tags over several
    # lines, wherever the 64 KiB ranges fall) and its visible words, read whole
    markup = web_page(seed=5, elements=1500)
    visible = html_to_text(markup).split()
    (event,) = stack.upload("uploads/acme/case-3/page-1/page.html", markup.encode())
    # When it is ingested, by the Lambda runtime's HTML parser
    execution = stack.run(event)
    # Then its ranges' chunks hold those words (each unique), in order, and nothing of the
    # markup
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert len(segments) >= 4
    chunks = sorted(_chunks(stack, "work/acme/page-1/"), key=lambda c: (c["segment"], c["ordinal"]))
    words = [word for chunk in chunks for word in chunk["text"].split()]
    # (chunks overlap: a word is counted where it first appears)
    assert list(dict.fromkeys(w for w in words if w.startswith("shown"))) == [
        w for w in visible if w.startswith("shown")
    ]
    assert not [word for word in words if "hidden" in word or "=" in word]


@pytest.mark.built_artifacts
@pytest.mark.parametrize("signed", [False, True], ids=["plain", "s-mime"])
def test_an_email_is_read_whole_with_its_attachments(
    stack: DeployedStack, qdrant: QdrantClient, signed: bool
):
    # Given an e-mail with a PDF attached, uploaded as .eml; or one signed as one S/MIME
    # object, streamed out as Outlook sends it
    lease = ("lease.pdf", "application/pdf", pdf_of_lines(["Rent is 1,200 a month."]))
    if signed:
        entity = mime_entity("The signed lease is attached.", [lease]).as_bytes()
        message = smime_email("Signed lease", smime_streamed(entity))
    else:
        message = email_message(
            "Signed lease", "The signed lease is attached.", attachments=[lease]
        )
    (event,) = stack.upload("uploads/acme/case-3/mail-1/lease.eml", message.as_bytes())
    # When it is ingested (the runtime's e-mail parser, asn1crypto in the built image, the
    # upload read by ProcessSegment's role)
    execution = stack.run(event)
    # Then one segment read it whole: its header, body and the PDF's text, announced as e-mail
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert [p["segment"]["kind"] for p in segments] == ["whole"]
    text = " ".join(" ".join(c["text"] for c in _chunks(stack, "work/acme/mail-1/")).split())
    assert text.startswith("From: Ana Ruiz <ana@firm.example>")
    assert "Subject: Signed lease The signed lease is attached." in text
    assert "Attachment: lease.pdf (application/pdf) Rent is 1,200 a month." in text
    assert stack.published()[0]["detail"]["media_type"] == "message/rfc822"


@pytest.mark.built_artifacts
def test_a_word_97_document_is_read_whole_by_range(stack: DeployedStack, qdrant: QdrantClient):
    # Given a Word 97-2003 document with a table (its rows' ends in paragraph properties), a
    # footnote, and an exhibit embedded as an icon (its object in the ObjectPool)
    exhibit = packaged_object("plan.pdf", pdf_of_lines(["Exhibit A: the roof plan."]))
    data = word_97_document(
        "Clause 1: the tenant repairs the roof.\x13 EMBED Package \x14\x01\x15\r"
        "Term\x07Value\x07\x1dRent\x071,200\x07\x1d\r",
        {"footnotes": "\x02 Net of fees.\r"},
        objects=[exhibit],
    )
    (event,) = stack.upload("uploads/acme/case-3/doc-1/lease.doc", data)
    # When it is ingested (olefile in the built image, the upload read by range)
    execution = stack.run(event)
    # Then one segment read its text, the table a chunk of its own, announced as a Word
    # document
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    chunks = _chunks(stack, "work/acme/doc-1/")
    assert [chunk["text"] for chunk in chunks] == [
        "Clause 1: the tenant repairs the roof.\n\nExhibit A: the roof plan.",
        "| Term | Value |\n| --- | --- |\n| Rent | 1,200 |",
        "Footnotes:\nNet of fees.",
    ]
    assert {chunk["extraction"] for chunk in chunks} == {"doc"}
    assert stack.published()[0]["detail"]["media_type"] == DOC


@pytest.mark.built_artifacts
@pytest.mark.parametrize(
    ("name", "write", "extraction", "media_type"),
    [("lease.msg", outlook_message, "outlook", MSG), ("winmail.dat", tnef_stream, "tnef", TNEF)],
    ids=["msg", "tnef"],
)
def test_an_outlook_message_is_read_whole_with_its_attachments(
    stack: DeployedStack,
    qdrant: QdrantClient,
    name: str,
    write: Callable[[OutlookMessage], bytes],
    extraction: str,
    media_type: str,
):
    # Given an Outlook message whose body is only compressed RTF, with a PDF attached, saved
    # from Outlook or as it sends one in rich text (winmail.dat)
    message = OutlookMessage(
        "Signed lease",
        rtf=r"{\rtf1\ansi The signed lease is \b attached\b0 .\par}",
        attachments=[("lease.pdf", "application/pdf", pdf_of_lines(["Rent is 1,200 a month."]))],
    )
    (event,) = stack.upload(f"uploads/acme/case-3/msg-1/{name}", write(message))
    # When it is ingested (olefile and compressed_rtf in the built image, a .msg read by
    # range)
    execution = stack.run(event)
    # Then one segment read it whole, as an e-mail is read, announced as what it is
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert [p["segment"]["kind"] for p in segments] == ["whole"]
    chunks = _chunks(stack, "work/acme/msg-1/")
    assert {c["extraction"] for c in chunks} == {extraction}
    text = " ".join(" ".join(c["text"] for c in chunks).split())
    assert text.startswith("From: Ana Ruiz <ana@firm.example>")
    assert "Subject: Signed lease The signed lease is attached." in text
    assert "Attachment: lease.pdf (application/pdf) Rent is 1,200 a month." in text
    assert stack.published()[0]["detail"]["media_type"] == media_type


@pytest.mark.built_artifacts
def test_an_rtf_is_read_as_its_text(stack: DeployedStack, qdrant: QdrantClient):
    # Given an RTF (as word processors export it: a font table, escapes, a picture, and an
    # exhibit's PDF embedded as an object, packaged as an icon)
    exhibit = rtf_object("Package", packager_data("plan.pdf", pdf_of_lines(["Exhibit A."])))
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Times;}}\f0 {\b Clause 4.} Rent is "
        rb"\u8364?1,200, caf\'e9 included.\par{\pict\pngblip 89504e47}" + exhibit.encode() + b"}"
    )
    (event,) = stack.upload("uploads/acme/case-3/rtf-1/lease.rtf", rtf)
    # When it is ingested (striprtf in the built image)
    execution = stack.run(event)
    # Then its text is the chunk, nothing of its markup, the exhibit's text after the clause
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (chunk,) = _chunks(stack, "work/acme/rtf-1/")
    assert chunk["text"] == "Clause 4. Rent is €1,200, café included.\n\nExhibit A."
    assert chunk["extraction"] == "striprtf"


@pytest.mark.built_artifacts
def test_a_workbook_is_read_in_place_a_sheet_s_rows_under_its_header(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a workbook of two sheets
    path = workbook(
        tmp_path / "rents.xlsx",
        {"Rents": [["Unit", "Rent"], *[[n, 1000 + n] for n in range(1, 301)]], "Notes": [["Late"]]},
    )
    (event,) = stack.upload("uploads/acme/case-3/book-1/rents.xlsx", path.read_bytes())
    # When it is ingested (openpyxl in the built image, the upload read by range)
    execution = stack.run(event)
    # Then one segment read it whole, each chunk on its sheet under its name and header
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert [p["segment"]["kind"] for p in segments] == ["whole"]
    chunks = _chunks(stack, "work/acme/book-1/")
    rents = [c for c in chunks if c["page_start"] == 1]
    assert len(rents) > 1
    assert all(c["text"].startswith("Sheet: Rents\n| Unit | Rent |\n| --- | --- |") for c in rents)
    rows = [line for c in rents for line in c["text"].splitlines()[3:]]
    assert rows == [f"| {n} | {1000 + n} |" for n in range(1, 301)]
    assert [c["text"] for c in chunks if c["page_start"] == 2] == [
        "Sheet: Notes\n| Late |\n| --- |"
    ]
    assert stack.published()[0]["detail"]["media_type"] == XLSX


@pytest.mark.built_artifacts
def test_a_legacy_workbook_is_read_from_its_download(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given an Excel 97-2003 workbook
    path = legacy_workbook(tmp_path / "rents.xls", {"Rents": [["Unit", "Rent"], [4, 1200]]})
    (event,) = stack.upload("uploads/acme/case-3/xls-1/rents.xls", path.read_bytes())
    # When it is ingested (olefile and xlrd in the built image)
    execution = stack.run(event)
    # Then its sheet is its chunk, announced as what it is
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (chunk,) = _chunks(stack, "work/acme/xls-1/")
    assert chunk["text"] == "Sheet: Rents\n| Unit | Rent |\n| --- | --- |\n| 4 | 1200 |"
    assert stack.published()[0]["detail"]["media_type"] == XLS


@pytest.mark.built_artifacts
def test_office_2003_xml_documents_are_read_in_place_as_their_kinds(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a Word 2003 XML lease and an Excel 2003 XML rent roll named .xls
    lease = word_2003_xml(
        "<w:p><w:r><w:t>The landlord insures the building.</w:t></w:r></w:p>", pictures=3000
    )
    roll = excel_2003_xml({"Rents": [["Unit", "Rent"], ["4", 1200]]})
    # When each is ingested (lxml in the built image, the upload read by range)
    for document, name, data in [("wml-1", "lease.xml", lease), ("sml-1", "rents.xls", roll)]:
        (event,) = stack.upload(f"uploads/acme/case-3/{document}/{name}", data)
        execution = stack.run(event)
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
    # Then each is one chunk, read as its kind, announced as what it is
    (letter,) = _chunks(stack, "work/acme/wml-1/")
    assert (letter["text"], letter["extraction"]) == (
        "The landlord insures the building.",
        "wordml",
    )
    (sheet,) = _chunks(stack, "work/acme/sml-1/")
    assert sheet["text"] == "Sheet: Rents\n| Unit | Rent |\n| --- | --- |\n| 4 | 1200 |"
    assert (sheet["page_start"], sheet["extraction"]) == (1, "spreadsheetml")
    published = [event["detail"]["media_type"] for event in stack.published()]
    assert published == [WORDML, SPREADSHEETML]


@pytest.mark.built_artifacts
def test_a_presentation_is_read_in_place_each_chunk_on_its_slides(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a deck of 30 slides, each with a clause and a note
    path = presentation(
        tmp_path / "briefing.pptx",
        [Slide(title=f"Clause {n}", notes=f"Ask about indemnity {n}.") for n in range(1, 31)],
    )
    (event,) = stack.upload("uploads/acme/case-3/deck-1/briefing.pptx", path.read_bytes())
    # When it is ingested (python-pptx in the built image, the upload read by range)
    execution = stack.run(event)
    # Then one segment read it whole, and every slide's text is in a chunk on that slide
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert [p["segment"]["kind"] for p in segments] == ["whole"]
    chunks = _chunks(stack, "work/acme/deck-1/")
    assert {c["extraction"] for c in chunks} == {"python-pptx"}
    for n in range(1, 31):
        (on_slide,) = [
            c
            for c in chunks
            if c["page_start"] <= n <= c["page_end"] and f"Clause {n}\n" in c["text"]
        ]
        assert f"Clause {n}\n\nNotes:\nAsk about indemnity {n}." in on_slide["text"]
    assert stack.published()[0]["detail"]["media_type"] == PPTX


@pytest.mark.built_artifacts
def test_a_powerpoint_97_deck_is_read_by_range_each_chunk_on_its_slides(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a PowerPoint 97-2003 deck of 3 slides, one with a note
    deck = powerpoint_97(
        [Slide(title="Offer", notes="Floor is 40,000."), Slide(), Slide(title="Timeline")]
    )
    (event,) = stack.upload("uploads/acme/case-3/ppt-1/offer.ppt", deck)
    # When it is ingested (the upload read by range)
    execution = stack.run(event)
    # Then its slides with text are in its chunk, on their numbers, announced as a PPT
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (chunk,) = _chunks(stack, "work/acme/ppt-1/")
    assert chunk["text"] == "Offer\n\nNotes:\nFloor is 40,000.\n\nTimeline"
    assert (chunk["page_start"], chunk["page_end"], chunk["extraction"]) == (1, 3, "ppt")
    assert stack.published()[0]["detail"]["media_type"] == PPT


_ODF_CELLS = "".join(
    f"<table:table-row><table:table-cell><text:p>{a}</text:p></table:table-cell>"
    f"<table:table-cell><text:p>{b}</text:p></table:table-cell></table:table-row>"
    for a, b in [("Unit", "Rent"), ("4", "$1,200.00")]
)


@pytest.mark.built_artifacts
@pytest.mark.parametrize(
    ("kind", "body", "media_type", "text", "pages"),
    [
        (
            "text",
            '<text:p>Rent is due monthly.<text:note text:note-class="footnote"><text:note-body>'
            "<text:p>Net of fees.</text:p></text:note-body></text:note></text:p>",
            ODT,
            "Rent is due monthly.\n\nFootnotes:\nNet of fees.",
            (None, None),
        ),
        (
            "spreadsheet",
            f'<table:table table:name="Rents">{_ODF_CELLS}</table:table>',
            ODS,
            "Sheet: Rents\n| Unit | Rent |\n| --- | --- |\n| 4 | $1,200.00 |",
            (1, 1),
        ),
        (
            "presentation",
            '<draw:page/><draw:page><draw:frame presentation:class="title"><draw:text-box>'
            "<text:p>Offer</text:p></draw:text-box></draw:frame></draw:page>",
            ODP,
            "Offer",
            (2, 2),
        ),
    ],
    ids=["odt", "ods", "odp"],
)
@pytest.mark.parametrize("form", ["package", "flat"])
def test_an_open_document_is_read_in_place_as_its_kind(
    stack: DeployedStack,
    qdrant: QdrantClient,
    kind: str,
    body: str,
    media_type: str,
    text: str,
    pages: tuple[int | None, int | None],
    form: str,
):
    # Given an OpenDocument file as LibreOffice saves one, a package or a flat file (one XML
    # document), named without its extension
    data = open_document(kind, body)
    data = flat_open_document(data) if form == "flat" else data
    (event,) = stack.upload(f"uploads/acme/case-3/odf-{kind}-{form}/file", data)
    # When it is ingested (lxml in the built image, the upload read by range)
    execution = stack.run(event)
    # Then one segment read it whole as its kind, announced as what it is
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert [p["segment"]["kind"] for p in segments] == ["whole"]
    (chunk,) = _chunks(stack, f"work/acme/odf-{kind}-{form}/")
    assert chunk["text"] == text and chunk["extraction"] == "opendocument"
    assert (chunk["page_start"], chunk["page_end"]) == pages
    assert stack.published()[0]["detail"]["media_type"] == media_type


@pytest.mark.built_artifacts
def test_a_mailbox_fans_out_and_reads_each_message_once(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a 300 kB mailbox of 150 messages and 64 KiB segments
    messages = [
        email_message(f"Message {n}", f"Body of message {n}.\n" + "Filler line.\n" * 150)
        for n in range(150)
    ]
    data = mailbox_file(tmp_path / "inbox.mbox", messages).read_bytes()
    (event,) = stack.upload("uploads/acme/case-3/box-1/inbox.mbox", data)
    # When it is ingested
    execution = stack.run(event)
    # Then several segments read it, and each message is in the chunks of exactly one
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert len(segments) >= 4
    chunks = _chunks(stack, "work/acme/box-1/")
    owners: dict[int, set[int]] = {}
    for chunk in chunks:
        owners.setdefault(chunk["byte_start"], set()).add(chunk["segment"])
    assert len(owners) == 150 and all(len(owner) == 1 for owner in owners.values())
    text = " ".join(" ".join(c["text"] for c in chunks).split())
    assert all(f"Subject: Message {n} Body of message {n}." in text for n in range(150))
    assert stack.published()[0]["detail"]["media_type"] == "application/mbox"


def _zipped(files: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return archive.getvalue()


def _seven_zipped(files: dict[str, bytes]) -> bytes:
    import py7zr

    archive = io.BytesIO()
    fast = [{"id": py7zr.FILTER_LZMA2, "preset": 1}]
    with py7zr.SevenZipFile(archive, "w", filters=fast) as packed:
        for name, data in files.items():
            packed.writestr(data, name)
    return archive.getvalue()


def _tarred(files: dict[str, bytes]) -> bytes:
    import tarfile

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def _fanned_out(
    stack: DeployedStack, execution: dict, work: str
) -> tuple[list[dict], dict[str, set[int]]]:
    """An archive's ingestion, having succeeded with several byte-range and page-range
    segments: its chunks (under ``work``), and which segments' chunks each path is in."""
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    kinds = [p["segment"]["kind"] for p in segments]
    assert kinds.count("bytes") >= 2 and kinds.count("pages") >= 2
    chunks = _chunks(stack, work)
    owners: dict[str, set[int]] = {}
    for chunk in chunks:
        owners.setdefault(chunk["path"], set()).add(chunk["segment"])
    return chunks, owners


@pytest.mark.built_artifacts
@pytest.mark.parametrize(
    ("name", "packed", "media_type"),
    [
        ("production.zip", _zipped, "application/zip"),
        # (read from their start: Plan repacks them into a ZIP that their segments read)
        ("production.7z", _seven_zipped, "application/x-7z-compressed"),
        ("production.tar.gz", _tarred, "application/gzip"),
    ],
)
def test_an_archive_fans_out_and_reads_each_file_once(
    stack: DeployedStack,
    qdrant: QdrantClient,
    tmp_path: Path,
    name: str,
    packed: Callable[[dict[str, bytes]], bytes],
    media_type: str,
):
    # Given a production archived (64 KiB segments: several): 12 PDFs of 3 pages, a DOCX and
    # an Outlook message, in folders, and an 80-page transcript larger than a segment
    files = {
        f"vol-1/exhibit-{n:02d}.pdf": text_pdf(tmp_path / f"{n}.pdf", 3, seed=n).read_bytes()
        for n in range(12)
    }
    memo = docx_file(tmp_path / "memo.docx", ["Clause 9: the landlord insures the building."])
    files["vol-2/memo.docx"] = memo.read_bytes()
    files["vol-2/inspection.msg"] = outlook_message(
        OutlookMessage("Inspection", "Mould found in the north bedroom.")
    )
    transcript = "vol-3/transcript.pdf"
    files[transcript] = text_pdf(tmp_path / "transcript.pdf", 80, seed=99).read_bytes()
    (event,) = stack.upload(f"uploads/acme/case-3/prod-1/{name}", packed(files))
    # When it is ingested
    execution = stack.run(event)
    # Then several segments read it, each small file in the chunks of exactly one, under its
    # path; the transcript, unpacked by Plan, in page ranges of its own (sub-PDFs in S3); the
    # PDFs' chunks on their own pages
    chunks, owners = _fanned_out(stack, execution, "work/acme/prod-1/")
    assert set(owners) == set(files)
    assert all(len(owner) == 1 for path, owner in owners.items() if path != transcript)
    pages = {
        (chunk["path"], page)
        for chunk in chunks
        if chunk["path"].endswith(".pdf")
        for page in range(chunk["page_start"], chunk["page_end"] + 1)
    }
    expected = {(name, page) for name in files if name.endswith(".pdf") for page in (1, 2, 3)}
    expected |= {(transcript, page) for page in range(1, 81)}
    assert pages == expected
    text = " ".join(" ".join(c["text"] for c in chunks).split())
    assert "File: vol-2/memo.docx Clause 9: the landlord insures the building." in text
    assert "Subject: Inspection Mould found in the north bedroom." in text
    assert {c["extraction"] for c in chunks if c["path"] != transcript} == {"archive"}
    assert stack.published()[0]["detail"]["media_type"] == media_type


@pytest.mark.built_artifacts
def test_a_mailbox_fans_out_message_by_message(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a custodian's Outlook data file: 24 messages in the Inbox, each carrying a PDF of
    # 3 pages, and a message in Sent Items carrying an 80-page transcript larger than a
    # segment (64 KiB segments: several)
    from benchmarks.pst import Attachment, Folder, Message, pst_file

    inbox = [
        Message(
            f"Exhibit {n}",
            body=f"Exhibit {n} of the production, attached.",
            sender_name="Ann Smith",
            sender_address="ann@example.com",
            attachments=[
                Attachment(
                    f"exhibit-{n:02d}.pdf", text_pdf(tmp_path / f"{n}.pdf", 3, seed=n).read_bytes()
                )
            ],
        )
        for n in range(24)
    ]
    transcript = text_pdf(tmp_path / "transcript.pdf", 80, seed=99).read_bytes()
    sent = [
        Message(
            "Transcript",
            body="The hearing's transcript.",
            attachments=[Attachment("transcript.pdf", transcript)],
        )
    ]
    data = pst_file([Folder("Inbox", inbox), Folder("Sent Items", sent)])
    (event,) = stack.upload("uploads/acme/case-3/custodian-1/mailbox.pst", data)
    # When it is ingested
    execution = stack.run(event)
    # Then the messages and their PDFs are read by several segments, each message and each
    # small PDF in the chunks of exactly one, under its folder's path; the transcript in page
    # ranges of its own
    chunks, owners = _fanned_out(stack, execution, "work/acme/custodian-1/")
    expected = {f"Inbox/{n + 1:05d} Exhibit {n}.eml" for n in range(24)}
    expected |= {f"Inbox/{n + 1:05d} Exhibit {n}/exhibit-{n:02d}.pdf" for n in range(24)}
    expected |= {"Sent Items/00001 Transcript.eml", "Sent Items/00001 Transcript/transcript.pdf"}
    assert set(owners) == expected
    assert all(len(o) == 1 for path, o in owners.items() if not path.endswith("transcript.pdf"))
    pages = {
        page
        for chunk in chunks
        if chunk["path"].endswith("transcript.pdf")
        for page in range(chunk["page_start"], chunk["page_end"] + 1)
    }
    assert pages == set(range(1, 81))
    text = " ".join(" ".join(c["text"] for c in chunks).split())
    assert "From: Ann Smith <ann@example.com>" in text and "Exhibit 7 of the production" in text
    assert stack.published()[0]["detail"]["media_type"] == "application/vnd.ms-outlook-pst"


@pytest.mark.built_artifacts
def test_markdown_file_single_segment(stack: DeployedStack, qdrant: QdrantClient):
    body = "\n\n".join(
        f"# Exhibit {i}\n\nThe exhibit {i} shows the signed lease." for i in range(20)
    )
    (event,) = stack.upload("uploads/acme/case-3/exhibits/list.md", body.encode())
    execution = stack.run(event)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert [n for n, _ in stack.invocations] == [
        "StartFunction",
        "PlanFunction",
        "ProcessSegmentFunction",
        "FinalizeFunction",
    ]
    chunks = _chunks(stack, "work/acme/exhibits/")
    assert chunks and all(c["text"].startswith("# Exhibit") for c in chunks)
    assert stack.published()[0]["detail"]["media_type"] == "text/markdown"


@pytest.mark.built_artifacts
def test_a_document_attached_to_an_outlook_message_as_an_ole_object_is_read(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a message in rich text to which Outlook attached a Word 97-2003 letter as an OLE
    # object (its storage, not a file's bytes)
    letter = word_97_document("Clause 12: the guarantor answers for the rent.\r")
    message = OutlookMessage(
        "Guarantee",
        rtf=r"{\rtf1\ansi The guarantee is attached.\par}",
        attachments=[OleAttachment.of_file("Microsoft Word Document", letter)],
    )
    (event,) = stack.upload("uploads/acme/case-3/msg-2/guarantee.msg", outlook_message(message))
    # When it is ingested (the compound file made of the object in the built layer)
    execution = stack.run(event)
    # Then the letter is read after the body, as the attachment it is
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    text = " ".join(" ".join(c["text"] for c in _chunks(stack, "work/acme/msg-2/")).split())
    assert text.endswith(
        "The guarantee is attached. Attachment: Microsoft Word Document "
        "(application/octet-stream) Clause 12: the guarantor answers for the rent."
    )


@pytest.mark.built_artifacts
def test_an_exhibit_a_docx_embeds_is_read_after_its_paragraph(
    stack: DeployedStack, qdrant: QdrantClient
):
    # Given a brief embedding its exhibit, a PDF packaged as an icon (an OLE object)
    exhibit = embedded_object(
        "embeddings/oleObject1.bin",
        packaged_object("survey.pdf", pdf_of_lines(["Exhibit 7: damp in the north wall."])),
        "rIdE1",
    )
    icon = ole_object_run("rIdE1", "Package", icon=True)
    body = f"<w:p><w:r><w:t>The survey is attached.</w:t></w:r>{icon}</w:p>"
    (event,) = stack.upload(
        "uploads/acme/case-3/brief-1/brief.docx", word_package(body, imported=[exhibit])
    )
    # When it is ingested (olefile and MuPDF in the built image)
    execution = stack.run(event)
    # Then its one chunk holds the paragraph, then the exhibit's text
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (chunk,) = _chunks(stack, "work/acme/brief-1/")
    assert chunk["text"] == "The survey is attached.\n\nExhibit 7: damp in the north wall."


@pytest.mark.built_artifacts
@pytest.mark.parametrize("form", ["package", "flat"])
def test_a_docx_of_photographs_is_ingested_from_s3(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path, form: str
):
    # Given a DOCX whose size is its photographs (4 of 2 MB), as a package or saved flat by
    # Word as a "Word XML Document" (one XML file, the photographs in base64), named .xml
    path = docx_with_photographs(tmp_path / "exhibits.docx", 4, 2 * 2**20)
    data = flat_package(path.read_bytes()) if form == "flat" else path.read_bytes()
    name = "exhibits.xml" if form == "flat" else "exhibits.docx"
    (event,) = stack.upload(f"uploads/acme/case-3/photos-{form}/{name}", data)
    # When it is ingested
    execution = stack.run(event)
    # Then one whole segment read its captions, by ranged reads of the upload its role
    # allows, announced as a DOCX
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (segment,) = [p for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert segment["segment"]["kind"] == "whole"
    chunks = _chunks(stack, f"work/acme/photos-{form}/")
    text = "\n".join(c["text"] for c in chunks)
    assert all(f"Photograph {number}: the north wall" in text for number in range(4))
    assert {c["extraction"] for c in chunks} == {"python-docx"}
    assert stack.published()[0]["detail"]["media_type"] == DOCX
