from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generators import page_marker
from docproc.chunking.chunker import Chunker
from docproc.chunking.tokens import encoding
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
