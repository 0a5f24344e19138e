from __future__ import annotations

import base64
import itertools
import pickle
import random
import re
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generators import page_marker
from docproc.chunking import tokens
from docproc.chunking.chunker import Chunker
from docproc.chunking.packer import TokenPacker, _Layout, _union
from docproc.chunking.tokens import encoding, encoding_name_for_model, token_lengths
from docproc.errors import ConfigurationError
from docproc.extract.pages import PageText
from docproc.transcribe.port import Utterance, Word

CHUNKER = Chunker("text-embedding-3-small", chunk_tokens=128, overlap=16)


def _pages(count: int) -> list[PageText]:
    filler = "The parties agree to the terms below and to keep them. " * 25
    return [PageText(number=n, text=f"{page_marker(n)}\n{filler}") for n in range(1, count + 1)]


def test_chunks_know_their_pages():
    # Given 10 pages, each opening with its own marker
    pieces = list(CHUNKER.chunk_pages(_pages(10)))
    # Then every marker a chunk holds lies within the chunk's page range
    for piece in pieces:
        for number in re.findall(r"page number (\d+) ", piece.text):
            assert piece.page_start <= int(number) <= piece.page_end
    assert pieces[0].page_start == 1 and pieces[-1].page_end == 10
    assert sorted({p.page_start for p in pieces}) == list(range(1, 11))


def test_chunks_never_exceed_the_token_limit():
    pieces = list(CHUNKER.chunk_pages(_pages(5)))
    assert all(0 < piece.token_count <= 128 for piece in pieces)


def test_a_table_on_a_page_is_cut_between_rows_with_its_header_on_every_chunk():
    # Given a page of prose with a Markdown table (as the PDF extractor writes one) of 40 rows
    header = "| Exhibit | Party | Filed |\n| --- | --- | --- |"
    rows = [f"| E-{n:03d} | Defendant {n} | 2024-03-{n % 28 + 1:02d} |" for n in range(40)]
    prose = "The parties agree to the terms below and to keep them. " * 10
    page = PageText(number=1, text=f"{prose}\n\n{header}\n" + "\n".join(rows) + f"\n\n{prose}")
    # When it is chunked in chunks smaller than the table
    pieces = list(Chunker("text-embedding-3-small", chunk_tokens=64, overlap=8).chunk_pages([page]))
    # Then every row is whole in a chunk that opens with the table's header
    holders = [piece.text.splitlines() for piece in pieces if "| E-" in piece.text]
    assert len(holders) > 1
    assert all(lines[:2] == header.splitlines() for lines in holders)
    assert sorted(line for lines in holders for line in lines[2:]) == rows


def test_empty_pages_give_no_chunks():
    assert list(CHUNKER.chunk_pages([PageText(1, ""), PageText(2, "  \n")])) == []


def test_page_offsets_are_for_the_right_segment():
    # Pages 51..53 of a document: provenance uses document page numbers
    pages = [PageText(number=n, text=f"Page {n} text.") for n in (51, 52, 53)]
    (piece,) = CHUNKER.chunk_pages(pages)
    assert (piece.page_start, piece.page_end) == (51, 53)


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=3000),
    st.integers(min_value=0, max_value=10_000),
)
def test_byte_ranges_point_at_the_chunk_text(text: str, offset: int):
    data = text.encode()
    for piece in CHUNKER.chunk_text(text, offset):
        assert data[piece.byte_start - offset : piece.byte_end - offset].decode() == piece.text


def test_offline_vocabulary_is_tiktokens_own():
    # tiktoken pins this hash for cl100k_base; the vocabulary we load must be that file.
    enc = encoding("cl100k_base")
    assert enc.encode_ordinary("hello world") == [15339, 1917]
    assert enc.n_vocab == 100277


def test_the_vocabularys_python_dict_is_not_kept_once_the_encoding_is_built():
    # Given a process that has not loaded the vocabulary yet
    tokens._vocabulary.cache_clear()
    tracemalloc.start()
    try:
        # When it loads the encoding and the token lengths a chunker needs
        enc = encoding("cl100k_base")
        lengths = token_lengths("cl100k_base")
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then what Python holds is the lengths (0.8 MB), not the dict of 100,277 token bytes
    # (13-15 MB) that built the Rust core, which keeps its own copy
    assert held < 2 * 2**20
    # And the encoding and the lengths agree, and the encoding still pickles
    text = "The parties agree, héllo wörld."
    assert int(lengths[enc.encode_ordinary(text)].sum()) == len(text.encode())
    assert pickle.loads(pickle.dumps(enc)).encode_ordinary("hello world") == [15339, 1917]


