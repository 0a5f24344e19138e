"""E-mail on the laptop: a message and its attachments found by what they say, read within the
memory its segment has."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.generators import image_pdf, page_marker, text_pdf
from docproc.config import LocalSettings
from docproc.extract import outlook, tnef
from docproc.extract.mail import MESSAGE_MEMORY_FACTOR, message_text
from docproc.ledger.sqlite import SQLiteLedger
from docproc.local.runner import LocalEnvironment, ingest
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from tests.documents import (
    OleAttachment,
    OutlookMessage,
    docx_file,
    email_message,
    emlx_file,
    mailbox_file,
    outlook_message,
    packaged_object,
    pdf_of_lines,
    tnef_stream,
    word_97_document,
)
from tests.memory import peak_growth_mb


def _message_file(
    path: Path, subject: str, body: str, attachments: list[tuple[str, str, bytes]]
) -> Path:
    """A message saved as an e-mail (.eml), by Apple Mail (.emlx), from Outlook (.msg), or as
    Outlook sends one in rich text (TNEF, winmail.dat: ``.dat``), by ``path``'s suffix;
    ``.tnef.eml``: an e-mail whose files are inside its winmail.dat, as Outlook sends them."""
    if path.suffix == ".msg":
        message = OutlookMessage(subject, body, attachments=attachments)
        path.write_bytes(outlook_message(message))
    elif path.suffix == ".dat":
        path.write_bytes(tnef_stream(OutlookMessage(subject, body, attachments=attachments)))
    elif path.suffix == ".emlx":
        path.write_bytes(emlx_file(email_message(subject, body, attachments=attachments)))
    elif path.name.endswith(".tnef.eml"):
        rich = tnef_stream(OutlookMessage(subject, body, attachments=attachments))
        carrier = [("winmail.dat", "application/ms-tnef", rich)]
        path.write_bytes(email_message(subject, body, attachments=carrier).as_bytes())
    else:
        path.write_bytes(email_message(subject, body, attachments=attachments).as_bytes())
    return path


@pytest.mark.parametrize(
    ("suffix", "extraction"),
    [
        ("eml", "email"),
        ("emlx", "email"),
        ("msg", "outlook"),
        ("dat", "tnef"),
        ("tnef.eml", "email"),
    ],
)
def test_an_email_and_its_attachments_are_found_by_what_they_say(
    env, tmp_path: Path, suffix: str, extraction: str
):
    # Given a message with a 40-page PDF and a DOCX attached, saved as .eml or from Outlook,
    # or Outlook's winmail.dat of it, alone or in the e-mail that carries it
    pdf = text_pdf(tmp_path / "record.pdf", pages=40)
    draft = docx_file(tmp_path / "draft.docx", ["Clause 9: the landlord insures the building."])
    path = _message_file(
        tmp_path / f"hearing.{suffix}",
        "Record of the hearing",
        "The record and our draft are attached.",
        [
            ("record.pdf", "application/pdf", pdf.read_bytes()),
            ("draft.docx", "application/vnd.openxmlformats", draft.read_bytes()),
        ],
    )
    # When it is ingested
    report = ingest(env, path, document_id="hearing")
    # Then it is one message, read whole: its body, every page of the PDF and the DOCX are in
    # its chunks, and none holds the attachments' base64
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/hearing/") if k.endswith(".chunks.jsonl")]
    chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    text = " ".join(" ".join(chunk["text"] for chunk in chunks).split())
    assert "Subject: Record of the hearing The record and our draft are attached." in text
    assert all(f"{page_marker(number)} " in text for number in range(1, 41))
    assert "Clause 9: the landlord insures the building." in text
    assert "JVBERi" not in text and "UEsDB" not in text
    # And a search as `docproc search` makes one (hybrid) finds the DOCX's clause, in a chunk
    # extracted from the message
    query = "landlord insures building"
    dense, sparse = env.embedder.embed([query])[0], env.sparse.encode_query(query)
    hit = env.vectors.search(dense, "local", sparse=sparse)[0]
    assert "Clause 9" in hit.payload["text"] and hit.payload["extraction"] == extraction


def _peak_growth_mb(env: LocalEnvironment, path: Path) -> float:
    """What ingesting ``path`` adds to the process's peak, once a small message with a PDF
    has been ingested (the store open, the readers loaded: what every file adds alike)."""
    warm = email_message(
        "Warm", "Up.", attachments=[("a.pdf", "application/pdf", pdf_of_lines(["x"]))]
    )
    (path.parent / "warm.eml").write_bytes(warm.as_bytes())
    ingest(env, path.parent / "warm.eml", document_id="warm")
    reset_peak_rss()
    before = current_rss_mb()
    report = ingest(env, path, document_id=path.stem)
    assert report.status == "complete"
    return peak_rss_mb() - before


@pytest.mark.parametrize(
    ("suffix", "factor"),
    [("eml", MESSAGE_MEMORY_FACTOR), ("msg", outlook.MEMORY_FACTOR), ("dat", tnef.MEMORY_FACTOR)],
)
def test_a_message_is_read_within_the_memory_its_budget_assumes(
    env, tmp_path: Path, suffix: str, factor: float
):
    # Given a message that is one 30 MB PDF of scans (the worst case: the parsed message,
    # then the attachment decoded and read), as an e-mail (40 MB: base64) or from Outlook
    scans = image_pdf(tmp_path / "scans.pdf", 30_000_000, jpeg=True)
    path = _message_file(
        tmp_path / f"scans.{suffix}",
        "Scans",
        "Attached.",
        [("scans.pdf", "application/pdf", scans.read_bytes())],
    )
    # When it is ingested, then the process grew by less than the budget's check assumes
    # (an e-mail parsed from bytes was 7x the message)
    size_mb = path.stat().st_size / 2**20
    assert _peak_growth_mb(env, path) < size_mb * factor


def test_a_mailbox_is_read_a_message_at_a_time_across_its_ranges(tmp_path: Path):
    # Given a mailbox of 60 messages, every tenth with a PDF attached, cut into 4 KiB ranges
    messages = [
        email_message(
            f"Message {number}",
            f"Body of message {number}.",
            attachments=[("n.pdf", "application/pdf", pdf_of_lines([f"Exhibit {number}."]))]
            if number % 10 == 0
            else [],
        )
        for number in range(60)
    ]
    path = mailbox_file(tmp_path / "inbox.mbox", messages)
    env = LocalEnvironment(
        LocalSettings(DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, SEGMENT_BYTES=4096)
    )
    try:
        # When it is ingested
        report = ingest(env, path, document_id="inbox")
        assert report.status == "complete" and report.segments_total > 3
        keys = [k for k in env.store.list_keys("work/local/inbox/") if k.endswith(".jsonl")]
        chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    finally:
        env.close()
    # Then each message is in the chunks of one segment, with its attachment's text, and its
    # chunks point at its bytes in the mailbox
    data = path.read_bytes()
    by_message: dict[int, set[int]] = {}
    for chunk in chunks:
        by_message.setdefault(chunk["byte_start"], set()).add(chunk["segment"])
        message = data[chunk["byte_start"] : chunk["byte_end"]]
        assert message.startswith(b"From ") and b"Subject: " in message
    assert len(by_message) == 60 and all(len(s) == 1 for s in by_message.values())
    text = " ".join(" ".join(chunk["text"] for chunk in chunks).split())
    assert all(f"Subject: Message {n} Body of message {n}." in text for n in range(60))
    assert all(f"Attachment: n.pdf (application/pdf) Exhibit {n}." in text for n in (0, 30))


# Run in a process of its own: in the suite's process (~1 GB by then) the peak moved by a
# few MB with nothing of the message held, and the bound is a few MB from what it tells apart.
_REFUSE_IN_A_FRESH_PROCESS = """
import dataclasses, json, sys
from pathlib import Path
from docproc.config import LocalSettings
from docproc.errors import SegmentBudgetExceeded
from docproc.local.runner import LocalEnvironment, ingest
from docproc.models import SegmentTask
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import SegmentBudget, process_segment

