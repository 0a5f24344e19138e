"""Compound files written from streams (docproc.extract.compound): what olefile reads back."""

from __future__ import annotations

import io
import random

import olefile

from docproc.extract.compound import compound_file


def test_a_compound_file_reads_back_as_the_streams_it_was_written_from():
    # Given streams in storages within storages, on both sides of the mini stream's cutoff
    # (4,096 bytes), empty, and one of 8 MB (more FAT sectors than the header lists: DIFAT)
    rng = random.Random(5)
    streams = {
        "WordDocument": rng.randbytes(4096),
        "1Table": rng.randbytes(4095),
        "\x01CompObj": rng.randbytes(100),
        "empty": b"",
        "ObjectPool/_1234/\x01Ole10Native": rng.randbytes(70_000),
        "ObjectPool/_1234/deeper/note": b"a note",
        "Data": rng.randbytes(8 * 2**20),
    }
    # When they are written and the file opened with olefile
    with olefile.OleFileIO(io.BytesIO(compound_file(streams))) as ole:
        # Then it holds those streams, under those storages, byte for byte
        found = {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
    assert found == streams
