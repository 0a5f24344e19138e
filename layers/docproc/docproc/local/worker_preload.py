"""What the runner's workers need, loaded once by the fork server they fork from (see
docproc.local.workers): the pipeline's modules, PyMuPDF and the tokenizer's tables. A worker
then starts with them instead of importing and loading them in an interpreter of its own."""

from __future__ import annotations

import contextlib
import gc

import pymupdf  # noqa: F401

import docproc.local.vectors_server  # noqa: F401
from docproc.chunking.tokens import encoding, encoding_name_for_model, token_lengths
from docproc.config import ChunkingSettings
from docproc.local.runner import die_with_parent

# This module is imported by the fork server alone, as it starts.
die_with_parent()

# The tables of the tokenizer the settings name (the fork server has the runner's
# environment). A bad setting is the worker's to report, where the runner shows it.
with contextlib.suppress(Exception):
    _name = encoding_name_for_model(ChunkingSettings().tokenizer_model)
    encoding(_name)
    token_lengths(_name)

# What was loaded lives as long as the server and its workers: out of the garbage collector's
# sight, a worker's collections do not write to those objects' headers, so their pages stay
# shared with the server instead of being copied into each worker (the gc module's advice for
# processes that fork without exec).
gc.freeze()
