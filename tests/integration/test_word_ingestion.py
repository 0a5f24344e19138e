"""Word 97-2003 documents on the laptop and read by range: their text found by search, their
pictures never read, within the memory their budget assumes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from docproc.extract.doc import MEMORY_FACTOR, doc_text
from docproc.local.runner import ingest
from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from tests.documents import word_97_document
from tests.fakes import ReadsCounted


def test_a_word_document_is_found_by_what_it_says_its_pictures_unread(env, tmp_path: Path):
    # Given a Word 97-2003 document of 200 clauses, a table and a footnote, with 30 MB of
    # pictures, named without its extension
    clauses = "".join(f"Clause {n}: the tenant keeps the premises in repair.\r" for n in range(200))
    table = "Term\x07Value\x07\x1dDeposit\x0712,000\x07\x1d\r"
    data = word_97_document(
        clauses + table, {"footnotes": "\x02 Payable on signing.\r"}, pictures=30 << 20
    )
    path = tmp_path / "lease"
    path.write_bytes(data)
    key = "uploads/local/default/lease/lease"
    upload = env.store.put_upload(key, path)
    plan = plan_document(key, upload.version_id, env.store, env.ledger, env.plan_options())
    # When its one segment runs, reading by range
    reads = ReadsCounted(env.store)
    result = process_segment(
        plan.first_task, dataclasses.replace(env.segment_deps(env.vectors), store=reads)
    )
    # Then it read the file's directory and tables and the text's streams (each read with a
    # MiB after it: ~3.5 MiB here), not the 30 MB of pictures, and made no copy
    assert result.chunks > 1 and reads.copies == [] and reads.bytes_read < 5 << 20
    # And every clause, the table's row and the footnote are in its chunks, from "doc"
    keys = [k for k in env.store.list_keys("work/local/lease/") if k.endswith(".chunks.jsonl")]
    chunks = [json.loads(line) for k in keys for line in env.store.get_bytes(k).splitlines()]
    text = "\n".join(chunk["text"] for chunk in chunks)
    assert all(f"Clause {n}: the tenant" in text for n in range(200))
    assert "| Term | Value |\n| --- | --- |\n| Deposit | 12,000 |" in text
    assert "Footnotes:\nPayable on signing." in text
    assert {chunk["extraction"] for chunk in chunks} == {"doc"}


def test_a_word_document_is_ingested_by_the_command_s_runner(env, tmp_path: Path):
    path = tmp_path / "memo.doc"
    path.write_bytes(word_97_document("The landlord insures the building.\r"))
    report = ingest(env, path, document_id="memo")
    assert report.status == "complete" and report.chunks_total == 1
    hit = env.vectors.search(env.embedder.embed(["landlord insures"])[0], "local")[0]
    assert hit.payload["text"] == "The landlord insures the building."


def test_a_word_document_is_read_within_the_memory_its_budget_assumes(tmp_path: Path):
    # Given a document of 6 MB of streams, its text with a character beyond Latin-1
    # (the most a character costs as str: 2 bytes)
    clause = "The tenant keeps the premises in repair, Zoë\u2019s clause {n}.\r"
    path = tmp_path / "long.doc"
    path.write_bytes(word_97_document("".join(clause.format(n=n) for n in range(70_000))))
    streams_mb = path.stat().st_size / 2**20
    # When it is read, Then the process grew by less than the budget's check assumes
    reset_peak_rss()
    before = current_rss_mb()
    text = doc_text(path)
    assert peak_rss_mb() - before < streams_mb * MEMORY_FACTOR
    assert text.count("Zoë\u2019s clause") == 70_000
