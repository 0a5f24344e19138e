"""Format-aware extraction and chunking, and planning of every supported format."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import encoding
from docproc.errors import InvalidDocument
from docproc.extract import html
from docproc.extract.docx import docx_text
from docproc.extract.html import html_to_text
from docproc.extract.sniff import DOCX, EML, PAGED, PPTX, RTF
from docproc.extract.text import read_slice
from docproc.ledger.sqlite import SQLiteLedger
from docproc.models import BytesSegment, PagesSegment, SegmentTask, WholeSegment
from docproc.pipeline.plan import PlanOptions, plan_document
from tests.documents import (
    Slide,
    docx_file,
    email_message,
    epub,
    fb2_file,
    presentation,
    web_page,
    with_content_type,
    with_member_marked,
)
from tests.fakes import InMemoryObjectStore

CHUNKER = Chunker("text-embedding-3-small", chunk_tokens=64, overlap=0)
TOKENS = encoding("cl100k_base").encode_ordinary


def test_csv_header_heads_every_chunk_and_rows_stay_whole():
    header = "id,name,amount"
    rows = [f"{i},customer number {i},{i * 10}" for i in range(200)]
    text = "\n".join(rows) + "\n"
    pieces = list(CHUNKER.chunk_records(text, 1000, header))
    assert len(pieces) > 5
    seen = []
    for piece in pieces:
        lines = piece.text.split("\n")
        assert lines[0] == header
        seen.extend(lines[1:])
        assert piece.token_count <= 64
    assert seen == rows


def test_a_csv_row_larger_than_a_chunk_is_cut_to_fit_beside_its_header():
    # Given a header and a row of ~600 tokens among short rows
    header = "id,name,notes"
    giant = "7,alice," + " ".join(f"remark{i}" for i in range(300))
    text = f"1,bob,short\n{giant}\n9,carol,short\n"
    # When the rows are chunked at 64 tokens
    pieces = list(CHUNKER.chunk_records(text, 0, header))
    # Then every chunk, the giant row's pieces too, starts with the header and fits (before:
    # a piece of 64 tokens plus the header's)
    assert len(pieces) > 5
    for piece in pieces:
        assert piece.text.startswith(f"{header}\n")
        assert piece.token_count == len(TOKENS(piece.text)) <= 64
    # And the giant row is all there, in order
    cut = [p.text.removeprefix(f"{header}\n") for p in pieces if "remark" in p.text]
    assert " ".join(cut) == giant


def test_a_header_too_wide_to_repeat_is_left_off_and_rows_still_fit():
    # Given a header of 100 columns (~300 tokens), wider than a chunk of 64
    header = ",".join(f"column_{i}" for i in range(100))
    rows = [f"{i},{i * 2},{i * 3}" for i in range(60)]
    # When the rows are chunked
    pieces = list(CHUNKER.chunk_records("\n".join(rows) + "\n", 0, header))
    # Then they are grouped without the header, every chunk fitting (before: each row alone,
    # with the header, ~300 tokens)
    assert 1 < len(pieces) < len(rows)
    assert all(p.token_count == len(TOKENS(p.text)) <= 64 for p in pieces)
    assert "\n".join(p.text for p in pieces).split("\n") == rows


def test_jsonl_records_are_never_split_unless_larger_than_a_chunk():
    records = [json.dumps({"id": i, "note": "short"}) for i in range(50)]
    giant = json.dumps({"id": "big", "note": "word " * 400})
    text = "\n".join([*records[:25], giant, *records[25:]]) + "\n"
    data = text.encode()
    pieces = list(CHUNKER.chunk_records(text, 0))
    whole = [p for p in pieces if p.text.startswith("{") and p.text.endswith("}")]
    for piece in whole:
        for line in piece.text.split("\n"):
            json.loads(line)  # every record intact
    split = [
        p for p in pieces if "big" in p.text or ("word word" in p.text and "short" not in p.text)
    ]
    assert len(split) > 1, "the giant record is split like prose"
    for piece in pieces:
        assert data[piece.byte_start : piece.byte_end].decode().strip()


def test_markdown_is_cut_at_headings():
    # Each section fits a chunk, two do not: chunks are exactly the sections.
    sections = [f"# Section {i}\n\n" + ("Body text of the section. " * 7) for i in range(6)]
    pieces = list(CHUNKER.chunk_text("\n\n".join(sections), 0, markdown=True))
    assert [piece.text for piece in pieces] == [section.strip() for section in sections]


def test_html_text_drops_markup_scripts_and_styles():
    markup = (
        "<html><head><style>p{color:red}</style><script>var x = '<p>no</p>';</script></head>"
        "<body><h1>Title &amp; more</h1><p>First <b>bold</b> para.</p><ul><li>one</li>"
        "<li>two</li></ul><p>Unclosed <i>tag</body></html>"
    )
    lines = [line for line in html_to_text(markup).splitlines() if line]
    assert lines == ["Title & more", "First bold para.", "one", "two", "Unclosed tag"]


@pytest.mark.parametrize("piece", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("seed", [1, 2])
def test_html_is_laid_out_alike_whatever_the_pieces_it_is_read_in(
    monkeypatch, piece: int, seed: int
):
    # Given a web page (scripts, styles, comments, entities, blank lines), and the text of it
    # laid out in one piece
    markup = web_page(seed, 300) + "\n\n<p> &amp; Zoë\u2019s  end </p>\n\n"
    whole = html_to_text(markup)
    # When it is fed and laid out ``piece`` characters at a time, from text or from bytes
    monkeypatch.setattr(html, "_PIECE_CHARACTERS", piece)
    # Then the text is the same, character for character (no blank line at either end)
    assert html_to_text(markup) == whole
    assert html.html_bytes_to_text(markup.encode("utf-8"), "utf-8") == whole
    assert html.html_bytes_to_text(markup.encode("utf-16"), "utf-16") == whole
    assert whole == whole.strip() and "\n\n\n" not in whole and whole.endswith("Zoë\u2019s end")


def test_html_in_utf_16_without_a_byte_order_mark_is_read_as_its_whole_decoding_reads_it():
    # Given HTML in UTF-16 without a byte order mark (its incremental decoder refuses it)
    markup = "<p>Clause 1: rent.</p>".encode("utf-16-le")
    # When it is read as UTF-16, Then it is read as little-endian, as decoding it whole does
    assert html.html_bytes_to_text(markup, "utf-16") == "Clause 1: rent."


@pytest.mark.parametrize("segment_bytes", [97, 256, 1000, 4096])
@pytest.mark.parametrize("seed", [1, 2])
def test_html_read_in_ranges_gives_the_text_of_the_whole(segment_bytes: int, seed: int):
    # Given a web page cut into byte ranges, as Plan cuts an HTML file (where a range begins
    # inside a script, a style sheet, a comment or a tag of several lines)
    markup = web_page(seed, 400).encode()
    store = InMemoryObjectStore({KEY: markup})
    # When each range's text is read in the context of what precedes it
    words = []
    for start in range(0, len(markup), segment_bytes):
        end = min(start + segment_bytes, len(markup))
        owned = read_slice(store, KEY, None, start, end, len(markup))
        words += html.range_text(store, KEY, None, owned, len(markup)).split()
    # Then the ranges hold the words of the whole page, in order, and nothing hidden (before,
    # a range's scripts, styles, comments and the tails of tags were read as text)
    assert words == html_to_text(markup.decode()).split()
    assert not [word for word in words if "hidden" in word or "=" in word]


def test_docx_text_in_document_order(tmp_path: Path):
    path = docx_file(tmp_path / "a.docx", ["First paragraph.", "Second."], [["a", "b"], ["c", "d"]])
    assert docx_text(path) == ("First paragraph.\n\nSecond.\n\n| a | b |\n| --- | --- |\n| c | d |")


@pytest.mark.parametrize(
    "main",
    [
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    ],
    ids=["docm", "dotx", "dotm"],
)
def test_a_macro_enabled_document_or_a_template_reads_as_a_docx(tmp_path: Path, main: str):
    # Given a DOCX saved as a macro-enabled document or a template: the same parts, its main
    # one under another content type (python-docx refuses it: "not a Word file")
    path = docx_file(tmp_path / "a.docx", ["Clause 1."], [["a", "b"], ["c", "d"]])
    document_main = (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    data = with_content_type(path.read_bytes(), document_main, main)
    # When it is read, Then it reads as the DOCX does (it was InvalidDocument)
    assert docx_text(io.BytesIO(data)) == docx_text(path)


KEY = "uploads/acme/case/doc/file"


@pytest.fixture
def ledger(tmp_path: Path) -> SQLiteLedger:
    return SQLiteLedger(tmp_path / "ledger.sqlite3")


def _tasks(store: InMemoryObjectStore, plan) -> list[SegmentTask]:
    if plan.first_task:
        return [plan.first_task]
    return [SegmentTask.model_validate(t) for t in json.loads(store.objects[plan.manifest.key])]


@pytest.mark.parametrize("mark", ["compression", "encryption"])
def test_a_docx_whose_xml_zipfile_cannot_decompress_is_a_typed_error(tmp_path: Path, mark: str):
    # Given a DOCX whose document.xml says it is compressed by a method zipfile lacks (an
    # archiver's AES) or is encrypted (a damaged header reads the same)
    path = docx_file(tmp_path / "a.docx", ["Clause 1."])
    damaged = with_member_marked(path.read_bytes(), "word/document.xml", mark)
    # When it is read, Then it is InvalidDocument (it was an untyped NotImplementedError)
    with pytest.raises(InvalidDocument):
        docx_text(io.BytesIO(damaged))


def test_utf16_text_is_transcoded_once_and_cut_in_utf8(ledger):
    text = "Zeile \u00e4\u00f6\u00fc \u20ac number {}\n"
    content = "".join(text.format(i) for i in range(2000))
    store = InMemoryObjectStore({KEY + ".txt": content.encode("utf-16")})
    plan = plan_document(KEY + ".txt", None, store, ledger, PlanOptions(segment_bytes=8192))
    tasks = _tasks(store, plan)
    segments = [t.segment for t in tasks]
    assert all(isinstance(s, BytesSegment) for s in segments) and len(segments) > 3
    transcoded = store.objects[segments[0].input_key]
    assert segments[0].input_key == plan.document.transcoded_text_key
    assert transcoded.decode("utf-8") == content
    assert segments[-1].byte_end == len(transcoded) == segments[0].input_size


def test_csv_segments_carry_the_header(ledger):
    content = "id,name\n" + "".join(f"{i},n{i}\n" for i in range(3000))
    store = InMemoryObjectStore({KEY + ".csv": content.encode()})
    plan = plan_document(KEY + ".csv", None, store, ledger, PlanOptions(segment_bytes=8192))
    assert plan.document.media_type == "text/csv"
    assert {t.segment.header for t in _tasks(store, plan)} == {"id,name"}


@pytest.mark.parametrize(
    ("make", "suffix", "media_type"),
    [
        (
            lambda path: epub(path, [f"Chapter {i} text. " * 300 for i in range(4)]),
            ".epub",
            "application/epub+zip",
        ),
        # A FictionBook (XML) named .xml: the content, not the name, decides
        (
            lambda path: fb2_file(path, ["The witness stated the facts. " * 300] * 3),
            ".xml",
            "application/x-fictionbook+xml",
        ),
    ],
    ids=["epub", "fb2"],
)
def test_paged_formats_are_split_through_pymupdf(
    tmp_path: Path, ledger, make: Callable[[Path], Path], suffix: str, media_type: str
):
    # Given a multi-page document of this format
    path = make(tmp_path / "document")
    store = InMemoryObjectStore({KEY + suffix: path.read_bytes()})
    # When it is planned two pages a segment
    plan = plan_document(KEY + suffix, None, store, ledger, PlanOptions(segment_pages=2))
    # Then it is recognised, and split into sub-PDFs holding its pages, each page's text as
    # the document itself lays it out
    assert plan.document.media_type == media_type
    segments = [t.segment for t in _tasks(store, plan)]
    assert len(segments) >= 2 and all(isinstance(s, PagesSegment) for s in segments)
    pages = []
    for segment in segments:
        with pymupdf.open("pdf", store.objects[segment.input_key]) as sub_pdf:
            assert sub_pdf.page_count == segment.page_end - segment.page_start + 1
            pages += [page.get_text() for page in sub_pdf]
    with pymupdf.open(path, filetype=PAGED[media_type]) as document:
        assert pages == [page.get_text() for page in document]


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [(".docx", DOCX), (".pptx", PPTX), (".eml", EML), (".rtf", RTF)],
)
def test_documents_read_whole_are_one_whole_segment(
    tmp_path: Path, ledger, suffix: str, media_type: str
):
    # Given a document no range of which can be read alone, however large
    content = {
        ".docx": lambda: docx_file(tmp_path / "memo.docx", ["A memo."]).read_bytes(),
        ".pptx": lambda: presentation(tmp_path / "deck.pptx", [Slide("A memo.")]).read_bytes(),
        ".eml": lambda: email_message("Memo", "A memo.\n" * 200_000).as_bytes(),
        ".rtf": lambda: b"{\\rtf1\\ansi " + b"A memo.\\par " * 200_000 + b"}",
    }[suffix]()
    store = InMemoryObjectStore({KEY + suffix: content})
    # When it is planned with small segments
    plan = plan_document(KEY + suffix, None, store, ledger, PlanOptions(segment_bytes=4096))
    # Then it is one segment, read whole
    assert plan.document.media_type == media_type
    assert isinstance(plan.first_task.segment, WholeSegment)
