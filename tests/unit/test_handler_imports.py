"""A cold start imports only what the function uses: the zip functions' layer has no PyMuPDF,
tokenizer or openai, and qdrant-client alone costs ~0.8 s (make deploy-check times the built
artifacts; this catches a regression in a second, in the dev venv)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.harness import ROOT

# Modules that only the image's functions (Plan, ProcessSegment, Reindex) may load.
IMAGE_ONLY = {"pymupdf", "fitz", "semantic_text_splitter", "tiktoken", "openai", "docx", "av"}
# Loaded on a function's first invocation, by the functions that use them, never at import.
FIRST_USE = {"qdrant_client", "numpy", "pocketsphinx", "deepgram"}

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize(
    "function",
    [
        "start",
        "finalize",
        "notify_failure",
        "delete",
        "webhook",
        "plan",
        "process_segment",
        "reindex",
    ],
)
def test_a_handler_module_imports_no_heavy_library(function: str):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / function / "app.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert loaded & FIRST_USE == set()
    if function not in ("plan", "process_segment", "reindex"):
        assert loaded & IMAGE_ONLY == set()
