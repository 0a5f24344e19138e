"""Cutting prose into chunks of at most N tokens, tokenizing the text once.

semantic-text-splitter finds the same kind of cuts but sizes every candidate chunk by
tokenizing it again, which on a 50-page segment is most of the chunking time. Here the text is
tokenized once (the model's own BPE), so the token position of every candidate cut is known,
and each chunk is packed greedily with the largest units that fit, as the splitter does: whole
paragraphs if one fits, else whole lines, else sentences, else words, else characters.

Positions from the one pass are an estimate (a token may straddle a cut), so every chunk's
count is made exact as it would be counted on its own, as it is sent: when that count is over
the limit the chunk gives back its last unit. The limit is exact in the model's tokens; so is
the overlap, the largest tail of the previous chunk's units of at most ``overlap`` tokens.

The exact count does not tokenize the chunk again. A BPE tokenizer cuts text into pieces by a
regular expression first and merges bytes only within a piece; in cl100k_base and o200k_base
no piece runs from a letter into the whitespace after it. So at every such word end both the
chunk on its own and the one pass start a piece, and between the chunk's first and last word
ends the two give the same tokens: the count is the one pass's tokens between them plus the
chunk's head and tail tokenized on their own (a word or two each).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Positions = npt.NDArray[np.int64]

# Where a chunk may end: the start of the whitespace between two units. Words are found only
# inside a sentence too long for a chunk.
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")
# Character classes by code point, as bit flags: whitespace (what str.isspace() and so the
# regex \s call whitespace), a sentence's end, a closing quote or bracket. The last entry
# stands for every code point past the table (none of them is in a class).
_SPACE, _END, _CLOSE, _LETTER = 1, 2, 4, 8
_CLASSES = np.zeros(0x3002, dtype=np.uint8)
_CLASSES[[c for c in range(0x3001) if chr(c).isspace()]] |= _SPACE
# str.isalpha() is the regex class \p{L}. Letters past the table count as none: a word end
# missed only makes a chunk's head or tail longer, never its count wrong.
_CLASSES[[c for c in range(0x3001) if chr(c).isalpha()]] |= _LETTER
_CLASSES[[ord(c) for c in ".!?;:"]] |= _END
_CLASSES[[ord(c) for c in "\"')]\u201d\u2019\u00bb"]] |= _CLOSE  # closing quotes, guillemet
_WORD = re.compile(r"(?<=\S)\s")
# Characters tokenized and laid out at a time (~64k tokens of prose).
_WINDOW_CHARS = 1 << 18
# How many tokens a text's own count may exceed the one pass's tokens in it (its head and tail
# tokenized apart): a margin past the limit wherever the one pass says where a chunk can end.
_MARGIN_TOKENS = 8


class Encode(Protocol):
    """A tokenizer: tiktoken's ``Encoding.encode_ordinary`` of cl100k_base or o200k_base (the
    exact count relies on their pre-tokenizers: see the module's docstring)."""

    def __call__(self, text: str) -> list[int]: ...


@dataclass(frozen=True)
class Piece:
    start: int  # character offset of ``text`` in the packed text
    text: str
    tokens: int