home, warm, mailbox = (Path(arg) for arg in sys.argv[1:4])
env = LocalEnvironment(LocalSettings(DOCPROC_HOME=home, DOCPROC_WORKERS=1))
ingest(env, warm, document_id="warm")  # the readers, tokenizer and store loaded
key = "uploads/local/default/inbox/inbox.mbox"
upload = env.store.put_upload(key, mailbox)
plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
first = SegmentTask.model_validate(json.loads(env.store.get_bytes(plan.document.manifest_key))[0])
deps = dataclasses.replace(
    env.segment_deps(env.vectors), budget=SegmentBudget(max_rss_mb=current_rss_mb() + 20)
)
reset_peak_rss()
before = current_rss_mb()
try:
    process_segment(first, deps)
    refused = ""
except SegmentBudgetExceeded as error:
    refused = str(error)
grew = peak_rss_mb() - before
print(json.dumps({"grew": grew, "refused": refused, "version": plan.document.version}))
env.close()
"""


def test_a_mailbox_message_that_would_not_fit_its_segment_is_refused(tmp_path: Path):
    # Given a mailbox whose second message is 32 MB, read as a segment with 20 MB left
    big = email_message(
        "Scans", "Attached.", attachments=[("a.pdf", "application/pdf", bytes(24 << 20))]
    )
    path = mailbox_file(tmp_path / "inbox.mbox", [email_message("Hello", "Hi."), big])
    warm = mailbox_file(tmp_path / "warm.mbox", [email_message("Warm", "Up.")])
    home = tmp_path / "home"
    # When the segment both begin in runs, in a process of its own (a clean peak)
    out = subprocess.run(
        [sys.executable, "-c", _REFUSE_IN_A_FRESH_PROCESS, str(home), str(warm), str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    # Then it fails typed and recorded, naming the message's size, having held less than the
    # budget allows (the message is 32 MB; held up to the limit and then copied, it was 21 MB)
    asked = re.match(r"a message of 32 MB needs about (\d+) MB", result["refused"])
    assert asked and 32 * MESSAGE_MEMORY_FACTOR <= int(asked[1]) <= 33 * MESSAGE_MEMORY_FACTOR
    assert result["grew"] < 20, result
    record = SQLiteLedger(home / "ledger.sqlite3").get_segment(
        "local", "inbox", result["version"], 0
    )
    assert record.status == "failed" and "SegmentBudgetExceeded" in record.error


def _html_message(suffix: str, html: str) -> bytes:
    """A message whose body is ``html`` alone: an e-mail, an Outlook message, or Outlook's
    rich text (TNEF)."""
    if suffix == "msg":
        return outlook_message(OutlookMessage("Terms", html=html))
    if suffix == "dat":
        return tnef_stream(OutlookMessage("Terms", html=html))
    message = email_message("Terms", "unused")
    message.set_content(html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


@pytest.mark.parametrize(
    ("suffix", "read", "factor"),
    [
        ("eml", lambda data: message_text(io.BytesIO(data)), MESSAGE_MEMORY_FACTOR),
        ("msg", lambda data: outlook.msg_text(io.BytesIO(data)), outlook.MEMORY_FACTOR),
        ("dat", tnef.tnef_text, tnef.MEMORY_FACTOR),
    ],
)
def test_an_html_message_is_read_within_the_memory_its_budget_assumes(suffix, read, factor):
    # Given a message of about 15 MB whose body is HTML alone: 200,000 clauses, a character
    # beyond Latin-1 in each (the most a character costs as str: 2 bytes)
    clause = "<p>Clause {n}: the tenant keeps the premises in repair, Zoë\u2019s.</p>"
    data = _html_message(suffix, "".join(clause.format(n=n) for n in range(200_000)))
    # When it is read, Then the process grew by less than the budget's check assumes (red
    # before: 9.5x for the e-mail, 7x for the Outlook message, against 4: the HTML held as
    # text beside its bytes, and its text as a string for each piece until the end)
    text, grew = peak_growth_mb(lambda: read(data))
    assert grew < len(data) / 2**20 * factor
    assert text.count("Zoë\u2019s.") == 200_000


def test_an_ole_object_attached_to_an_outlook_message_is_found_by_what_it_says(env, tmp_path: Path):
    # Given a message from Outlook in rich text to which a Word 97-2003 letter is attached as
    # an OLE object (a storage of its own, not a file's bytes)
    letter = word_97_document("Clause 12: the guarantor answers for the tenant's rent.\r")
    message = OutlookMessage(
        "Guarantee",
        rtf=r"{\rtf1\ansi The signed guarantee is attached.\par}",
        attachments=[OleAttachment.of_file("Microsoft Word Document", letter)],
    )
    path = tmp_path / "guarantee.msg"
    path.write_bytes(outlook_message(message))
    # When it is ingested
    report = ingest(env, path, document_id="guarantee")
    # Then a search finds the letter's clause in a chunk of the message
    assert report.status == "complete"
    query = "guarantor answers for the rent"
    dense, sparse = env.embedder.embed([query])[0], env.sparse.encode_query(query)
    hit = env.vectors.search(dense, "local", sparse=sparse)[0]
    assert "Clause 12: the guarantor" in hit.payload["text"]
    assert hit.payload["document_id"] == "guarantee" and hit.payload["extraction"] == "outlook"


def test_an_ole_object_is_read_within_the_memory_an_outlook_message_s_budget_assumes(
    tmp_path: Path,
):
    # Given an Outlook message whose attachment is a 30 MB PDF of scans packaged by Windows'
    # Packager as an OLE object (the worst case: the object's streams, the compound file made
    # of them, the file unwrapped, then read)
    scans = image_pdf(tmp_path / "scans.pdf", 30_000_000, jpeg=True).read_bytes()
    exhibit = OleAttachment.of_file("Package", packaged_object("scans.pdf", scans))
    data = outlook_message(OutlookMessage("Scans", "Attached.", attachments=[exhibit]))
    del scans, exhibit
    # When it is read, Then the process grew by less than the budget's check assumes
    text, grew = peak_growth_mb(lambda: outlook.msg_text(io.BytesIO(data)))
    assert grew < len(data) / 2**20 * outlook.MEMORY_FACTOR
    assert "Attachment: Package (application/octet-stream)" in text
