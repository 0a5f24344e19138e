"""Tables kept as tables: found on PDF pages, written as Markdown, chunked between rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.generators import TableTruth, tables_pdf, text_pdf
from docproc.config import LocalSettings
from docproc.extract import pdf
from docproc.local.runner import LocalEnvironment, ingest
from tests.documents import docx_file


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def _chunks(env: LocalEnvironment, document_id: str) -> list[dict]:
    record = env.ledger.get_document("local", document_id)
    return [
        json.loads(line)
        for segment in env.ledger.list_segments("local", document_id, record.version)
        for line in env.store.get_bytes(segment.output_key).decode().splitlines()
    ]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TableTruth]]:
    path = tmp_path_factory.mktemp("tables") / "tables.pdf"
    return path, tables_pdf(path)


def test_every_table_reads_as_markdown_rows_in_order(tables):
    # Given ruled and borderless tables of known cells, one with a merged header cell and one
    # across a page break, between paragraphs
    path, truths = tables
    # When the pages are extracted with tables on
    text = "\n".join(page.text for page in pdf.extract_pages(path, 1, 3, tables="auto"))
    lines = text.splitlines()
    for truth in truths:
        # Then every row is one Markdown row, its cells in order, the rows in order
        positions = [lines.index(_row(row)) for row in truth.rows]
        assert positions == sorted(positions), truth.kind
        # And a header row heads the table, with its separator below it
        header = [n for n, line in enumerate(lines) if line.startswith(_row(truth.header)[:-1])]
        assert header and header[0] < positions[0], truth.kind
        assert re.fullmatch(r"\|( --- \|)+", lines[header[0] + 1]), truth.kind
    # And the page break's continuation is headed by the header of the table it continues
    break_rows = truths[-1].rows
    continuation = lines.index(_row(break_rows[10]))
    assert lines[continuation - 2] == _row(truths[-1].header)
    # And the prose around the tables keeps its order
    assert text.index(_row(truths[0].rows[-1])) < text.index(_row(truths[1].rows[0]))


def test_tables_off_keeps_the_plain_text(tables):
    path, truths = tables
    text = "\n".join(page.text for page in pdf.extract_pages(path, 1, 3, tables="off"))
    assert "| --- |" not in text
    assert truths[0].rows[0][0] in text  # the cells are still there, as loose lines


def test_prose_is_never_taken_for_a_table(tmp_path: Path):
    path = text_pdf(tmp_path / "prose.pdf", pages=20)
    auto = [page.text for page in pdf.extract_pages(path, 1, 20, tables="auto")]
    off = [page.text for page in pdf.extract_pages(path, 1, 20, tables="off")]
    assert auto == off


def test_a_long_table_is_chunked_between_rows_with_its_header_on_every_chunk(
    tables, tmp_path: Path
):
    # Given the tables document and chunks of 64 tokens (smaller than any table)
    path, truths = tables
    env = LocalEnvironment(
        LocalSettings(
            DOCPROC_HOME=tmp_path / "home", DOCPROC_WORKERS=1, CHUNK_TOKENS=64, CHUNK_OVERLAP=8
        )
    )
    try:
        # When it is ingested
        ingest(env, path, document_id="tables")
        chunks = _chunks(env, "tables")
    finally:
        env.close()
    # Then every row is whole in a chunk that starts with its table's header
    for truth in truths:
        for row in truth.rows:
            holders = [chunk for chunk in chunks if _row(row) in chunk["text"].splitlines()]
            assert holders, (truth.kind, row)
            for chunk in holders:
                table_lines = [line for line in chunk["text"].splitlines() if line.startswith("|")]
                assert table_lines[0].startswith(_row(truth.header)[:-1]), (truth.kind, chunk)
    assert all(chunk["token_count"] <= 64 for chunk in chunks)


def test_a_docx_s_long_table_is_chunked_between_rows_with_its_header_on_every_chunk(
    env, tmp_path: Path
):
    # Given a DOCX of a clause and a schedule of 300 payments (a table much longer than a
    # chunk)
    header = ("Payment", "Due", "Amount")
    rows = [(f"P-{n:03d}", f"2025-{n % 12 + 1:02d}-01", f"{1000 + n}") for n in range(300)]
    path = docx_file(
        tmp_path / "schedule.docx", ["Clause 4: payments as scheduled."], [list(header), *rows]
    )
    # When it is ingested
    ingest(env, path, document_id="schedule")
    chunks = _chunks(env, "schedule")
    # Then every payment is whole in one chunk, and every chunk of the table starts with its
    # header (before, the rows were loose "a | b" lines, cut like prose)
    holders = {row: [c for c in chunks if _row(row) in c["text"].splitlines()] for row in rows}
    assert all(len(found) == 1 for found in holders.values())
    table_chunks = [c for c in chunks if "| P-" in c["text"]]
    assert len(table_chunks) > 3
    for chunk in table_chunks:
        table_lines = [line for line in chunk["text"].splitlines() if line.startswith("|")]
        assert table_lines[:2] == [_row(header), "| --- | --- | --- |"], chunk["text"][:200]
    # And a DOCX's chunks say no page (it has none)
    assert all(c["page_start"] is None for c in chunks)