class TokenPacker:
    def __init__(
        self,
        encode: Encode,
        token_bytes: Positions,
        chunk_tokens: int,
        overlap: int,
        window_chars: int = _WINDOW_CHARS,
    ) -> None:
        """``token_bytes``: the length in bytes of each token, by id; ``window_chars``: how
        much text is tokenized and laid out at a time (it grows when a chunk needs more)."""
        if not 0 <= overlap < chunk_tokens:
            raise ValueError("overlap must be below the chunk size")
        self._window_chars = window_chars
        self._encode = encode
        self._token_bytes = token_bytes
        self._limit = chunk_tokens
        self._overlap = overlap

    def count(self, text: str) -> int:
        return len(self._encode(text))

    def chunks(self, text: str) -> Iterator[Piece]:
        if not text.strip():
            return
        layout = self._layout(text, 0)
        start = covered = 0
        while True:
            start = layout.skip_space(start)
            if start >= len(text):
                return
            if not layout.holds_a_chunk_from(start, self._limit):
                layout = self._layout(text, start)
            found = self._next_chunk(layout, start, max(start, covered))
            if found is None:  # the overlap leaves no room for the next unit: drop it
                start = covered
                continue
            piece, covered, units = found
            yield piece
            if layout.skip_space(covered) >= len(text):
                return
            start = self._overlap_start(layout, units, start, covered)

    def _layout(self, text: str, start: int) -> _Layout:
        """The layout of a window of ``text`` from ``start`` that holds the next chunk: a window
        at a time keeps memory flat (the one pass's tokens are a Python list, ~40 bytes each)."""
        size = self._window_chars
        while True:
            layout = _Layout(
                text, start, min(len(text), start + size), self._encode, self._token_bytes
            )
            if layout.holds_a_chunk_from(start, self._limit):
                return layout
            size *= 2

    def _next_chunk(
        self, layout: _Layout, start: int, after: int
    ) -> tuple[Piece, int, Positions] | None:
        """The chunk from ``start`` that ends after ``after`` (past the previous chunk): whole
        units of the coarsest level that fits, where it ends, and that level's cuts."""
        for cuts, cut_tokens in layout.levels:
            found = self._pack(layout, start, after, cuts, cut_tokens)
            if found is not None:
                return (*found, cuts)
        # A sentence longer than a chunk: pack its words, those a chunk from start can reach
        # (not every word to the sentence's end: a sentence may be a whole run of the text).
        reach = layout.reach(start, self._limit + _MARGIN_TOKENS)
        words = layout.words(start, after, reach)
        found = self._pack(layout, start, after, words, layout.tokens_before(words))
        if found is not None:
            return (*found, words)
        if start < after:
            return None
        # A run with no space in it, longer than a chunk: cut it between characters.
        stop = int(words[0])
        return (*self._cut_characters(layout, start, stop, reach), np.array([], dtype=np.int64))

    def _pack(
        self, layout: _Layout, start: int, after: int, cuts: Positions, cut_tokens: Positions
    ) -> tuple[Piece, int] | None:
        """The longest run of whole units from ``start`` to one of ``cuts`` past ``after``
        that fits."""
        first = int(cuts.searchsorted(after, side="right"))
        budget = layout.token_at(start) + self._limit
        last = int(cut_tokens.searchsorted(budget, side="right")) - 1
        # The estimate may be a token out either way: count, and give units back while over.
        for index in range(last, first - 1, -1):
            end = int(cuts[index])
            piece = layout.piece(start, end)
            if piece.tokens > self._limit:
                continue
            # Stripping and the cuts' own tokenization rarely make a chunk more than two
            # tokens smaller than its estimate.
            if index == last and last + 1 < len(cuts) and cut_tokens[last + 1] <= budget + 2:
                grown = layout.piece(start, int(cuts[last + 1]))
                if grown.tokens <= self._limit:  # the estimate was a token short
                    return grown, int(cuts[last + 1])
            return piece, end
        return None

    def _cut_characters(
        self, layout: _Layout, start: int, stop: int, reach: int
    ) -> tuple[Piece, int]:
        """The longest prefix of ``text[start:stop]`` that fits. It is searched for up to
        ``reach``, about where the one pass puts the limit, and further only while that still
        fits: a search to ``stop``, which may be the end of a run of megabytes (a base64 blob),
        would tokenize the run over and over for every chunk cut from it."""
        high = min(stop, max(reach, start + 1))
        while high < stop and self.count(layout.text[start:high]) <= self._limit:
            high = min(stop, start + 2 * (high - start))
        low = start + 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.count(layout.text[start:middle]) <= self._limit:
                low = middle
            else:
                high = middle - 1
        return layout.piece(start, low), low

    def _overlap_start(self, layout: _Layout, units: Positions, start: int, end: int) -> int:
        """Where the next chunk starts: the earliest cut between the chunk's units after which
        at most ``overlap`` tokens of it remain; the chunk's end when none does. Units of the
        chunk's own level, as semantic-text-splitter does: chunks of whole paragraphs share no
        part of one (a paragraph's end is a clean break), chunks of sentences share sentences."""
        if self._overlap == 0:
            return end
        first = int(units.searchsorted(start, side="right"))
        stop = int(units.searchsorted(end, side="left"))
        floor = layout.token_at(end) - self._overlap
        estimate = first + int(np.searchsorted(layout.tokens_before(units[first:stop]), floor))
        for index in range(max(estimate - 1, first), stop):
            cut = int(units[index])
            if layout.piece(cut, end).tokens <= self._overlap:
                return cut
        return end


