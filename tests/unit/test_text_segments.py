"""Byte-range segments: every byte, and so every line, belongs to exactly one segment."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from docproc.extract.text import BOUNDARY_WINDOW, read_blocks, read_slice
from tests.fakes import InMemoryObjectStore

KEY = "uploads/t/c/d/f.txt"

lines = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80),
        st.just(""),
        st.text(alphabet="ab €", min_size=500, max_size=3000),  # one giant line
    ),
    max_size=60,
)


def _segments(data: bytes, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, len(data))) for start in range(0, len(data), size)]


@settings(max_examples=200, deadline=None)
@given(lines, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.integers(1, 700))
@example(parts=["\ufeff", "a"], newline="\n", trailing=False, segment_size=1)
def test_segments_partition_the_file(parts, newline, trailing, segment_size):
    text = newline.join(parts) + (newline if trailing else "")
    data = text.encode()
    store = InMemoryObjectStore({KEY: data})
    slices = [
        read_slice(store, KEY, None, a, b, len(data)) for a, b in _segments(data, segment_size)
    ]
    # Concatenated, the segments are the file: nothing lost, nothing read twice; a byte-order
    # mark that opens the file marks its encoding and is not text (a later U+FEFF is kept).
    assert "".join(s.text for s in slices) == text.removeprefix("\ufeff")
    assert [s.byte_start for s in slices[1:]] == [s.byte_end for s in slices[:-1]]
    # And each slice's byte range is exactly its text
    for piece in slices:
        assert data[piece.byte_start : piece.byte_end].decode() == piece.text


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(alphabet="xyz€\t ", max_size=50), min_size=1, max_size=40), st.integers(4, 200)
)
def test_lines_start_in_exactly_one_segment(parts, segment_size):
    text = "\n".join(parts) + "\n"
    data = text.encode()
    store = InMemoryObjectStore({KEY: data})
    owned = [
        read_slice(store, KEY, None, a, b, len(data)).text for a, b in _segments(data, segment_size)
    ]
    # A segment that ends on a line boundary ends with a newline (lines are never split
    # when they are shorter than the boundary window).
    assert "".join(owned).splitlines() == text.splitlines()
    assert all(s == "" or s.endswith("\n") for s in owned)


@settings(max_examples=200, deadline=None)
@given(lines, st.integers(1, 700), st.integers(1, 400))
def test_a_segment_s_blocks_are_its_text_in_order(parts, segment_size, block_bytes):
    # Given a file cut into segments
    text = "\n".join(parts)
    data = text.encode()
    store = InMemoryObjectStore({KEY: data})
    for a, b in _segments(data, segment_size):
        # When a segment is read a block at a time
        blocks = list(read_blocks(store, KEY, None, a, b, len(data), block_bytes))
        owned = read_slice(store, KEY, None, a, b, len(data))
        # Then its blocks are its text, one after another, each its own byte range
        assert "".join(block.text for block in blocks) == owned.text
        assert [block.byte_start for block in blocks[1:]] == [
            block.byte_end for block in blocks[:-1]
        ]
        for block in blocks:
            assert data[block.byte_start : block.byte_end].decode() == block.text
            # and none is much longer than a block: it ends at the first cut point after one
            assert block.byte_end - block.byte_start <= block_bytes + BOUNDARY_WINDOW + 1
        if blocks:
            assert (blocks[0].byte_start, blocks[-1].byte_end) == (
                owned.byte_start,
                owned.byte_end,
            )


def test_a_segment_reads_little_more_than_its_range():
    data = ("x" * 99 + "\n").encode() * 10_000  # 1 MB
    store = InMemoryObjectStore({KEY: data})
    read_slice(store, KEY, None, 500_000, 600_000, len(data))
    # Its own 100 kB plus two boundary probes of at most 64 KiB each.
    assert store.bytes_read < 100_000 + 2 * 65_537 + 200
