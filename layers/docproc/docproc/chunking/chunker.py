"""Token-aware chunking that keeps provenance (which pages each chunk came from)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from semantic_text_splitter import MarkdownSplitter

from docproc.chunking.packer import TokenPacker
from docproc.chunking.tokens import encoding, encoding_name_for_model, token_lengths
from docproc.extract.pages import PageText
from docproc.transcribe.port import Utterance, Word

# Speech: a pause this long ends a chunk (what follows is likely another exchange).
SPEECH_PAUSE_SECONDS = 10.0
# Pages are joined by a paragraph break so the splitter prefers to cut between them.
_PAGE_SEPARATOR = "\n\n"
# A Markdown table as the PDF extractor writes it (docproc.extract.tables): a header row, its
# separator row, body rows.
_MARKDOWN_TABLE = re.compile(r"^\|.*\|\n\|(?: --- \|)+\n(?:\|.*\|(?:\n|$))+", re.MULTILINE)
# What every match of it holds (its separator row): a text without it, most text, has no table,
# and looking for it is ~15x faster than the regex's scan of every line.
_TABLE_SEPARATOR = "| --- |"


# A run without whitespace of at least this many characters per token of a chunk is cut by the
# packer in Markdown (Chunker._markdown_pieces): longer than a chunk of almost any text, only a
# blob runs so long, and Markdown's structure never does.
_RUN_CHARS_PER_TOKEN = 16


@dataclass(frozen=True)
class ChunkPiece:
    text: str
    token_count: int
    page_start: int | None = None
    page_end: int | None = None
    byte_start: int | None = None
    byte_end: int | None = None
    time_start: float | None = None
    time_end: float | None = None
    speaker: int | None = None
    # The file inside an archive the text comes from (its pages are that file's).
    path: str | None = None


class Chunker:
    """Chunks of at most ``chunk_tokens`` tokens of ``model``'s tokenizer, overlapping by up to
    ``overlap`` tokens, cut at the largest semantic unit that fits (paragraph, line, sentence,
    word; Markdown: heading sections first)."""

    def __init__(self, model: str, chunk_tokens: int, overlap: int) -> None:
        name = encoding_name_for_model(model)
        # Special-token strings in documents are text, not control tokens: encode_ordinary.
        self._encode = encoding(name).encode_ordinary
        self._token_lengths = token_lengths(name)
        self._packer = TokenPacker(self._encode, self._token_lengths, chunk_tokens, overlap)
        self._model = model
        self._chunk_tokens = chunk_tokens
        self._overlap = overlap

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text))

    def _packer_for(self, limit: int) -> TokenPacker:
        if limit == self._chunk_tokens:
            return self._packer
        overlap = min(self._overlap, limit // 2)
        return TokenPacker(self._encode, self._token_lengths, limit, overlap)

    @cached_property
    def _markdown(self) -> MarkdownSplitter:
        # Markdown's structure (headings, lists, code blocks) is the splitter's: it sizes with
        # its own copy of the model's BPE (~26 MB, built on first use: most inputs never need it).
        return MarkdownSplitter.from_tiktoken_model(
            self._model, self._chunk_tokens, overlap=self._overlap
        )

    def chunk_pages(self, pages: Iterable[PageText]) -> Iterator[ChunkPiece]:
        starts: list[int] = []
        numbers: list[int] = []
        parts: list[str] = []
        offset = 0
        for page in pages:
            starts.append(offset)
            numbers.append(page.number)
            parts.append(page.text)
            offset += len(page.text) + len(_PAGE_SEPARATOR)
        text = _PAGE_SEPARATOR.join(parts)
        for start, end, chunk, tokens in self._page_pieces(text):
            first = numbers[bisect.bisect_right(starts, start) - 1]
            last = numbers[bisect.bisect_right(starts, end - 1) - 1]
            yield ChunkPiece(text=chunk, token_count=tokens, page_start=first, page_end=last)

    def _page_pieces(self, text: str) -> Iterator[tuple[int, int, str, int]]:
        """(start, end, text, tokens) of each chunk: prose packed, Markdown tables (as the
        PDF extractor writes them) cut between rows with their header on every chunk."""
        position = 0
        tables = _MARKDOWN_TABLE.finditer(text) if _TABLE_SEPARATOR in text else ()
        for table in tables:
            yield from self._prose(text[position : table.start()], position)
            yield from self._table_rows(table.group(0), table.start())
            position = table.end()
        yield from self._prose(text[position:], position)

    def _prose(self, text: str, offset: int) -> Iterator[tuple[int, int, str, int]]:
        for piece in self._packer.chunks(text):
            start = offset + piece.start
            yield start, start + len(piece.text), piece.text, piece.tokens

    def _table_rows(self, table: str, offset: int) -> Iterator[tuple[int, int, str, int]]:
        lines = table.rstrip("\n").split("\n")
        header = "\n".join(lines[:2])
        budget = self._chunk_tokens - self.count_tokens(header + "\n")
        if budget < self._chunk_tokens // 2:
            # A header too wide to repeat: the table is cut like prose.
            yield from self._prose(table, offset)
            return
        rows: list[str] = []
        tokens = 0
        start = position = offset + len(header) + 1
        for row in lines[2:]:
            row_tokens = self.count_tokens(row + "\n")
            if rows and tokens + row_tokens > budget:
                yield self._table_piece(header, rows, start, position)
                rows, tokens, start = [], 0, position
            if row_tokens > budget:
                # One row larger than a chunk: cut like prose, without the header.
                yield from self._prose(row, position)
                position += len(row) + 1
                start = position
                continue
            rows.append(row)
            tokens += row_tokens
            position += len(row) + 1
        if rows:
            yield self._table_piece(header, rows, start, position)

    def _table_piece(
        self, header: str, rows: list[str], start: int, end: int
    ) -> tuple[int, int, str, int]:
        body = header + "\n" + "\n".join(rows)
        return start, end - 1, body, self.count_tokens(body)

    def chunk_text(
        self, text: str, byte_offset: int, markdown: bool = False
    ) -> Iterator[ChunkPiece]:
        """Chunks of ``text`` with their byte range in the object (``text`` starts at
        ``byte_offset``); Markdown is cut at headings first, then paragraphs."""
        if markdown:
            return self._with_bytes(text, byte_offset, self._markdown_pieces(text))
        return self._text_pieces(text, byte_offset, self._packer)

    def _text_pieces(
        self, text: str, byte_offset: int, packer: TokenPacker
    ) -> Iterator[ChunkPiece]:
        pieces = ((piece.start, piece.text, piece.tokens) for piece in packer.chunks(text))
        return self._with_bytes(text, byte_offset, pieces)

    def _with_bytes(
        self, text: str, byte_offset: int, pieces: Iterable[tuple[int, str, int | None]]
    ) -> Iterator[ChunkPiece]:
        # Chunk offsets only grow: convert characters to bytes incrementally.
        last_char, last_byte = 0, byte_offset
        for char_offset, chunk, tokens in pieces:
            last_byte += len(text[last_char:char_offset].encode())
            last_char = char_offset
            yield ChunkPiece(
                text=chunk,
                token_count=self.count_tokens(chunk) if tokens is None else tokens,
                byte_start=last_byte,
                byte_end=last_byte + len(chunk.encode()),
            )

    def _markdown_pieces(self, text: str) -> Iterator[tuple[int, str, int | None]]:
        """(offset, text, tokens if known) of Markdown's chunks: the splitter's, but for a run
        without whitespace longer than any chunk (a base64 blob, a data: URI), which the
        packer cuts between characters: the splitter's time grows with the square of such a
        run's length (25 s at 500 KB, four times as long at twice the length)."""
        position = 0
        for run in self._long_run.finditer(text):
            yield from self._markdown_indices(text[position : run.start()], position)
            for piece in self._packer.chunks(run.group()):
                yield run.start() + piece.start, piece.text, piece.tokens
            position = run.end()
        yield from self._markdown_indices(text[position:], position)

    def _markdown_indices(self, text: str, offset: int) -> Iterator[tuple[int, str, None]]:
        for start, chunk in self._markdown.chunk_indices(text):
            yield offset + start, chunk, None

    @cached_property
    def _long_run(self) -> re.Pattern[str]:
        # From a run's first character only (the lookbehind), so a shorter run is read once.
        return re.compile(rf"(?<!\S)\S{{{_RUN_CHARS_PER_TOKEN * self._chunk_tokens},}}")

    def chunk_speech(self, utterances: Iterable[Utterance]) -> Iterator[ChunkPiece]:
        """Whole utterances packed into chunks of at most ``chunk_tokens`` tokens, cut where the
        speaker changes or after a long pause; an utterance too long for one chunk is cut
        between words. Each chunk spans its first word's start to its last word's end."""
        pending: list[Word] = []
        for utterance in utterances:
            for run in self._word_runs(utterance.words):
                if pending and (
                    run[0].speaker != pending[-1].speaker
                    or run[0].start - pending[-1].end > SPEECH_PAUSE_SECONDS
                    or self.count_tokens(_spoken([*pending, *run])) > self._chunk_tokens
                ):
                    yield self._speech_piece(pending)
                    pending = []
                pending.extend(run)
        if pending:
            yield self._speech_piece(pending)

    def _word_runs(self, words: list[Word]) -> Iterator[list[Word]]:
        """``words`` as runs of one speaker that each fit a chunk."""
        run: list[Word] = []
        for word in words:
            if run and (
                word.speaker != run[-1].speaker
                or self.count_tokens(_spoken([*run, word])) > self._chunk_tokens
            ):
                yield run
                run = []
            run.append(word)
        if run:
            yield run

    def _speech_piece(self, words: list[Word]) -> ChunkPiece:
        text = _spoken(words)
        return ChunkPiece(
            text=text,
            token_count=self.count_tokens(text),
            time_start=round(words[0].start, 3),
            time_end=round(words[-1].end, 3),
            speaker=words[0].speaker,
        )

    def chunk_records(
        self, records: str | Iterable[str], byte_offset: int, header: str | None = None
    ) -> Iterator[ChunkPiece]:
        """Whole lines (CSV rows, JSONL records, a sheet's rows) grouped up to the chunk size,
        never split unless one alone is larger than a chunk; a header (a CSV's row, a sheet's
        name and header row) starts every chunk. ``records`` is the lines' text, or the lines
        themselves, without their line ends, taken as they are needed (a sheet streamed)."""
        prefix = f"{header.rstrip()}\n" if header else ""
        budget = self._chunk_tokens - (self.count_tokens(prefix) if prefix else 0)
        if budget < self._chunk_tokens // 2:
            # A header too wide to repeat (as for a table): records are grouped without it.
            prefix, budget = "", self._chunk_tokens
        # A record larger than a chunk is cut to fit beside the header (a newline ends the
        # header, so their tokens add up).
        record_packer = self._packer_for(budget)
        lines: list[str] = []
        tokens = 0
        start = position = byte_offset
        lines_read = (
            records.splitlines(keepends=True)
            if isinstance(records, str)
            else (record + "\n" for record in records)
        )
        for line in lines_read:
            size = len(line.encode())
            if not line.strip():
                position += size
                if not lines:
                    start = position
                continue
            line_tokens = self.count_tokens(line)
            if lines and tokens + line_tokens > budget:
                yield self._record_piece(prefix, lines, start, position)
                lines, tokens, start = [], 0, position
            if line_tokens > budget:
                # One record larger than a chunk: split it like prose.
                for piece in self._text_pieces(line, position, record_packer):
                    yield ChunkPiece(
                        text=prefix + piece.text,
                        token_count=self.count_tokens(prefix + piece.text),
                        byte_start=piece.byte_start,
                        byte_end=piece.byte_end,
                    )
                position += size
                start = position
                continue
            lines.append(line)
            tokens += line_tokens
            position += size
        if lines:
            yield self._record_piece(prefix, lines, start, position)

    def _record_piece(self, prefix: str, lines: list[str], start: int, end: int) -> ChunkPiece:
        body = prefix + "".join(lines).rstrip("\r\n")
        return ChunkPiece(
            text=body, token_count=self.count_tokens(body), byte_start=start, byte_end=end
        )


def _spoken(words: list[Word]) -> str:
    return " ".join(word.text for word in words)