class _Layout:
    """The candidate cuts by level and the tokens' positions in ``text[begin:end]``, from one
    pass of each; positions are offsets in ``text``."""

    def __init__(
        self, text: str, begin: int, end: int, encode: Encode, token_bytes: Positions
    ) -> None:
        self.text = text
        self._encode = encode
        window = text[begin:end]
        self._complete = end == len(text)
        self._end = end
        ascii_only = window.isascii()
        code_points = (
            np.frombuffer(window.encode("ascii"), dtype=np.uint8)
            if ascii_only
            else np.frombuffer(window.encode("utf-32-le"), dtype=np.uint32)
        )
        tokens = encode(window)
        self._token_starts = begin + _token_starts(window, ascii_only, tokens, token_bytes)
        paragraphs = begin + _matches(_PARAGRAPH, window)  # few: a regex is cheap enough
        lines = begin + np.flatnonzero(code_points == ord("\n"))
        # A sentence ends at the whitespace after . ! ? ; or : (or after a quote or bracket
        # closing right after one of them).
        classes = (
            _CLASSES[code_points]
            if ascii_only
            else _CLASSES[np.minimum(code_points, len(_CLASSES) - 1)]
        )
        space = (classes & _SPACE).astype(bool)
        ends = (classes & _END).astype(bool)
        closes = (classes & _CLOSE).astype(bool)
        ended = np.zeros_like(space)
        ended[1:] = ends[:-1]
        ended[2:] |= closes[1:-1] & ends[:-2]
        sentences = begin + np.flatnonzero(space & ended)
        # Where a letter meets the whitespace after it: a piece starts there in any BPE pass.
        letters = (classes & _LETTER).astype(bool)
        self._word_ends = begin + 1 + np.flatnonzero(letters[:-1] & space[1:])
        # Each level includes the coarser ones (a paragraph break is also a line break) and
        # the window's end (a chunk ends there only at the text's end: see holds_a_chunk_from).
        cuts = np.array([end], dtype=np.int64)
        self.levels: list[tuple[Positions, Positions]] = []
        for found in (paragraphs, lines, sentences):
            cuts = _union(cuts, found)
            self.levels.append((cuts, self.tokens_before(cuts)))

    def holds_a_chunk_from(self, start: int, limit: int) -> bool:
        """Whether every cut a chunk from ``start`` may take is in the window (with a margin:
        the window's last tokens may differ from the text's)."""
        return (
            self._complete
            or len(self._token_starts) - self.token_at(start) > limit + _MARGIN_TOKENS
        )

    def token_at(self, position: int) -> int:
        """How many tokens start before ``position`` (in the window)."""
        return int(self._token_starts.searchsorted(position, side="left"))

    def tokens_before(self, positions: Positions) -> Positions:
        counts: Positions = np.searchsorted(self._token_starts, positions, side="left")
        return counts

    def skip_space(self, position: int) -> int:
        text = self.text
        while position < len(text) and text[position].isspace():
            position += 1
        return position

    def words(self, start: int, after: int, reach: int) -> Positions:
        """Cuts between words from ``start`` to the end of the sentence that ``after`` is in,
        none past ``reach`` but that end."""
        sentences = self.levels[-1][0]
        stop = int(sentences[sentences.searchsorted(after, side="right")])
        return np.union1d(self.words_between(start, min(stop, max(reach, after))), [stop])

    def reach(self, start: int, tokens: int) -> int:
        """Where the one pass's ``tokens``-th token from ``start`` starts (the window's end if
        it holds fewer): no chunk from ``start`` of fewer tokens ends past it."""
        index = self.token_at(start) + tokens
        if index >= len(self._token_starts):
            return self._end
        return int(self._token_starts[index])

    def words_between(self, start: int, stop: int) -> Positions:
        return np.fromiter(
            (m.start() for m in _WORD.finditer(self.text, start, stop)), dtype=np.int64
        )

    def piece(self, start: int, end: int) -> Piece:
        raw = self.text[start:end]
        text = raw.strip()
        first = start + len(raw) - len(raw.lstrip())
        return Piece(start=first, text=text, tokens=self.count(first, first + len(text)))

    def count(self, start: int, end: int) -> int:
        """The tokens of ``text[start:end]`` on its own: its head and tail, up to its first and
        from its last word end, tokenized, and the one pass's tokens between (see the module's
        docstring)."""
        ends = self._word_ends
        first = int(ends.searchsorted(start, side="left"))
        last = int(ends.searchsorted(end, side="right")) - 1
        if first > last:
            return len(self._encode(self.text[start:end]))
        head, tail = int(ends[first]), int(ends[last])
        return (
            len(self._encode(self.text[start:head]))
            + self.token_at(tail)
            - self.token_at(head)
            + len(self._encode(self.text[tail:end]))
        )


def _token_starts(
    window: str, ascii_only: bool, tokens: list[int], token_bytes: Positions
) -> Positions:
    """The character offset in ``window`` at which each of its tokens starts."""
    lengths = token_bytes[np.asarray(tokens, dtype=np.int64)]
    byte_starts = np.cumsum(lengths) - lengths
    if ascii_only:
        return byte_starts
    # The character each byte of the UTF-8 text is part of (a continuation byte is 10xxxxxx):
    # a token may start inside a character (BPE works on bytes), and counts from that one.
    encoded = np.frombuffer(window.encode("utf-8"), dtype=np.uint8)
    character_of_byte = np.cumsum((encoded & 0xC0) != 0x80, dtype=np.int64) - 1
    starts: Positions = character_of_byte[byte_starts]
    return starts


def _union(first: Positions, second: Positions) -> Positions:
    """The sorted positions in either of two sorted arrays of distinct positions. np.union1d
    sorts them anew (as np.unique does); a stable sort of int64 (timsort) finds the two runs
    and merges them: 0.02 ms where union1d took 0.56 for a window's cuts."""
    both = np.concatenate((first, second))
    both.sort(kind="stable")
    distinct = np.empty(len(both), dtype=np.bool_)
    distinct[:1] = True
    np.not_equal(both[1:], both[:-1], out=distinct[1:])
    union: Positions = both[distinct]
    return union


def _matches(pattern: re.Pattern[str], text: str) -> Positions:
    return np.fromiter((m.start() for m in pattern.finditer(text)), dtype=np.int64)
