"""Notifier that appends events to a JSONL file: the laptop's event bus."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docproc.models import EVENT_SOURCE


def append_line(path: Path, line: str, mode: int = 0o644) -> None:
    """One write per line on an O_APPEND descriptor: lines from processes do not interleave."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


class JsonlNotifier:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        event = {
            "source": EVENT_SOURCE,
            "detail-type": detail_type,
            "time": datetime.now(UTC).isoformat(),
            "detail": detail,
        }
        append_line(self._path, json.dumps(event, default=str))

    def read(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        return [json.loads(line) for line in self._path.read_text().splitlines() if line]