def _spoken(text: str, start: float, speaker: int | None = None, step: float = 0.4) -> Utterance:
    return Utterance(
        words=[
            Word(word, start + n * step, start + n * step + 0.3, speaker)
            for n, word in enumerate(text.split())
        ]
    )


def test_speech_chunks_pack_utterances_and_keep_their_time_range():
    chunker = Chunker("text-embedding-3-small", 64, 0)
    pieces = list(
        chunker.chunk_speech([_spoken("the tenant shall pay", 2.0), _spoken("on time", 5.0)])
    )
    assert [(p.text, p.time_start, p.time_end) for p in pieces] == [
        ("the tenant shall pay on time", 2.0, 5.7)
    ]


def test_speech_chunks_cut_at_a_new_speaker_and_a_long_pause():
    chunker = Chunker("text-embedding-3-small", 64, 0)
    pieces = list(
        chunker.chunk_speech(
            [
                _spoken("good morning", 0.0, speaker=0),
                _spoken("morning counsel", 1.0, speaker=1),
                _spoken("shall we begin", 30.0, speaker=1),
            ]
        )
    )
    assert [(p.text, p.speaker) for p in pieces] == [
        ("good morning", 0),
        ("morning counsel", 1),
        ("shall we begin", 1),
    ]


def test_an_utterance_longer_than_a_chunk_is_cut_between_words():
    chunker = Chunker("text-embedding-3-small", 16, 0)
    words = " ".join(f"word{n}" for n in range(60))
    pieces = list(chunker.chunk_speech([_spoken(words, 0.0)]))
    assert len(pieces) > 1
    assert all(p.token_count <= 16 for p in pieces)
    assert " ".join(p.text for p in pieces) == words
    assert all(a.time_end <= b.time_start for a, b in itertools.pairwise(pieces))  # type: ignore[operator]


# The packer: every property below is checked against the tokenizer itself.
_TOKENS = encoding("cl100k_base").encode_ordinary
_PROSE = st.text(
    alphabet=st.sampled_from(list("ab cd.ef gh\n\n!?é漢🙂 xxxxxxxxxxxxxxx\t")), max_size=2500
)


def _packer(limit: int, overlap: int, window_chars: int = 1 << 18) -> TokenPacker:
    return TokenPacker(_TOKENS, token_lengths("cl100k_base"), limit, overlap, window_chars)


@settings(max_examples=300, deadline=None)
@given(
    _PROSE,
    st.sampled_from([4, 8, 32, 128]),
    st.integers(min_value=0, max_value=100),
    st.sampled_from([16, 200, 1 << 18]),
)
def test_packed_chunks_fit_overlap_and_cover_the_text(
    text: str, limit: int, overlap_wanted: int, window_chars: int
):
    # Given any text, a limit and an overlap below it, laid out a window at a time
    overlap = overlap_wanted % limit
    # When it is packed
    pieces = list(_packer(limit, overlap, window_chars).chunks(text))
    # Then each chunk is the text at its offset, with its exact token count within the limit
    for piece in pieces:
        assert text[piece.start : piece.start + len(piece.text)] == piece.text
        assert piece.tokens == len(_TOKENS(piece.text)) <= limit
    # and consecutive chunks either share at most `overlap` tokens or leave only space between
    for before, after in itertools.pairwise(pieces):
        before_end = before.start + len(before.text)
        assert after.start > before.start
        if after.start < before_end:
            assert len(_TOKENS(text[after.start : before_end].strip())) <= overlap
        else:
            assert not text[before_end : after.start].strip()
    # and nothing but space is left out at either end
    if pieces:
        assert not text[: pieces[0].start].strip()
        assert not text[pieces[-1].start + len(pieces[-1].text) :].strip()
    else:
        assert not text.strip()


