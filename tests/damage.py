"""Random damage to files' bytes, for tests that every damaged input gives text or a typed
error: anything else escapes the reading and fails the test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence


def damaged_copies(
    originals: Sequence[bytes], count: int, seed: int, cut_share: float = 0.0
) -> Iterator[bytes]:
    """``count`` copies of the originals, each with 1 to 8 bytes changed at random, or (at
    ``cut_share`` of the changes) cut short there."""
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            if rng.random() < cut_share:
                del data[at:]
                data += b"\x00"
            else:
                data[at] = rng.randrange(256)
        yield bytes(data)


def outcomes(
    read: Callable[[bytes], object], inputs: Iterator[bytes], typed: tuple[type[Exception], ...]
) -> dict[str, int]:
    """How many of ``inputs`` ``read`` read, and how many it refused with a ``typed`` error."""
    counts = {"read": 0, "refused": 0}
    for data in inputs:
        try:
            read(data)
        except typed:
            counts["refused"] += 1
        else:
            counts["read"] += 1
    return counts
