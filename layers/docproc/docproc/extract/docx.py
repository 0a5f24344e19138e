"""DOCX text through python-docx: paragraphs and tables in document order."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from docproc.errors import InvalidDocument

EXTRACTION_METHOD = "python-docx"


def docx_text(path: Path) -> str:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise InvalidDocument(f"not a readable DOCX: {type(exc).__name__}") from exc
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                blocks.append(" | ".join(cells))
        elif block.text.strip():
            blocks.append(block.text)
    return "\n\n".join(blocks)