# Letters (Latin, accented, CJK, a combining mark), digits, apostrophes, punctuation and every
# kind of space the pre-tokenizers treat differently (NBSP, a line separator, \x1c: a space to
# Python but not to the regex).
_MIXED = st.lists(
    st.sampled_from(
        [*"aZéжΩب漢\u0301'\u2019s19.,!?-()\"🙂 \t\n\r\u00a0\u2028\x1c", "ll", "ve", "  "]
    ),
    max_size=300,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    _MIXED,
    st.sampled_from(["cl100k_base", "o200k_base"]),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=40),
)
def test_a_spans_count_from_the_one_pass_is_its_count_on_its_own(
    text: str, name: str, first: int, second: int, margin: int
):
    # Given a text laid out from one tokenizer pass over a window that may start before the
    # span and end after it
    start, end = sorted((first % (len(text) + 1), second % (len(text) + 1)))
    begin, stop = max(0, start - margin), min(len(text), end + margin)
    encode = encoding(name).encode_ordinary
    layout = _Layout(text, begin, stop, encode, token_lengths(name))
    # When any span is counted, Then the count is the tokenizer's on the span alone
    assert layout.count(start, end) == len(encode(text[start:end]))


_SORTED_POSITIONS = st.sets(st.integers(min_value=0, max_value=60), max_size=40).map(
    lambda found: np.array(sorted(found), dtype=np.int64)
)


@given(_SORTED_POSITIONS, _SORTED_POSITIONS)
def test_the_union_of_two_levels_cuts_is_every_cut_once_in_order(
    first: np.ndarray, second: np.ndarray
):
    # Given two sorted arrays of distinct cuts (one level's and the next's), sharing some
    # When they are merged, Then each cut of either is there once, in order
    assert _union(first, second).tolist() == sorted(set(first.tolist()) | set(second.tolist()))


def test_packing_prefers_paragraphs_then_lines_then_sentences():
    # Given two paragraphs of ~30 tokens each, the second of two lines
    first = "The tenant shall pay the rent on the first day of each month without demand."
    second_a = "The landlord shall keep the roof and the walls in good repair at all times."
    second_b = "Either party may end this lease on ninety days notice in writing to the other."
    text = f"{first}\n\n{second_a}\n{second_b}"
    count = len(_TOKENS(text))
    # When the limit holds both paragraphs, one chunk; when it holds one, a chunk per paragraph
    assert [p.text for p in _packer(count, 0).chunks(text)] == [text]
    assert [p.text for p in _packer(count - 1, 0).chunks(text)] == [
        first,
        f"{second_a}\n{second_b}",
    ]
    # When a paragraph is too big, its lines; when a line is, its sentences, then words
    limit = len(_TOKENS(f"{second_a}\n{second_b}")) - 1
    assert [p.text for p in _packer(limit, 0).chunks(text)][1:] == [second_a, second_b]
    sentences = "Pay on time. Keep the roof sound. Give notice in writing."
    pieces = [p.text for p in _packer(len(_TOKENS(sentences)) - 1, 0).chunks(sentences)]
    assert pieces == ["Pay on time. Keep the roof sound.", "Give notice in writing."]


def test_overlap_is_the_largest_tail_of_whole_sentences_that_fits():
    # Given four sentences of 4 tokens each (3 words and a full stop; 16 in all)
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    # When chunks hold 12 tokens and may overlap by 8 (two sentences) or 7 (one)
    # Then the second chunk repeats as many whole sentences of the first as the overlap allows
    assert [p.text for p in _packer(12, 8).chunks(text)] == [
        "One two three. Four five six. Seven eight nine.",
        "Four five six. Seven eight nine. Ten eleven twelve.",
    ]
    assert [p.text for p in _packer(12, 7).chunks(text)] == [
        "One two three. Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_a_word_longer_than_a_chunk_is_cut_between_characters():
    word = "x" * 400
    pieces = list(_packer(16, 4).chunks(f"start {word} end"))
    assert all(p.tokens <= 16 for p in pieces)
    assert "".join(p.text for p in pieces).replace(" ", "") == f"start{word}end"


class _CountingTokenizer:
    """cl100k_base, counting the characters it is given."""

    def __init__(self) -> None:
        self.characters = 0

    def __call__(self, text: str) -> list[int]:
        self.characters += len(text)
        return _TOKENS(text)


_RNG = random.Random(3)
# A 200 KB base64 run (an attachment pasted into a text) and a 20,000-word sentence without
# punctuation (a transcript, OCR'd text): each far longer than a chunk, each a unit to cut.
_BLOB = base64.b64encode(_RNG.randbytes(150_000)).decode()
_LONG_SENTENCE = " ".join(
    "".join(_RNG.choices("abcdefghij", k=_RNG.randint(2, 9))) for _ in range(20_000)
)


@pytest.mark.parametrize("run", [_BLOB, _LONG_SENTENCE], ids=["base64", "words"])
def test_a_run_longer_than_a_chunk_is_read_a_few_times_not_once_per_chunk(run, monkeypatch):
    # Given a text around a run far longer than a chunk, and a count of the characters the
    # packer tokenizes and scans for the cuts between words
    text = f"Exhibit A.\n\n{run}\n\nThe end."
    tokenizer, scanned = _CountingTokenizer(), []
    words_between = _Layout.words_between
    monkeypatch.setattr(
        _Layout,
        "words_between",
        lambda layout, start, stop: (
            scanned.append(stop - start) or words_between(layout, start, stop)
        ),
    )
    packer = TokenPacker(tokenizer, token_lengths("cl100k_base"), 128, 16)
    # When it is packed
    pieces = list(packer.chunks(text))
    # Then every chunk fits, and the run is covered
    assert all(piece.tokens == len(_TOKENS(piece.text)) <= 128 for piece in pieces)
    assert len(pieces) > 500 and pieces[-1].text.endswith("The end.")
    # And each character was tokenized and scanned a few times, not once for every chunk cut
    # after it (before: ~570 and ~270 times, growing with the run: minutes at megabytes)
    assert tokenizer.characters <= 16 * len(text)
    assert sum(scanned) <= 2 * len(text)


class _SplitterGiven:
    """The Markdown splitter, keeping the texts it is given."""

    def __init__(self, splitter: Any) -> None:
        self._splitter = splitter
        self.texts: list[str] = []

    def chunk_indices(self, text: str) -> list[tuple[int, str]]:
        self.texts.append(text)
        return list(self._splitter.chunk_indices(text))


def test_markdown_around_a_data_uri_is_split_as_markdown_and_the_uri_by_characters():
    # Given Markdown with an image inlined as a 200 KB data: URI, and its splitter observed
    chunker = Chunker("text-embedding-3-small", chunk_tokens=128, overlap=0)
    uri = f"![scan](data:image/png;base64,{_BLOB})"
    text = f"# Exhibit A\n\nThe scan follows.\n\n{uri}\n\n## Notes\n\nSigned by both parties."
    splitter = _SplitterGiven(chunker._markdown)
    chunker.__dict__["_markdown"] = splitter
    # When it is chunked
    pieces = list(chunker.chunk_text(text, 1000, markdown=True))
    # Then the splitter was given the Markdown around the URI, and not the URI (its time grows
    # with the square of a run's length: ~25 s for 500 KB)
    assert [given.strip() for given in splitter.texts] == [
        "# Exhibit A\n\nThe scan follows.",
        "## Notes\n\nSigned by both parties.",
    ]
    # And the URI's chunks, in order, are the URI; every chunk fits, points at its bytes, and
    # the headings' sections are chunks of their own
    data = text.encode()
    for piece in pieces:
        assert piece.token_count == len(_TOKENS(piece.text)) <= 128
        assert data[piece.byte_start - 1000 : piece.byte_end - 1000].decode() == piece.text
    assert pieces[0].text == "# Exhibit A\n\nThe scan follows."
    assert "".join(piece.text for piece in pieces[1:-1]) == uri
    assert pieces[-1].text == "## Notes\n\nSigned by both parties."


# Runs of 128 characters without whitespace and longer are cut by the packer in its Markdown.
_SMALL_CHUNKS = Chunker("text-embedding-3-small", chunk_tokens=8, overlap=2)
_MARKDOWN_AND_RUNS = st.lists(
    st.one_of(
        st.text(alphabet=st.sampled_from(list("ab# \n*-.é漢")), max_size=60),
        st.text(alphabet=st.sampled_from(list("xyz/+=é")), min_size=100, max_size=400),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(_MARKDOWN_AND_RUNS)
def test_markdown_chunks_fit_and_point_at_their_bytes_runs_or_not(text: str):
    data = text.encode()
    pieces = list(_SMALL_CHUNKS.chunk_text(text, 0, markdown=True))
    for piece in pieces:
        assert data[piece.byte_start : piece.byte_end].decode() == piece.text
        assert piece.token_count == len(_TOKENS(piece.text)) <= 8
    assert [p.byte_start for p in pieces] == sorted(p.byte_start for p in pieces)


def test_a_model_without_an_offline_vocabulary_is_a_configuration_error():
    assert encoding_name_for_model("text-embedding-3-large") == "cl100k_base"
    assert encoding_name_for_model("gpt-4o") == "o200k_base"
    with pytest.raises(ConfigurationError, match="no-such-model"):
        Chunker("no-such-model", 128, 16)
    with pytest.raises(ConfigurationError, match="r50k_base"):
        encoding_name_for_model("davinci")
